"""A throw-away PostgreSQL schema for a bench run (``bench_mirror.py``, ``bench_web_webhooks.py``).

Imported by the bench scripts, which run as ``python bench/<name>.py`` (their folder is on
``sys.path``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def postgres_schema(base: str) -> Iterator[str | None]:
    """The URL of a new, empty schema on the server at ``base`` for the block, dropped after it;
    None — with a line saying why — when the server cannot be reached, so the bench reports
    SQLite alone rather than failing."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(base, connect_args={"connect_timeout": 5})
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        print(f"postgresql: not measured ({type(exc).__name__}: {exc})")
        yield None
        return
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
