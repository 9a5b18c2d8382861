"""The dashboard's panels over HTTP (a real loopback socket, no browser) on seeded
stores of both backends: storefront events per placement, the referral funnel and a code's
ledger with its rejection, the webhook deliveries with their errors.

A signed session cookie stands in for the login (the login itself is tested in the browser
test); every page here is in ``DASHBOARD_PAGES``, so that test also checks anonymous visitors
are refused on each.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from shoploop import load_plugins
from shoploop._config import parse_config
from shoploop._plugins import PluginHost
from shoploop.referral import FUNNEL
from shoploop.store import Store
from shoploop.web import create_app
from shoploop.web._dashboard import DASHBOARD_PAGES
from shoploop.web._messages import MESSAGES
from shoploop.web._panel_pages import LEDGER_SECTIONS
from shoploop.web._passwords import hash_password
from shoploop.web._sessions import COOKIE, Session, encode_session

SECRET = "panels-session-key-" + "0123456789abcdef" * 2


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return load_plugins(strict=True)


def _app(host: PluginHost, store: Store, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SHOPLOOP_SESSION_SECRET", SECRET)
    config = parse_config(
        # external: no worker thread processes the seeded deliveries while the page shows them.
        {"web": {"webhook_processing": "external",
                 "users": {"operator": hash_password("x" * 12, log2_n=10, parallelism=1)}}},
        host.connectors, file=str(tmp_path / "shoploop.toml"), base_dir=tmp_path)
    return create_app(host, config, store)


def _rows(html: str) -> list[list[str]]:
    """Every table row's cells (header cell first), as text."""
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)]


def _row(html: str, *first: str) -> list[str]:
    """The cells after ``first`` of the one row that starts with ``first``."""
    (found,) = [row[len(first):] for row in _rows(html) if tuple(row[:len(first)]) == first]
    return found


def test_the_panels_show_the_seeded_store(
        host: PluginHost, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        served: Callable[[Any], AbstractContextManager[str]],
        panels_seed: Callable[[Store], str]) -> None:
    with served(_app(host, store, tmp_path, monkeypatch)) as base, httpx.Client(
            base_url=base, timeout=60, cookies={COOKIE: encode_session(
                Session.for_user("operator", time.time()), SECRET)}) as client:
        _walk(client, store, panels_seed)


def _walk(client: httpx.Client, store: Store, panels_seed: Callable[[Store], str]) -> None:
    empty = {path: client.get(path) for path in DASHBOARD_PAGES if "{" not in path}
    assert {path: page.status_code for path, page in empty.items()} == dict.fromkeys(empty, 200)
    assert "No storefront events yet" in empty["/dashboard/recommendations"].text
    assert "No surveys sent yet" in empty["/dashboard/referrals"].text
    assert "No webhook deliveries received yet" in empty["/dashboard/webhooks"].text

    code = panels_seed(store)

    reco = client.get("/dashboard/recommendations").text
    assert _row(reco, "shop", "product_page") == ["40", "10", "3", "25.0 %", "7.5 %"]
    assert "Storefront events of shop · cart" in reco and 'data-slot="storefront' not in reco
    assert reco.count('<svg class="chart"') >= 2  # one chart per placement (+ the model's)

    referrals = client.get("/dashboard/referrals").text
    # As `shoploop referral funnel` prints it: each stage's count and rate of the one before.
    assert _row(referrals, "surveyed") == ["1", "—"]
    assert _row(referrals, "referred orders") == ["1", "100.0 %"]
    assert _row(referrals, "qualified") == ["0", "0.0 %"]
    overview = client.get("/dashboard").text
    assert "Referral funnel" in overview and 'data-slot="referral-funnel"' not in overview
    assert "<title>Referral funnel</title>" in overview

    ledger = client.get("/dashboard/referrals/ledger", params={"q": code.lower()})
    assert ledger.status_code == 200
    assert "self_referral" in ledger.text and "same person as the advocate" in ledger.text
    assert re.search(r"attributed</td><td><span class=\"status status-rejected\">rejected",
                     ledger.text)
    missing = client.get("/dashboard/referrals/ledger", params={"q": "<NOPE>"})
    assert missing.status_code == 404
    assert "No referral code or customer &lt;NOPE&gt; in the ledger" in missing.text

    hooks = client.get("/dashboard/webhooks").text
    assert re.search(r"<title>Webhook deliveries by status</title>.*failed.*>1<", hooks, re.S)
    # Only the deliveries with an error, newest first: the pending one, then the failed one.
    assert [row[5:] for row in _rows(hooks) if row[2:3] == ["orders/paid"]] == [
        ["0", "ERP timed out"], ["0", "ERP answered 503: &lt;service unavailable&gt;"]]

    german = client.get("/dashboard/webhooks", params={"lang": "de"}).text
    assert "Neueste Zustellungen mit Fehlern" in german


def test_every_funnel_stage_and_ledger_section_has_a_text_in_both_languages() -> None:
    # The templates get these labels computed (t("stage_" ~ …) would hide them from
    # test_pages' check of the keys templates use).
    keys = {f"stage_{stage}" for stage in FUNNEL} | {
        f"entry_{section}" for section in LEDGER_SECTIONS}
    for language in ("en", "de"):
        assert keys <= set(MESSAGES[language]), keys - set(MESSAGES[language])
