"""``shoploop db upgrade|current``: create, migrate and inspect the store's schema.

Exit codes: 0 ok · 2 the store URL or schema is unusable · 3 the database is unreachable (the
store's errors carry them; the CLI's one error path prints them). The URL is always printed
with its password redacted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from ._state import State, console, print_json

if TYPE_CHECKING:
    from shoploop.store import Store


def _with_store(ctx: typer.Context, action: Callable[[Store], dict[str, Any]]) -> dict[str, Any]:
    # Imported here: SQLAlchemy and Alembic are not needed for `--help`.
    from shoploop.store import Store

    state: State = ctx.obj
    with Store(state.config(required=False).store_url) as store:
        return action(store)


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="The store (database): migrate and inspect its schema.",
                     no_args_is_help=True)
    app.add_typer(db, name="db")

    @db.command("upgrade")
    def upgrade(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Create the store's tables or migrate them to this version of shoploop.

        Safe to run at every deploy: a current schema is left as it is.
        """
        def run(store: Store) -> dict[str, Any]:
            previous = store.current_revision()
            revision = store.upgrade()
            return {"url": store.redacted_url, "revision": revision, "previous": previous,
                    "changed": previous != revision}

        data = _with_store(ctx, run)
        if as_json:
            print_json(data)
        elif data["changed"]:
            console.print(f"store {escape(data['url'])}: migrated "
                          f"{data['previous'] or '(empty)'} → {data['revision']}")
        else:
            console.print(f"store {escape(data['url'])}: already at {data['revision']}")

    @db.command("current")
    def current(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Show the store's schema revision and whether it is current."""
        def run(store: Store) -> dict[str, Any]:
            revision, head = store.current_revision(), store.head_revision()
            return {"url": store.redacted_url, "revision": revision, "head": head,
                    "up_to_date": revision == head}

        data = _with_store(ctx, run)
        if as_json:
            print_json(data)
            return
        state = "up to date" if data["up_to_date"] else "run `shoploop db upgrade`"
        console.print(f"store {escape(data['url'])}: revision {data['revision'] or '(empty)'}, "
                      f"this shoploop needs {data['head']} — {state}")
