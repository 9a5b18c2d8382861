"""Alembic migrations of the store, run programmatically by ``Store.upgrade()``.

To add a migration after changing ``shoploop/store/_schema.py``::

    SHOPLOOP_DATABASE_URL=sqlite:////tmp/draft.db shoploop db upgrade
    .venv/bin/alembic -c core/store/alembic.ini -x url=sqlite:////tmp/draft.db \\
        revision --autogenerate -m "what changed"

then review the generated file (name the revision ``NNNN_<slug>``, keep it dialect-neutral)
and run ``tests/store`` — it checks migrations and metadata agree on SQLite and PostgreSQL.
"""
