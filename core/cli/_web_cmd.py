"""``shoploop web hash-password``: a password hash for ``[web] users`` (docs/web.md).

The password is read from a hidden prompt (typed twice) on a terminal, or from the first line
of standard input otherwise — never from the command line, where ``ps`` and the shell history
would keep it. Exit codes: 0 printed · 1 empty password or the two entries differ.
"""

from __future__ import annotations

import sys

import typer

from ._state import console_err


def _read_password() -> str:
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            console_err.print("[red]error:[/] the two passwords differ; nothing printed")
            raise typer.Exit(1)
        return first
    return sys.stdin.readline().rstrip("\r\n")


def register(app: typer.Typer) -> None:
    web = typer.Typer(help="The web application's helpers (see also `shoploop serve`).",
                      no_args_is_help=True)
    app.add_typer(web, name="web")

    @web.command("hash-password")
    def hash_password(
        user: str | None = typer.Option(
            None, "--user", help="Print a ready `NAME = \"hash\"` line for [web.users]."),
    ) -> None:
        """Hash a dashboard password (scrypt) read from a prompt or stdin, for the dashboard
        users of shoploop.toml (web.users)."""
        from shoploop.web._passwords import hash_password as make_hash
        from shoploop.web._settings import USER_NAME

        if user is not None and not USER_NAME.match(user):
            console_err.print(f"[red]error:[/] user name {user!r}: use 1-64 letters, digits "
                              "or . _ @ -")
            raise typer.Exit(1)
        password = _read_password()
        if not password:
            console_err.print("[red]error:[/] the password is empty; nothing printed")
            raise typer.Exit(1)
        hashed = make_hash(password)
        print(f'{user} = "{hashed}"' if user else hashed)
        if sys.stdout.isatty():
            console_err.print("Put it under [web.users] in shoploop.toml; the password "
                              "itself is stored nowhere.")
