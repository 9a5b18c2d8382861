"""Shared fixtures for the erp_soap tests: the NAV emulator, connectors over it, and a small
non-NAV SOAP server answering the fixture WSDL ``acme_partners.wsdl`` (test-only)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from shoploop.emulation import EmulatorServer, Request, Response
from shoploop.hooks import EmulatorOptions
from shoploop.plugins.erp_soap import ErpSoapConfig, ErpSoapConnector, connector
from shoploop.plugins.erp_soap.emulator import ErpEmulator

HERE = Path(__file__).parent
PASSWORD_ENV = "SHOPLOOP_TEST_ERP_PASSWORD"


@pytest.fixture
def emulator() -> Iterator[ErpEmulator]:
    """An emptily seeded NAV emulator with basic auth; ``load`` data into it."""
    server = ErpEmulator(EmulatorOptions(customers=0, extra={"slow_seconds": "1.0"})).start()
    yield server
    server.stop()


@pytest.fixture
def make_erp(emulator: ErpEmulator, monkeypatch: pytest.MonkeyPatch,
             ) -> Iterator[Callable[..., ErpSoapConnector]]:
    """``make_erp(page_size=10, **config)``: a connector over the emulator (nav_page preset)."""
    monkeypatch.setenv(PASSWORD_ENV, emulator.password)
    made: list[ErpSoapConnector] = []

    def make(page_size: int = 10, mapping: dict[str, Any] | None = None,
             **settings: Any) -> ErpSoapConnector:
        sizes = {s: {"page_size": page_size} for s in
                 ("customers", "orders", "products", "installed_base")}
        for stream, section in (mapping or {}).items():
            sizes[stream] = {**sizes.get(stream, {}), **section} if isinstance(
                section, dict) else section
        config = ErpSoapConfig.model_validate({
            "type": "erp_soap", "wsdl": emulator.wsdl_url, "preset": "nav_page",
            "auth": "basic", "username": emulator.username, "password_env": PASSWORD_ENV,
            "operation_timeout": 5, "timeout": 5, "retries": 2, "mapping": sizes,
            **settings})
        made.append(connector("erp-test", config))
        return made[-1]

    yield make
    for item in made:
        item.close()


# -- a non-NAV SOAP server for acme_partners.wsdl ------------------------------------------------

ACME = "http://schemas.acme-erp.example/partners/2019"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_FIELDS = ("partnerId", "rowVersion", "displayName", "mail", "branch", "segment", "loyaltyTier",
           "changedAt")


class AcmeServer(EmulatorServer):
    """Partners sorted by id; FindPartners(query{criterion*, changedSince, resumeAfter,
    maxRows}) and ChangePartner(partner) with a row-version check."""

    def __init__(self, partners: int) -> None:
        super().__init__(self._answer)
        start = datetime(2025, 3, 1, tzinfo=UTC)
        self.partners = {
            f"BP-{n:04d}": {"partnerId": f"BP-{n:04d}", "rowVersion": "1",
                            "displayName": f"Partner {n} GmbH", "mail": f"p{n}@acme.example",
                            "branch": ["food", "retail", "medical"][n % 3],
                            "segment": ["A", "B", "C"][n % 3], "loyaltyTier": "",
                            "changedAt": (start + timedelta(hours=n)).isoformat()}
            for n in range(partners)}
        self.lock = threading.Lock()
        self.interfere: list[dict[str, str]] = []
        """Edits "another user" saves just before the next ChangePartner calls."""

    def _answer(self, request: Request) -> Response:
        body = etree.fromstring(request.body).find(f"{{{SOAP}}}Body")[0]  # type: ignore[index]
        op = etree.QName(body).localname
        with self.lock:
            if op == "FindPartners":
                return self._envelope(self._find(body))
            if op == "ChangePartner":
                return self._change(body)
        return Response(500, b"unknown operation")

    def _find(self, body: Any) -> str:
        query = body.find(f"{{{ACME}}}query")
        size = int(query.findtext(f"{{{ACME}}}maxRows"))
        after = query.findtext(f"{{{ACME}}}resumeAfter") or ""
        since = query.findtext(f"{{{ACME}}}changedSince")
        criteria = [(c.findtext(f"{{{ACME}}}attribute"), c.findtext(f"{{{ACME}}}expression"))
                    for c in query.findall(f"{{{ACME}}}criterion")]
        rows = []
        for key in sorted(self.partners):
            row = self.partners[key]
            if key <= after:
                continue
            if since and datetime.fromisoformat(row["changedAt"]) < datetime.fromisoformat(
                    since):
                continue
            if any(row.get(attr) not in expr.split("|") for attr, expr in criteria):
                continue
            rows.append(row)
            if len(rows) == size:
                break
        partners = "".join(self._partner(row) for row in rows)
        return (f'<FindPartnersResponse xmlns="{ACME}"><page><total>{len(self.partners)}</total>'
                f"{partners}</page><serverTime>{datetime.now(UTC).isoformat()}</serverTime>"
                "</FindPartnersResponse>")

    def _change(self, body: Any) -> Response:
        element = body.find(f"{{{ACME}}}partner")
        values = {etree.QName(c).localname: c.text or "" for c in element}
        row = self.partners.get(values.get("partnerId", ""))
        if row is not None and self.interfere:
            row.update(self.interfere.pop(0))
            row["rowVersion"] = str(int(row["rowVersion"]) + 1)
        if row is None:
            return self._fault(f"Partner {values.get('partnerId')} not found")
        if values.get("rowVersion") != row["rowVersion"]:
            return self._fault(f"Row version mismatch for partner {row['partnerId']}")
        row.update({k: v for k, v in values.items() if k not in ("partnerId", "rowVersion")})
        row["rowVersion"] = str(int(row["rowVersion"]) + 1)
        row["changedAt"] = datetime.now(UTC).isoformat()
        return self._envelope(f'<ChangePartnerResponse xmlns="{ACME}">{self._partner(row)}'
                              "</ChangePartnerResponse>")

    @staticmethod
    def _partner(row: dict[str, str]) -> str:
        return "<partner>" + "".join(f"<{f}>{escape(row[f])}</{f}>" for f in _FIELDS
                                     if row.get(f)) + "</partner>"

    @staticmethod
    def _envelope(inner: str) -> Response:
        return Response(200, f'<s:Envelope xmlns:s="{SOAP}"><s:Body>{inner}</s:Body>'
                             "</s:Envelope>".encode(), {"Content-Type": "text/xml"})

    @staticmethod
    def _fault(text: str) -> Response:
        return Response(500, (f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault><faultcode>'
                              f"s:Server</faultcode><faultstring>{escape(text)}</faultstring>"
                              "</s:Fault></s:Body></s:Envelope>").encode(),
                        {"Content-Type": "text/xml"})


@pytest.fixture
def acme() -> Iterator[AcmeServer]:
    server = AcmeServer(partners=23).start()
    yield server
    server.stop()
