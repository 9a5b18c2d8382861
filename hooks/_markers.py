"""The pluggy markers every shoploop plugin uses."""

from __future__ import annotations

import pluggy

PROJECT_NAME = "shoploop"
"""The pluggy project name and the entry-point group plugins are loaded from."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
