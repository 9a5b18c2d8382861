"""`shoploop emulate shopify` end to end: the printed/written connection block and environment
connect `shoploop import` to the emulator; a re-run reads nothing (the checkpoint holds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path


def test_shoploop_emulate_shopify_and_import(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    block = tmp_path / "shopify.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "shoploop", "emulate", "shopify", "--customers", "120",
         "--seed", "3", "--config-out", str(block), "--connection", "shop",
         "--option", "restore_rate=1000", "--option", "bucket=2000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once the server is up
        assert " at http://127.0.0.1:" in first, first
        assert 'type = "shopify"' in block.read_text() and "access_token_env" in \
            block.read_text()
        for line in (tmp_path / "shopify.toml.env").read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = value
        (tmp_path / "shoploop.toml").write_text(block.read_text(), encoding="utf-8")

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "shoploop", *args], cwd=tmp_path,
                                  env=env, capture_output=True, text=True, timeout=120,
                                  check=False)

        assert cli("db", "upgrade").returncode == 0
        checked = cli("config", "check", "--json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["connections"]["shop"]["authorised"] is True
        done = cli("import", "customers", "--from", "shop", "--json")
        assert done.returncode == 0, done.stderr
        assert '"inserted": 120' in done.stdout
        again = cli("import", "customers", "--from", "shop", "--json")
        assert again.returncode == 0 and '"read": 0' in again.stdout
        url = first.split(" at ")[1].split()[0]
        with urllib.request.urlopen(f"{url}/_emulator/stats") as answer:
            stats = json.loads(answer.read())
        assert stats["requests"] >= 3 and stats["cost"] > 0 and stats["throttled"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
