"""The CLI over the emulator: `config check` lists the mapped operations it found and the
missing ones; `import` mirrors ERP customers; failures reach the operator as one clear line and
an exit code, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shoploop.hooks import EmulatorOptions
from shoploop.plugins.erp_soap.emulator import ErpEmulator


def _shoploop(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    environment.update(env, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "shoploop", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def served(tmp_path):
    server = ErpEmulator(EmulatorOptions(customers=40, extra={"slow_seconds": "1.5"})).start()
    block = server.connection_block("erp")
    (tmp_path / "shoploop.toml").write_text(
        block + "operation_timeout = 0.5\nretries = 0\n"
        "[connections.erp.mapping.customers]\npage_size = 15\n"
        "[connections.erp.mapping.installed_base]\npage = \"EquipmentCard\"\n")
    yield server, tmp_path, server.environment()
    server.stop()


def test_config_check_lists_found_and_missing_operations(served):
    _, cwd, env = served
    assert _shoploop("db", "upgrade", cwd=cwd, env=env).returncode == 0
    done = _shoploop("config", "check", "--json", cwd=cwd, env=env)
    result = json.loads(done.stdout)["connections"]["erp"]
    assert result["reachable"] and result["authorised"], result
    assert "Customer_Service.ReadMultiple" in result["detail"]
    assert "Customer_Service.Update" in result["detail"]
    assert result["warnings"] == [
        "mapped operation not in the WSDL: EquipmentCard_Service.ReadMultiple"]


def test_import_then_errors_without_traceback(served):
    server, cwd, env = served
    assert _shoploop("db", "upgrade", cwd=cwd, env=env).returncode == 0
    done = _shoploop("import", "customers", "--from", "erp", "--json", cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)["connections"][0]
    assert (row["read"], row["inserted"], row["pages"]) == (40, 40, 3)

    for kind, expected, status in (("fault", "SOAP fault a:Microsoft.Dynamics.Nav", 1),
                                   ("html500", "HTML error page", 3),
                                   ("slow", "operation_timeout", 3)):
        server.force(kind, 2)  # the WSDL load is a GET; both POSTs of a run fail
        done = _shoploop("import", "customers", "--from", "erp", "--full", "--json", cwd=cwd,
                         env=env)
        assert done.returncode == status, (kind, done.stdout, done.stderr)
        error = json.loads(done.stdout)["connections"][0]["error"]
        assert expected in error and "[erp] Customer_Service.ReadMultiple" in error, error
        assert "Traceback" not in done.stderr + done.stdout
        server.faults._forced.clear()
        server._forced.clear()
