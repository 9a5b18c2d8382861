"""A SOAP ERP emulator: NAV-style page web services over real HTTP (``shoploop emulate erp``).

Hand-written on the core's :class:`~shoploop.emulation.EmulatorServer` with lxml rather than
spyne: spyne 2.14 does not run on Python 3.12+ without a shim, and a static NAV-shaped WSDL plus
envelopes built with lxml reproduce the vendor's element names exactly. lxml is already a
runtime dependency (zeep needs it), so the emulator — which ``make demo`` runs — adds nothing.

Pages: ``Customer``, ``SalesLines``, ``Item``, ``ServiceItem`` (read by the adapter) and
``SalesCreditMemo``, ``SalesOrder`` (rewards). Behaviour: bookmark paging, a ``Key`` per record
that every modification changes (a stale key faults "Other user has modified …"), HTTP basic or
WS-Security UsernameToken authentication, faults on demand (:meth:`ErpEmulator.force`) and the
counters of ``GET /_emulator/stats`` (plus ``wsdl_loads``).
"""

from __future__ import annotations

import base64
import random
import threading
from collections import deque
from collections.abc import Iterable
from typing import Literal

from shoploop.emulation import EmulatorServer, FaultPlan, Request, Response
from shoploop.hooks import EmulatorOptions

from ._pages import PAGES, PageSpec, Table
from ._seed import CUSTOMER_ATTRIBUTE_FIELDS, Record, rows_for
from ._soap import SoapDispatcher, SoapFault, fault_envelope
from ._wsdl import DEFINITIONS_NS, render_wsdl

__all__ = ["CUSTOMER_ATTRIBUTE_FIELDS", "DEFINITIONS_NS", "PAGES", "ErpEmulator", "PageSpec",
           "Table"]

SERVICE_PATH = "/DynamicsNAV/WS/CRONUS"
SoapFaultKind = Literal["concurrency", "fault", "html500", "auth"]
_HTTP_KINDS = ("500", "502", "503", "429", "slow", "drop")
_SOAP_KINDS = ("concurrency", "fault", "html500", "auth")
_HTML_500 = (b"<!DOCTYPE html><html><head><title>500 - Internal server error.</title></head>"
             b"<body><h1>Server Error</h1><h2>500 - Internal server error.</h2><p>There is a "
             b"problem with the resource you are looking for.</p></body></html>")


