"""Benchmark the erp_soap adapter: records per second reading customers from the SOAP ERP
emulator over HTTP (zeep, bookmark paging, mapping to ``Customer`` models).

    .venv/bin/python bench/bench_erp_soap.py [--customers N] [--page-size P]

The baseline, measured in the same process against the same server: the same ReadMultiple
pages fetched with a bare ``requests`` POST of a hand-written envelope and parsed with lxml into
plain dicts — no zeep, no models. The ratio (adapter time / baseline time) is what the adapter
costs beyond the wire and XML parsing on this machine, so figures from machines of different
speed (or a busy shared one) stay comparable. Server time is part of both.
"""

from __future__ import annotations

import argparse
import os
import time
from xml.sax.saxutils import escape

import requests
from lxml import etree

from shoploop.demo_data import DemoMerchant
from shoploop.hooks import EmulatorOptions
from shoploop.plugins.erp_soap import ErpSoapConfig, connector
from shoploop.plugins.erp_soap.emulator import ErpEmulator

NS = "urn:microsoft-dynamics-schemas/page/customer"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def read_with_adapter(url: str, page_size: int) -> int:
    erp = connector("bench", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": url, "preset": "nav_page", "operation_timeout": 60,
        "mapping": {"customers": {"page_size": page_size}}}))
    count, cursor = 0, None
    try:
        while True:
            page = erp.read_customers(cursor)
            count += len(page.items)
            cursor = page.cursor
            if not page.has_more:
                return count
    finally:
        erp.close()


def read_baseline(address: str, page_size: int) -> int:
    session = requests.Session()
    count, bookmark = 0, ""
    while True:
        mark = f"<bookmarkKey>{escape(bookmark)}</bookmarkKey>" if bookmark else ""
        # The request the adapter sends: the WSDL requires a filter (one matching everything).
        body = (f'<s:Envelope xmlns:s="{SOAP}"><s:Body><ReadMultiple xmlns="{NS}">'
                f"<filter><Field>No</Field><Criteria></Criteria></filter>{mark}"
                f"<setSize>{page_size}</setSize></ReadMultiple></s:Body></s:Envelope>")
        reply = session.post(address, data=body.encode(), timeout=60,
                             headers={"Content-Type": "text/xml; charset=utf-8",
                                      "SOAPAction": f'"{NS}:ReadMultiple"'})
        records = etree.fromstring(reply.content).iter(f"{{{NS}}}Customer")
        rows = [{etree.QName(c).localname: c.text for c in record} for record in records]
        count += len(rows)
        if len(rows) < page_size:
            return count
        bookmark = rows[-1]["Key"] or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()

    server = ErpEmulator(EmulatorOptions(customers=0, extra={"auth": "none"}))
    started = time.perf_counter()
    server.load(customers=DemoMerchant(seed=1, customers=args.customers).iter_customers())
    seeded = time.perf_counter() - started
    server.start()
    try:
        base_wall = time.perf_counter()
        base_count = read_baseline(f"{server.url}/DynamicsNAV/WS/CRONUS/Page/Customer",
                                   args.page_size)
        base = time.perf_counter() - base_wall
        cpu0, wall0 = time.process_time(), time.perf_counter()
        count = read_with_adapter(server.wsdl_url, args.page_size)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        stats = server.stats.snapshot()
    finally:
        server.stop()
    assert count == base_count == args.customers, (count, base_count)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"erp_soap: {count:,} customers from the SOAP emulator, page size {args.page_size} "
          f"(seeded in {seeded:.1f} s)")
    print(f"  wall       {wall:8.2f} s    (cpu {cpu:.2f} s incl. the in-process server; "
          f"{os.cpu_count()} cores, load average {load:.2f})")
    print(f"  customers  {count / wall:12,.0f} /s")
    print(f"  requests   {stats['requests']:,} (WSDL loads {stats.get('wsdl_loads', 0)}, "
          f"connections {stats['connections']})")
    print(f"  baseline   {base:8.2f} s    ({base_count / base:,.0f} /s: bare POST + lxml "
          "to dicts, same pages)")
    print(f"  ratio      {wall / base:8.1f} x  baseline")


if __name__ == "__main__":
    main()
