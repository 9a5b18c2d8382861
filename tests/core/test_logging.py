"""Logging: JSON lines when asked, secrets redacted wherever they appear."""

from __future__ import annotations

import io
import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from shoploop._logging import configure_logging, redact, register_secret


def _capture(fmt: str) -> tuple[io.StringIO, logging.Logger]:
    stream = io.StringIO()
    configure_logging("DEBUG", fmt, stream=stream)
    return stream, logging.getLogger("shoploop.test")


def test_json_lines_carry_fields():
    stream, log = _capture("json")
    log.info("synced %d customers", 3, extra={"connection": "shop"})
    record = json.loads(stream.getvalue())
    assert record["message"] == "synced 3 customers"
    assert record["level"] == "info" and record["connection"] == "shop"


def test_registered_secret_is_redacted_in_message_and_traceback():
    register_secret("tok_9f8e7d6c5b4a")
    stream, log = _capture("text")
    try:
        raise RuntimeError("auth failed with tok_9f8e7d6c5b4a")
    except RuntimeError:
        log.exception("request with token tok_9f8e7d6c5b4a failed")
    assert "tok_9f8e7d6c5b4a" not in stream.getvalue()
    assert stream.getvalue().count("***") >= 2


def test_secret_patterns_without_registration():
    text = ("X-Shopify-Access-Token: shpat_abc123 url=https://user:hunter2@erp.example/ws "
            "?consumer_secret=cs_live_1&x=1 {\"password\": \"pw\"} Authorization: Basic dXNlcg==")
    out = redact(text)
    for secret in ("shpat_abc123", "hunter2", "cs_live_1", '"pw"', "dXNlcg=="):
        assert secret not in out
    assert "erp.example/ws" in out and "&x=1" in out


@given(secret=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=6,
                      max_size=40).filter(lambda s: s.strip() == s and "*" not in s),
       prefix=st.text(max_size=20), suffix=st.text(max_size=20))
def test_registered_secrets_never_survive(secret, prefix, suffix):
    register_secret(secret)
    assert secret not in redact(prefix + secret + suffix)


def test_secrets_resolved_from_config_are_redacted_automatically():
    from shoploop.plugins.shopify import ShopifyConfig

    settings = ShopifyConfig(type="shopify", shop="a.myshopify.com", access_token_env="TOK")
    token = settings.secret("access_token", {"TOK": "shpat_resolved_42"})
    stream, log = _capture("json")
    log.warning("calling with %s", token)
    assert "shpat_resolved_42" not in stream.getvalue()
