"""Where the store lives: resolve the URL from environment, config and defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from shoploop.hooks import ConfigError

ENV_VAR = "SHOPLOOP_DATABASE_URL"
DEFAULT_FILENAME = "shoploop.db"

# Bare driver names mapped to the driver shoploop ships with (psycopg 3, extra "postgres").
_DRIVER_DEFAULTS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
_SECRET_QUERY_KEYS = frozenset({"password", "passfile", "sslpassword", "sslkey"})
_MEMORY = {None, "", ":memory:"}


def _parse(raw: str, source: str) -> URL:
    try:
        return make_url(raw.strip())
    except ArgumentError as exc:
        raise ConfigError(
            f"not a database URL: {redact_url(raw)!r} ({exc})", key=source,
            remedy="use e.g. sqlite:///shoploop.db or postgresql://user@host/dbname",
        ) from None


def normalise_url(url: str | URL) -> URL:
    """Map bare ``postgresql://`` / ``postgres://`` to the psycopg 3 driver."""
    parsed = make_url(url) if isinstance(url, str) else url
    driver = _DRIVER_DEFAULTS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _sqlite_file(path: Path) -> str:
    return _render(URL.create("sqlite", database=str(path)))


def resolve_store_url(
    configured: str | None,
    config_dir: Path | None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The store URL to use.

    Precedence: ``SHOPLOOP_DATABASE_URL`` (non-empty) wins, then the config's ``[store] url``,
    else a SQLite file ``shoploop.db`` next to the config (in the working directory without
    a config). A relative SQLite path in the config is relative to ``config_dir``; ``~`` is
    expanded. A bare ``postgresql://`` URL gets the psycopg 3 driver.
    """
    env = os.environ if environ is None else environ
    from_env = (env.get(ENV_VAR) or "").strip()
    if from_env:
        return _render(normalise_url(_parse(from_env, ENV_VAR)))
    base = Path(config_dir) if config_dir is not None else Path.cwd()
    if configured is not None and configured.strip():
        url = normalise_url(_parse(configured, "store.url"))
        is_uri = url.query.get("uri") in ("true", "1")
        if url.get_backend_name() == "sqlite" and url.database not in _MEMORY and not is_uri:
            assert url.database is not None
            path = Path(url.database).expanduser()
            if not path.is_absolute():
                path = base / path
            url = url.set(database=str(path))
        return _render(url)
    return _sqlite_file((base / DEFAULT_FILENAME).absolute())


def redact_url(url: str | URL) -> str:
    """The URL with its password (and password-like query parameters) replaced by ``***``."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable database URL>"
    secret = {key: "***" for key in parsed.query if key.lower() in _SECRET_QUERY_KEYS}
    if secret:
        parsed = parsed.update_query_dict(secret)
    return parsed.render_as_string(hide_password=True)
