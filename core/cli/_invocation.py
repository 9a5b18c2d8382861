"""How to run this shoploop again: the command the CLI's hints print.

After ``make install`` the user has ``.venv/bin/shoploop``, not ``shoploop`` on ``PATH``; a hint
that says ``shoploop …`` would then fail when copied. So the hints name the program that is
actually running, as short as it still works from the current directory.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

PROGRAM = "shoploop"


def _short(path: Path) -> str:
    """``path`` relative to the current directory when it is inside it, else absolute."""
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return str(relative) if relative.parts and relative.parts[0] != ".." else str(path)


def shoploop_command(argv0: str | None = None, path: str | None = None) -> str:
    """``shoploop`` when that name on ``PATH`` is the running program; otherwise the running
    script's path (e.g. ``.venv/bin/shoploop``), or ``<python> -m shoploop`` under ``-m``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    found = shutil.which(PROGRAM, path=path if path is not None else os.environ.get("PATH"))
    running = Path(argv0).absolute()
    if running.name == PROGRAM:  # the console script
        if found is not None and Path(found).resolve() == running.resolve():
            return PROGRAM
        return _short(running)
    # `python -m shoploop` (argv0 is …/shoploop/__main__.py) or an embedding: same interpreter.
    if found is not None and Path(found).resolve().parent == Path(sys.executable).parent.resolve():
        return PROGRAM
    return f"{_short(Path(sys.executable))} -m {PROGRAM}"
