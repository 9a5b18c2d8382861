"""``[referral.reward] kind`` is checked against the connections that would issue it, when the
config loads — not when the first referral qualifies weeks later."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoploop import load_plugins
from shoploop._config import parse_config
from shoploop.hooks import ConfigError

REGISTRY = load_plugins(
    environ={"SHOPLOOP_LOAD_PLUGINS": "shopify,woocommerce,erp_soap"}).connectors
SHOP = {"type": "shopify", "shop": "acme.myshopify.com", "access_token_env": "T"}
WOO = {"type": "woocommerce", "url": "https://woo.example", "consumer_key_env": "K",
       "consumer_secret_env": "S"}
REWARDS = {"credit_note": {"page": "SalesCreditMemo"}}


def _erp(rewards: dict | None = None) -> dict:
    return {"type": "erp_soap", "wsdl": "https://erp.example/Service?wsdl",
            "mapping": {"rewards": rewards} if rewards else {}}


def _parse(tmp_path: Path, referral: dict | None, **connections: dict):
    data: dict = {"connections": connections}
    if referral is not None:
        data["referral"] = referral
    return parse_config(data, REGISTRY, file=str(tmp_path / "shoploop.toml"),
                        base_dir=tmp_path)


@pytest.mark.parametrize("kind, connection", [
    ("gift_card", SHOP), ("discount_code", SHOP), ("coupon", WOO), ("discount_code", WOO)])
def test_a_kind_the_shop_issues_loads(tmp_path, kind, connection):
    config = _parse(tmp_path, {"shops": ["shop"], "reward": {"kind": kind}}, shop=connection)
    assert config.referral.reward.kind == kind


@pytest.mark.parametrize("kind, connection, offered", [
    ("credit_note", SHOP, "coupon, discount_code, gift_card"),
    ("gift_card", WOO, "coupon, discount_code")])
def test_a_kind_the_shop_cannot_issue_names_the_key_and_what_it_issues(
        tmp_path, kind, connection, offered):
    with pytest.raises(ConfigError) as caught:
        _parse(tmp_path, {"shops": ["shop"], "reward": {"kind": kind}}, shop=connection)
    assert caught.value.key == "referral.reward.kind"
    assert f"connection 'shop' cannot issue {kind!r} rewards; it issues: {offered}" in str(
        caught.value)
    assert "set [referral.reward] kind" in (caught.value.remedy or "")


def test_every_rewarding_connection_is_checked_when_no_target_is_named(tmp_path):
    with pytest.raises(ConfigError, match="connection 'woo' cannot issue 'gift_card'"):
        _parse(tmp_path, {"reward": {"kind": "gift_card"}}, shop=SHOP, woo=WOO)


def test_the_reward_connection_decides_not_the_shops(tmp_path):
    """Credit notes booked in the ERP for orders of a Shopify shop: the seed's set-up."""
    config = _parse(tmp_path, {"shops": ["shop"], "reward": {"kind": "credit_note",
                                                               "connection": "erp"}},
                    shop=SHOP, erp=_erp(REWARDS))
    assert config.referral.reward.connection == "erp"


def test_an_erp_without_reward_documents_issues_nothing(tmp_path):
    with pytest.raises(ConfigError, match=r"it issues: none \(no reward mapping\)"):
        _parse(tmp_path, {"reward": {"kind": "credit_note", "connection": "erp"}},
               shop=SHOP, erp=_erp())


def test_an_unknown_reward_connection_is_named(tmp_path):
    with pytest.raises(ConfigError) as caught:
        _parse(tmp_path, {"reward": {"connection": "ledger"}}, shop=SHOP)
    assert caught.value.key == "referral.reward.connection"
    assert "'ledger' is not configured" in str(caught.value)


@pytest.mark.parametrize("referral", [None, {"enabled": False}, {"reward": {"enabled": False}}])
def test_a_config_that_does_not_run_the_loop_is_not_checked(tmp_path, referral):
    """The loop's default kind (credit_note) must not fail a sync-only Shopify config."""
    assert _parse(tmp_path, referral, shop=SHOP).connections["shop"].type == "shopify"
