"""Plumbing for platform emulators (real servers on loopback, used by tests, the demo and
benchmarks): an HTTP/1.1 keep-alive server that counts connections, injects platform-typical
faults on demand and serves ``GET /_emulator/stats``.

    from shoploop.emulation import EmulatorServer, FaultPlan, Response

    def handler(request):
        return Response.json({"hello": request.path})

    with EmulatorServer(handler, faults=FaultPlan(rate=0.05, seed=1)) as server:
        ...  # server.url, server.stats.snapshot()
"""

from ._faults import ALL_KINDS, FaultKind, FaultPlan
from ._server import STATS_PATH, EmulatorServer, Handler, Request, Response
from ._stats import EmulatorStats

__all__ = ["ALL_KINDS", "STATS_PATH", "EmulatorServer", "EmulatorStats", "FaultKind",
           "FaultPlan", "Handler", "Request", "Response"]
