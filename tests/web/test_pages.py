"""The page layer: language choice, the texts of both languages, the headers every page
carries, and a dashboard that is disabled until users and a session key are configured."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from shoploop._config import Config
from shoploop._plugins import PluginHost
from shoploop.store import Store
from shoploop.web import choose_language, create_app
from shoploop.web._messages import LANGUAGES, MESSAGES

TEMPLATES = Path(__file__).resolve().parents[2] / "core" / "web" / "templates"


def _request(query: str = "", accept: str | None = None) -> Request:
    headers = [(b"accept-language", accept.encode("latin-1"))] if accept is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "query_string":
                    query.encode(), "headers": headers})


@pytest.mark.parametrize(("query", "accept", "expected"), [
    ("", None, "en"), ("", "de-CH, de;q=0.9, en;q=0.8", "de"), ("", "fr, de;q=0.5", "de"),
    ("", "en;q=0.4, de;q=0.9", "de"), ("", "de;q=0, en", "en"), ("", "fr, it", "en"),
    ("lang=en", "de", "en"), ("lang=DE", "", "de"), ("lang=xx", "de", "de"),
    ("", "*", "en"), ("", "de;q=abc, en;q=0.1", "en"),
])
def test_the_language_comes_from_the_query_then_accept_language(
        query: str, accept: str | None, expected: str) -> None:
    assert choose_language(_request(query, accept)) == expected


@settings(max_examples=40)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80))
def test_any_accept_language_header_gives_a_supported_language(header: str) -> None:
    assert choose_language(_request("", header)) in LANGUAGES


def test_both_languages_have_every_text_and_templates_use_only_known_keys() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["de"])
    placeholders = re.compile(r"\{(\w+)\}")
    for key, text in MESSAGES["en"].items():
        german = MESSAGES["de"][key]
        assert set(placeholders.findall(text)) == set(placeholders.findall(german)), key
    used = {key for path in TEMPLATES.rglob("*.html")
            for key in re.findall(r"""\bt\(\s*["'](\w+)["']""", path.read_text())}
    assert used and used <= set(MESSAGES["en"]), used - set(MESSAGES["en"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: these tests are about pages, which read nothing from the store (the
    dashboard's reads run on both backends in test_dashboard_data.py)."""
    with Store(f"sqlite:///{tmp_path / 'pages.db'}") as opened:
        opened.upgrade()
        yield opened


def _app(web: dict[str, Any], store: Store, host: PluginHost,
         make_config: Callable[[dict[str, Any]], Config]) -> Any:
    return create_app(host, make_config({"store": {"url": store.url}, "web": web}), store)


HASH = "scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43


def test_the_dashboard_is_disabled_without_users_or_without_a_session_key(
        store: Store, web_host: PluginHost, monkeypatch: pytest.MonkeyPatch,
        make_config: Callable[[dict[str, Any]], Config],
        served: Callable[[Any], AbstractContextManager[str]]) -> None:
    monkeypatch.delenv("SHOPLOOP_TEST_SESSION_KEY", raising=False)
    no_users = _app({}, store, web_host, make_config)
    with served(no_users) as base, httpx.Client(base_url=base) as client:
        for path in ("/dashboard", "/dashboard/login", "/dashboard/runs"):
            page = client.get(path, follow_redirects=False)
            assert page.status_code == 404, path
            assert "shoploop web hash-password" in page.text and "<main" in page.text
            assert "set-cookie" not in page.headers
        german = client.get("/dashboard", headers={"Accept-Language": "de"})
        assert '<html lang="de">' in german.text and "kein Standardpasswort" in german.text
    no_key = _app({"users": {"alice": HASH}, "session_secret_env": "SHOPLOOP_TEST_SESSION_KEY"},
                  store, web_host, make_config)
    monkeypatch.setenv("SHOPLOOP_TEST_SESSION_KEY", "too short")
    with served(no_key) as base, httpx.Client(base_url=base) as client:
        page = client.get("/dashboard/login")
        assert page.status_code == 404 and "SHOPLOOP_TEST_SESSION_KEY" in page.text
        assert "too short" not in page.text


def test_pages_carry_the_security_headers_and_the_stylesheet_is_served(
        store: Store, web_host: PluginHost, monkeypatch: pytest.MonkeyPatch,
        make_config: Callable[[dict[str, Any]], Config],
        served: Callable[[Any], AbstractContextManager[str]]) -> None:
    monkeypatch.setenv("SHOPLOOP_SESSION_SECRET", "s" * 40)
    app = _app({"users": {"alice": HASH}, "base_url": "https://loop.example.com"}, store,
               web_host, make_config)
    with served(app) as base, httpx.Client(base_url=base) as client:
        page = client.get("/dashboard/login?lang=de")
        assert page.status_code == 200
        assert page.headers["content-language"] == "de"
        assert "script-src" not in page.headers["content-security-policy"]  # none allowed
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        cookie = page.headers["set-cookie"].lower()
        for flag in ("httponly", "samesite=lax", "secure", "path=/dashboard"):
            assert flag in cookie, flag
        assert "<script" not in page.text
        assert 'name="csrf_token"' in page.text and 'for="username"' in page.text
        css = client.get("/static/shoploop.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
