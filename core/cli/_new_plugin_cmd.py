"""``shoploop new-plugin NAME``: create an installable plugin project from the template."""

from __future__ import annotations

from pathlib import Path

import typer

from shoploop._template import PluginNameError, TargetExistsError, render_plugin

from ._state import console, console_err


def register(app: typer.Typer) -> None:
    @app.command("new-plugin")
    def new_plugin(
        name: str = typer.Argument(
            ..., help="Short name, e.g. 'acme_erp': becomes the connector type, the entry point "
                      "and the package shoploop_acme_erp.",
        ),
        directory: Path = typer.Option(
            Path("."), "--dir", "-d", help="Folder in which shoploop-<name>/ is created.",
        ),
        force: bool = typer.Option(
            False, "--force", help="Write the template over an existing, non-empty folder.",
        ),
    ) -> None:
        """Create a plugin project with a sample connector type, a derived attribute and tests.

        The generated tests run shoploop's connector conformance kit.
        """
        try:
            rendered = render_plugin(name, directory, force=force)
        except (PluginNameError, TargetExistsError) as exc:
            console_err.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
        root = rendered.root
        console.print(f"Created [bold]{root}[/] ({len(rendered.files)} files):", highlight=False)
        for path in rendered.files:
            console.print(f"  {path.relative_to(root)}", highlight=False, markup=False)
        console.print(
            "\nNext steps:\n"
            f"  cd {root}\n"
            '  pip install -e ".[test]"\n'
            "  pytest                      # runs the connector conformance kit\n"
            f"  shoploop plugins            # lists '{rendered.names.name}' and its connector type",
            highlight=False, markup=False,
        )
