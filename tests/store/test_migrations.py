"""Migrations: up from empty on every backend, in step with the metadata, schema checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import shoploop.store._store as store_module
from shoploop.store import (
    Base,
    SchemaAheadError,
    SchemaOutdatedError,
    Store,
    StoreError,
    StoreUnavailableError,
    counts,
)
from shoploop.store._store import SQLITE_CACHE_KIB

CORE_TABLES = {
    "identity_bindings", "sync_cursors", "sync_runs", "customers", "products", "orders",
    "order_lines", "installed_base",
    "sync_target_state", "sync_batches", "sync_changes", "erased_customers",
    "reco_models", "reco_published", "record_digests", "webhook_deliveries", "web_events",
    "referral_surveys", "referral_invitations", "referral_codes", "referrals",
    "referral_rewards", "referral_transitions", "referral_opt_outs",
    "referral_visits", "experiment_assignments",
}

EXTRA_MIGRATION = '''
"""A later issue's migration (test only)."""
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("later_feature", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("later_feature")
'''


def test_upgrade_from_empty_creates_every_table(store_url: str):
    with Store(store_url) as store:
        assert store.current_revision() is None
        revision = store.upgrade()
        assert revision == store.head_revision() == store.current_revision()
        with store.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
        assert CORE_TABLES | {"alembic_version"} <= tables
        assert store.upgrade() == revision  # a second upgrade is a no-op
        with store.session() as session:
            assert counts(session) == dict.fromkeys(sorted(CORE_TABLES), 0)


def test_migrated_schema_matches_the_metadata(store: Store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migrations_downgrade_to_empty_and_up_again(store: Store):
    with store.engine.begin() as connection:
        config = store._alembic_config(connection)
        command.downgrade(config, "base")
    assert store.current_revision() is None
    with store.engine.connect() as connection:
        assert CORE_TABLES.isdisjoint(inspect(connection).get_table_names())
    assert store.upgrade() == store.head_revision()


def test_an_empty_database_asks_for_db_upgrade(store_url: str):
    with Store(store_url) as store, pytest.raises(SchemaOutdatedError) as info, store.session():
        pass
    assert "no shoploop schema" in str(info.value)
    assert "shoploop db upgrade" in info.value.remedy


def test_missing_sqlite_file_is_not_created_by_reading_its_revision(tmp_path: Path):
    path = tmp_path / "nowhere" / "shoploop.db"
    with Store(f"sqlite:///{path}") as store:
        assert store.current_revision() is None
        assert not path.exists()
        store.upgrade()  # creates the folder and the file
    assert path.exists()


def test_a_schema_behind_the_code_is_detected_and_upgraded(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A newer shoploop (one more migration) meets a database migrated by this one."""
    migrations = tmp_path / "migrations"
    shutil.copytree(store_module.MIGRATIONS, migrations,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / "9001_later_feature.py").write_text(
        EXTRA_MIGRATION.format(head=store.head_revision()))
    monkeypatch.setattr(store_module, "MIGRATIONS", migrations)

    with Store(store.url) as newer:
        with pytest.raises(SchemaOutdatedError) as info, newer.session():
            pass
        assert f"is at revision {store.head_revision()!r}" in str(info.value)
        assert "needs '9001'" in str(info.value)
        assert "shoploop db upgrade" in str(info.value)
        assert newer.upgrade() == "9001"
        with newer.session() as session:
            assert session.execute(text("SELECT count(*) FROM later_feature")).scalar() == 0


def test_a_schema_ahead_of_the_code_is_detected(store: Store):
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'fffffff'"))
    with Store(store.url) as older, pytest.raises(SchemaAheadError) as info, older.session():
        pass
    assert "'fffffff'" in str(info.value) and "Upgrade shoploop" in str(info.value)


def test_session_commits_on_success_and_rolls_back_on_error(store: Store):
    with store.session() as session:
        session.execute(text("INSERT INTO sync_runs (id, job, started_at, status, summary) "
                             "VALUES ('a', 'j', CURRENT_TIMESTAMP, 'running', '{}')"))
    with pytest.raises(RuntimeError), store.session() as session:
        session.execute(text("INSERT INTO sync_runs (id, job, started_at, status, summary) "
                             "VALUES ('b', 'j', CURRENT_TIMESTAMP, 'running', '{}')"))
        raise RuntimeError("boom")
    with store.session() as session:
        assert session.execute(text("SELECT id FROM sync_runs")).scalars().all() == ["a"]


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path):
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.upgrade()
        with store.session() as session:
            pragma = session.connection().exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() >= 5000
            assert pragma("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB


def test_unreachable_database_is_a_clear_error_without_the_password():
    with Store("postgresql://shop:s3cr3t@127.0.0.1:1/x") as store, \
            pytest.raises(StoreUnavailableError) as info:
        store.current_revision()
    message = str(info.value)
    assert "s3cr3t" not in message and "shop:***@127.0.0.1:1" in message
    assert "SHOPLOOP_DATABASE_URL" in message


def test_unsupported_backend_is_refused():
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        Store("mysql://db/x")
