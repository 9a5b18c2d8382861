"""A working plugin: one derived attribute and one CLI command."""

from __future__ import annotations

import typer

from shoploop.hooks import CustomerProfile, HookContext, hookimpl

IMPORTED = True


@hookimpl
def customer_attributes(context: HookContext, profile: CustomerProfile) -> dict[str, object]:
    return {"vip": len(profile.orders) >= 3}


@hookimpl
def register_commands(cli: typer.Typer) -> None:
    @cli.command("vip-hello")
    def vip_hello() -> None:
        """Say hello from the vip fixture plugin."""
        typer.echo("hello from vip")
