"""The ``shoploop`` command line (Typer + Rich)."""

from ._app import main

__all__ = ["main"]
