"""Importing this module leaves a trace; SHOPLOOP_DISABLE_PLUGINS must block it *before* import."""

import os

marker = os.environ.get("SHOPLOOP_FIXTURE_IMPORT_MARKER")
if marker:
    with open(marker, "a", encoding="utf-8") as fh:
        fh.write("imported\n")