class ErpEmulator(EmulatorServer):
    """The emulator. ``options.extra``: ``auth`` (basic | wsse | none, default basic),
    ``username``, ``password``, ``slow_seconds``, ``fault_kinds`` (what ``--faults RATE``
    draws from: ``500 502 503 429 slow drop`` at the HTTP level, ``concurrency fault html500
    auth`` as SOAP/NAV failures; default ``500,503,429,drop``). Seeded from the demo data
    generator with ``options.customers`` customers; :meth:`load` replaces the data (e.g. a
    conformance dataset)."""

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        options = options or EmulatorOptions()
        extra = dict(options.extra)
        kinds = [k.strip() for k in extra.get("fault_kinds", "500,503,429,drop").split(",")
                 if k.strip()]
        unknown = sorted(set(kinds) - set(_HTTP_KINDS) - set(_SOAP_KINDS))
        if unknown or not kinds:
            raise ValueError(f"fault_kinds: unknown {', '.join(unknown) or 'none given'}; "
                             f"choose from {', '.join((*_HTTP_KINDS, *_SOAP_KINDS))}")
        http = tuple(k for k in kinds if k in _HTTP_KINDS)
        # Each group gets its share of the rate, so --faults stays the overall share.
        self._soap_kinds = [k for k in kinds if k in _SOAP_KINDS]
        self._soap_rate = options.faults * len(self._soap_kinds) / len(kinds)
        self._soap_random = random.Random(f"erp-faults-{options.seed}")
        super().__init__(self._answer, host=options.host, port=options.port,
                         faults=FaultPlan(rate=options.faults * len(http) / len(kinds),
                                          seed=options.seed, kinds=http or ("500",),
                                          slow_seconds=float(extra.get("slow_seconds", "2"))))
        self.auth = extra.get("auth", "basic")
        if self.auth not in ("basic", "wsse", "none"):
            raise ValueError(f"auth must be basic, wsse or none, not {self.auth!r}")
        self.username = extra.get("username", "shoploop")
        self.password = extra.get("password", "emulator-secret")
        self.tables = {page.name: Table(page) for page in PAGES}
        for counter in ("wsdl_loads", "concurrency_faults"):  # listed in stats from the start
            self.stats.incr(counter, 0)
        self._forced: deque[SoapFaultKind] = deque()
        self._concurrency = 0
        self._lock = threading.Lock()
        self.dispatcher = SoapDispatcher(self.tables, on_write=lambda: self.stats.incr("writes"),
                                         before_update=self._before_update)
        if options.customers:
            from shoploop.demo_data import DemoMerchant

            demo = DemoMerchant(seed=options.seed, customers=options.customers)
            self.load(customers=demo.iter_customers(), orders=demo.iter_orders(),
                      products=demo.iter_products(), installed_base=demo.iter_installed_base())

    # -- data -----------------------------------------------------------------------------------

    def load(self, *, customers: Iterable[Record] = (), orders: Iterable[Record] = (),
             products: Iterable[Record] = (), installed_base: Iterable[Record] = ()) -> None:
        """Replace the served data with these domain records (models or JSON-shaped dicts)."""
        for page, records in (("Customer", customers), ("SalesLines", orders),
                              ("Item", products), ("ServiceItem", installed_base)):
            self.tables[page].replace(rows_for(page, records))
        for page in ("SalesCreditMemo", "SalesOrder"):
            self.tables[page].replace([])

    def touch(self, page: str, number: str, values: dict[str, str] | None = None) -> None:
        """Another user edits a record: its ``Key`` goes stale (and ``values`` change)."""
        table = self.tables[page]
        table.touch(table.pk({table.spec.primary_key[0]: number}), values)

    def force(self, kind: SoapFaultKind | str, times: int = 1) -> None:
        """Fail the next ``times`` SOAP calls: ``concurrency`` (the next updates find their key
        stale), ``fault`` (a NAV application fault), ``html500`` (an IIS HTML error page),
        ``auth`` (401), or an HTTP-level kind of the core's fault plan (``429``, ``500``,
        ``503``, ``slow``, ``drop``; ``throttle`` is ``429``)."""
        if kind == "throttle":
            kind = "429"
        if kind in _HTTP_KINDS:
            self.faults.force(kind, times)
        elif kind == "concurrency":
            with self._lock:
                self._concurrency += times
        elif kind in ("fault", "html500", "auth"):
            with self._lock:
                self._forced.extend([kind] * times)  # type: ignore[list-item]
        else:
            raise ValueError(f"unknown fault kind {kind!r}")

    def _before_update(self, table: Table, key: str) -> None:
        with self._lock:
            if self._concurrency <= 0:
                return
            self._concurrency -= 1
        pk, _ = table.decode_key(key)
        if pk in table._rows:
            table.touch(pk)

    # -- HTTP -----------------------------------------------------------------------------------

    @property
    def wsdl_url(self) -> str:
        """One WSDL with every page; ``page_wsdl_url`` is NAV's one-WSDL-per-page form."""
        return f"{self.url}{SERVICE_PATH}/Services?wsdl"

    @property
    def page_wsdl_url(self) -> str:
        return f"{self.url}{SERVICE_PATH}/Page/{{page}}"

    def _authorised(self, request: Request) -> bool:
        if self.auth != "basic":
            return True
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return request.headers.get("authorization", "") == f"Basic {expected}"

    def _answer(self, request: Request) -> Response:
        if not request.path.startswith(SERVICE_PATH):
            return Response.text("not found", 404)
        forced = None
        if request.method == "POST":
            with self._lock:
                forced = self._forced.popleft() if self._forced else None
                if forced is None and self._soap_kinds and \
                        self._soap_random.random() < self._soap_rate:
                    drawn = self._soap_random.choice(self._soap_kinds)
                    if drawn == "concurrency":
                        self._concurrency += 1  # the next update finds its key stale
                    else:
                        forced = drawn  # type: ignore[assignment]
        if forced == "auth" or not self._authorised(request):
            return Response(401, b"Unauthorized", {"Content-Type": "text/plain",
                                                   "WWW-Authenticate": 'Basic realm="NAV"'})
        if request.method == "GET":
            # NAV publishes one WSDL per page (…/Page/Customer); …/Services serves all pages
            # in one document (our own convenience: one zeep client for a whole connection).
            name = request.path.rsplit("/", 1)[-1]
            pages = tuple(p for p in PAGES if p.name == name) or PAGES
            if name != "Services" and len(pages) != 1:
                return Response.text(f"no page web service {name!r}", 404)
            self.stats.incr("wsdl_loads")
            return Response.text(render_wsdl(f"{self.url}{SERVICE_PATH}/Page", pages),
                                 content_type="text/xml")
        if forced == "html500":
            self.stats.incr("faulted")
            return Response(500, _HTML_500, {"Content-Type": "text/html; charset=utf-8"})
        try:
            operation, header = self.dispatcher.parse(request.body)
            if self.auth == "wsse" and self.dispatcher.username_token(header) != (
                    self.username, self.password):
                raise SoapFault("The security token could not be authenticated or authorized",
                                "wsse:FailedAuthentication")
            if forced == "fault":
                raise SoapFault("The field Blocked of table Customer contains a value (All) "
                                "that cannot be found in the related table.")
            body = self.dispatcher.answer(operation)
        except SoapFault as fault:
            self.stats.incr("faulted")
            if fault.text.startswith("Other user has modified"):
                self.stats.incr("concurrency_faults")
            return Response(fault.status, fault_envelope(fault),
                            {"Content-Type": "text/xml; charset=utf-8"})
        return Response(200, body, {"Content-Type": "text/xml; charset=utf-8"})

    # -- shoploop emulate -----------------------------------------------------------------------

    def connection_block(self, name: str) -> str:
        lines = [f"[connections.{name}]", 'type = "erp_soap"', f'wsdl = "{self.wsdl_url}"',
                 'preset = "nav_page"', f'auth = "{self.auth}"']
        if self.auth != "none":
            lines += [f'username = "{self.username}"', 'password_env = "SHOPLOOP_ERP_PASSWORD"']
        return "\n".join(lines) + "\n"

    def environment(self) -> dict[str, str]:
        return {"SHOPLOOP_ERP_PASSWORD": self.password} if self.auth != "none" else {}
