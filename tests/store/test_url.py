"""Where the store lives: resolve_store_url precedence and URL hygiene."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from shoploop.hooks import ConfigError
from shoploop.store import redact_url, resolve_store_url

# Path characters that need no URL escaping ("%" would be URL-decoded, as it should be);
# whitespace around a whole URL is ignored, so no segment starts or ends with a space.
segment = st.text(string.ascii_letters + string.digits + " _-.@#", min_size=1, max_size=12) \
    .filter(lambda s: s == s.strip() and s.strip(".") != "")
relative_paths = st.lists(segment, min_size=1, max_size=3).map(lambda parts: Path(*parts))
config_dirs = st.lists(segment, min_size=0, max_size=3).map(lambda parts: Path("/", *parts))
env_urls = st.sampled_from([
    "sqlite:////var/lib/shoploop/x.db",
    "postgresql://shop:secret@db.example:5432/shoploop",
    "postgresql+psycopg://shop@db/shoploop",
])


def database_of(url: str) -> Path:
    database = make_url(url).database
    assert database is not None
    return Path(database)


@given(config_dir=config_dirs, relative=relative_paths)
def test_relative_sqlite_path_is_relative_to_the_config(config_dir: Path, relative: Path):
    url = resolve_store_url(f"sqlite:///{relative}", config_dir, environ={})
    assert database_of(url) == config_dir / relative


@given(config_dir=config_dirs)
def test_default_is_shoploop_db_next_to_the_config(config_dir: Path):
    url = resolve_store_url(None, config_dir, environ={})
    assert make_url(url).get_backend_name() == "sqlite"
    assert database_of(url) == config_dir / "shoploop.db"


@given(config_dir=config_dirs, configured=st.none() | relative_paths, env=env_urls)
def test_environment_wins_over_config_and_default(config_dir, configured, env):
    configured_url = None if configured is None else f"sqlite:///{configured}"
    url = resolve_store_url(configured_url, config_dir, environ={"SHOPLOOP_DATABASE_URL": env})
    expected = make_url(env)
    if expected.drivername == "postgresql":
        expected = expected.set(drivername="postgresql+psycopg")
    assert make_url(url) == expected


@given(config_dir=config_dirs, relative=relative_paths)
def test_an_empty_environment_variable_does_not_count(config_dir: Path, relative: Path):
    url = resolve_store_url(f"sqlite:///{relative}", config_dir,
                            environ={"SHOPLOOP_DATABASE_URL": "  "})
    assert database_of(url) == config_dir / relative


def test_without_config_the_default_is_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert database_of(resolve_store_url(None, None, environ={})) == tmp_path / "shoploop.db"


def test_absolute_sqlite_path_and_memory_are_kept(tmp_path):
    absolute = tmp_path / "elsewhere" / "s.db"
    assert database_of(resolve_store_url(f"sqlite:///{absolute}", Path("/etc"), {})) == absolute
    assert resolve_store_url("sqlite://", Path("/etc"), {}) == "sqlite://"


def test_home_is_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert database_of(resolve_store_url("sqlite:///~/s.db", Path("/etc"), {})) == \
        tmp_path / "s.db"


@pytest.mark.parametrize("bare", ["postgresql", "postgres"])
def test_bare_postgresql_gets_the_psycopg3_driver(bare: str):
    url = resolve_store_url(f"{bare}://shop:pw@db:5432/shoploop", Path("/etc"), {})
    assert url == "postgresql+psycopg://shop:pw@db:5432/shoploop"
    from_env = resolve_store_url(None, None, {"SHOPLOOP_DATABASE_URL": f"{bare}://db/x"})
    assert from_env == "postgresql+psycopg://db/x"


def test_an_explicit_driver_is_respected():
    url = "postgresql+psycopg2://db/x"
    assert resolve_store_url(url, None, {}) == url


def test_garbage_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError) as info:
        resolve_store_url("not a url", Path("/etc"), {})
    assert info.value.key == "store.url"
    with pytest.raises(ConfigError) as info:
        resolve_store_url(None, None, {"SHOPLOOP_DATABASE_URL": "::"})
    assert info.value.key == "SHOPLOOP_DATABASE_URL"


def test_redaction_hides_passwords_everywhere():
    redacted = redact_url("postgresql://shop:s3cr3t@db/x?password=s3cr3t&sslmode=require")
    assert "s3cr3t" not in redacted
    assert "shop:***@db" in redacted and "sslmode=require" in redacted
    assert redact_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
