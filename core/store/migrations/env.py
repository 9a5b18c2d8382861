"""Alembic environment. ``Store.upgrade()`` passes an open connection in
``config.attributes["connection"]``; the developer CLI (``alembic -c core/store/alembic.ini
-x url=…``) passes a URL instead."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from shoploop.store._schema import Base
from shoploop.store._url import normalise_url

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass the database with: alembic -x url=<database URL> …")
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("shoploop migrations run online only (use `shoploop db upgrade`)")
run_migrations_online()
