"""Config validation: every problem names the file and key path and exits 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoploop import load_plugins
from shoploop._config import load_config, parse_config
from shoploop.hooks import ConfigError

REGISTRY = load_plugins(
    environ={"SHOPLOOP_LOAD_PLUGINS": "shopify,woocommerce,erp_soap"}).connectors


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shoploop.toml"
    path.write_text(text)
    return path


def test_wrong_type_at_url_exits_2_naming_the_key(tmp_path, run_cli):
    _write(tmp_path, '[connections.x]\ntype = "woocommerce"\nurl = 42\n')
    done = run_cli("config", "check", cwd=tmp_path)
    assert done.returncode == 2
    assert "connections.x.url" in done.stderr
    assert str(tmp_path / "shoploop.toml") in done.stderr.replace("\n", "")
    assert "Traceback" not in done.stderr + done.stdout


def test_error_names_file_key_and_expectation(tmp_path):
    path = _write(tmp_path, '[connections.shop]\ntype = "shopify"\nshop = "acme.myshopify.com"\n'
                            'timeout = "soon"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, REGISTRY)
    err = caught.value
    assert err.file == str(path) and err.key == "connections.shop.timeout"
    assert "valid number" in str(err) and "'soon'" in str(err)


def test_unknown_type_suggests_the_right_one(tmp_path):
    path = _write(tmp_path, '[connections.shop]\ntype = "shopfy"\n')
    with pytest.raises(ConfigError, match=r"did you mean 'shopify'") as caught:
        load_config(path, REGISTRY)
    assert caught.value.key == "connections.shop.type"


def test_unknown_key_lists_allowed_keys(tmp_path):
    path = _write(tmp_path, '[connections.w]\ntype = "woocommerce"\nurl = "https://s.example"\n'
                            'verify_ssl = false\n')
    with pytest.raises(ConfigError, match="did you mean 'verify_tls'") as caught:
        load_config(path, REGISTRY)
    assert caught.value.key == "connections.w.verify_ssl"


@pytest.mark.parametrize(("toml", "key", "suggestion", "table_key"), [
    ('[sync]\nmatch_key = ["email"]\n', "sync.match_key", "match_keys", "link_attribute"),
    ('[sync.attributes.group]\nmaster = "erp"\nfeild = "x"\n', "sync.attributes.group.feild",
     "field", "policy"),
    ('[sync.attributes.group]\nmaster = "erp"\n[sync.attributes.group.targets.shop]\n'
     'kee = "x"\n', "sync.attributes.group.targets.shop.kee", "key", "transform"),
    ('[attributes]\nloyal_min_order = 3\n', "attributes.loyal_min_order", "loyal_min_orders",
     "monetary"),
])
def test_unknown_key_in_a_nested_table_suggests_a_key_of_that_table(tmp_path, toml, key,
                                                                     suggestion, table_key):
    """The suggestion and the allowed keys come from the table the key is in, not the top
    level (an unknown key under [sync] used to list store, logging, connections, …)."""
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, toml), REGISTRY)
    assert caught.value.key == key
    message = str(caught.value)
    assert f"did you mean {suggestion!r}" in message
    assert table_key in message and "connections" not in message.split("allowed keys")[1]


def test_the_sync_table_is_validated_once_into_typed_settings(tmp_path):
    from shoploop.sync import SyncSettings

    config = load_config(_write(tmp_path, '[sync]\nmatch_keys = ["vat_id", "email"]\n'
                                          '[sync.attributes.group]\nmaster = "erp"\n'),
                         REGISTRY)
    assert isinstance(config.sync, SyncSettings)
    assert config.sync.match_keys == ["vat_id", "email"]
    assert config.sync.attributes["group"].master == "erp"
    assert load_config(None, REGISTRY, required=False).sync == SyncSettings()


def test_inline_secret_is_rejected_without_echoing_it(tmp_path):
    path = _write(tmp_path, '[connections.shop]\ntype = "shopify"\nshop = "a.myshopify.com"\n'
                            'access_token = "shpat_supersecret"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, REGISTRY)
    assert "access_token_env" in str(caught.value)
    assert "shpat_supersecret" not in str(caught.value)


def test_secret_resolves_from_environment(tmp_path):
    path = _write(tmp_path, '[connections.shop]\ntype = "shopify"\nshop = "a.myshopify.com"\n'
                            'access_token_env = "SHOP_TOKEN"\n')
    config = load_config(path, REGISTRY)
    settings_ = config.connections["shop"].settings
    assert settings_.secret("access_token", {"SHOP_TOKEN": "shpat_x"}) == "shpat_x"
    with pytest.raises(ConfigError, match="export SHOP_TOKEN"):
        settings_.secret("access_token", {})


def test_toml_syntax_error_names_position(tmp_path):
    path = _write(tmp_path, "[connections.x\n")
    with pytest.raises(ConfigError, match=r"line 1") as caught:
        load_config(path, REGISTRY)
    assert caught.value.file == str(path)


def test_missing_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="shoploop init"):
        load_config(None, REGISTRY, environ={})
    assert load_config(None, REGISTRY, required=False, environ={}).connections == {}
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", REGISTRY, environ={})


def test_store_url_default_is_sqlite_next_to_config(tmp_path):
    path = _write(tmp_path, "")
    config = load_config(path, REGISTRY, environ={})
    assert config.store_url.startswith("sqlite")
    assert str(tmp_path / "shoploop.db") in config.store_url
    env = {"SHOPLOOP_DATABASE_URL": "postgresql+psycopg://u@h/db"}
    assert load_config(path, REGISTRY, environ=env).store_url == env["SHOPLOOP_DATABASE_URL"]


def test_init_writes_a_config_that_validates(tmp_path, run_cli):
    done = run_cli("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    again = run_cli("init", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    checked = run_cli("config", "check", "--offline", "--json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    data = json.loads(checked.stdout)
    assert data["valid"] and data["connections"]["erp_files"]["type"] == "files"


def test_check_reports_unreachable_connection_with_exit_3(tmp_path, run_cli):
    _write(tmp_path, '[connections.shop]\ntype = "shopify"\nshop = "a.myshopify.com"\n')
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    done = run_cli("config", "check", "--json", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    result = json.loads(done.stdout)["connections"]["shop"]
    assert result["reachable"] is False and result["detail"]


scalars = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(max_size=30),
                    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                         st.integers(), max_size=2))


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["url", "timeout", "concurrency", "verify_tls", "query_string_auth",
                            "nonsense"]), value=scalars)
def test_any_bad_value_is_a_config_error_naming_the_key(key, value):
    table = {"type": "woocommerce", "url": "https://shop.example", key: value}
    try:
        config = parse_config({"connections": {"x": table}}, REGISTRY, file="f.toml",
                              base_dir=Path("."), environ={})
    except ConfigError as exc:
        assert exc.file == "f.toml"
        assert exc.key is not None and exc.key.startswith("connections.x.")
    else:
        assert key != "nonsense"
        assert config.connections["x"].type == "woocommerce"


def test_webhook_processing_on_the_queue_needs_the_celery_backend(tmp_path):
    path = _write(tmp_path, '[web]\nwebhook_processing = "queue"\n')
    with pytest.raises(ConfigError, match="needs the celery backend") as caught:
        load_config(path, REGISTRY)
    assert caught.value.key == "web.webhook_processing"
    assert 'backend = "celery"' in (caught.value.remedy or "")
