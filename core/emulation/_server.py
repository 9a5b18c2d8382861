"""A small HTTP/1.1 server for platform emulators: real sockets on loopback, keep-alive
(so clients' connection reuse is visible), a connection counter, faults on demand, and
``GET /_emulator/stats``.

An emulator supplies one ``handler(request) -> Response``; routing inside it is its own.
Standard library only: emulators run in ``make demo`` and in tests, so they must not pull in a
web framework.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._faults import FaultPlan
from ._stats import EmulatorStats

CONTROL_PREFIX = "/_emulator/"
"""The emulators' own endpoints (stats, faults on demand): never a platform write."""
STATS_PATH = CONTROL_PREFIX + "stats"
POLL_SECONDS = 0.02
"""How often the serving loop checks for ``stop()`` (socketserver's 0.5 s makes every stop slow)."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
             ) -> Response:
        return cls(status, json.dumps(data, default=str).encode(),
                   {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Response:
        return cls(status, text.encode(), {"Content-Type": f"{content_type}; charset=utf-8"})


Handler = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: EmulatorServer

    def process_request(self, request: Any, client_address: Any) -> None:
        self.emulator.stats.incr("connections")
        super().process_request(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connection reuse is what clients are judged on
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms ACK stall
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None  # quiet; the stats endpoint counts what matters

    def _handle(self) -> None:
        emulator = self.server.emulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(method=self.command, path=parts.path,
                          query=parse_qs(parts.query, keep_blank_values=True),
                          headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        if parts.path == STATS_PATH:
            self._send(Response.json(emulator.stats.snapshot()))
            return
        emulator.stats.incr("requests")
        fault = emulator.faults.draw()
        if fault == "drop":
            emulator.stats.incr("faulted")
            self.close_connection = True
            self.connection.close()
            return
        if fault == "slow":
            emulator.stats.incr("faulted")
            time.sleep(emulator.faults.slow_seconds)  # the server is slow; clients must time out
        elif fault == "429":
            emulator.stats.incr("throttled")
            self._send(Response.json({"errors": "Too Many Requests"}, 429,
                                     {"Retry-After": f"{emulator.faults.retry_after:g}"}))
            return
        elif fault is not None:
            emulator.stats.incr("faulted")
            self._send(Response.text(f"emulated {fault} error", int(fault)))
            return
        try:
            response = emulator.handler(request)
        except Exception as exc:  # an emulator bug must show up as a 500, not a hung client
            response = Response.text(f"emulator error: {type(exc).__name__}: {exc}", 500)
        if request.method != "GET" and response.status < 300 \
                and not parts.path.startswith(CONTROL_PREFIX):
            lost = emulator.faults.draw_lost()
            if lost is not None:  # applied, but the answer is lost on its way back
                emulator.stats.incr("lost_answers")
                response = Response.text(f"<html><body>{lost} {HTTPStatus(lost).phrase}"
                                         "</body></html>", lost, "text/html")
        self._send(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout on a "slow" fault): expected, not an error.
            self.close_connection = True


class EmulatorServer:
    """Serve ``handler`` on ``host:port`` (port 0: any free port) in a background thread.

        with EmulatorServer(handler, faults=FaultPlan(rate=0.05, seed=1)) as server:
            requests.get(server.url + "/…")
            server.stats.get("requests")
    """

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0,
                 stats: EmulatorStats | None = None, faults: FaultPlan | None = None) -> None:
        self.handler = handler
        self.stats = stats or EmulatorStats()
        self.faults = faults or FaultPlan()
        self._server = _Server((host, port), _RequestHandler)
        self._server.emulator = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            args=(POLL_SECONDS,),
                                            name=f"emulator:{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Block serving (for ``shoploop emulate``); returns after ``stop()``."""
        self._server.serve_forever(POLL_SECONDS)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
