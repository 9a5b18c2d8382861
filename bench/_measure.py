"""Run a command and report its own peak memory and CPU time: ``python _measure.py OUT CMD…``.

The bench seeds its emulators in its own process, which grows to gigabytes. Linux keeps
``ru_maxrss`` across ``execve`` and ``subprocess`` starts children with ``vfork`` (the child
shares the parent's memory until it execs), so a child started straight from the bench
reports the *bench's* peak. This small launcher starts the command from a small process, so
what ``wait4`` reports is the command's own peak. OUT receives
``{"exit_code", "peak_mb", "cpu_s"}`` as JSON; the command's stdout and stderr pass through.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main() -> None:
    out, command = sys.argv[1], sys.argv[2:]
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w") as handle:
        json.dump({"exit_code": code, "peak_mb": usage.ru_maxrss / 1024,  # KiB on Linux
                   "cpu_s": usage.ru_utime + usage.ru_stime}, handle)
    sys.exit(code)


if __name__ == "__main__":
    main()
