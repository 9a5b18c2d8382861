"""Benchmark the web app's webhook ingest under load from a separate process on loopback
(the storefront API's part is bench/bench_web.py).

    .venv/bin/python bench/bench_web_webhooks.py [--count N] [--seconds S] [--postgres URL]

One section per part of the app; each section serves the app with uvicorn (one worker, as
``shoploop serve`` starts it) in this process and drives it from a load-generator *process*
(this file run with ``--load``), so client and server never share an interpreter. Bounded in
count and in time; figures depend on the machine (2 cores shared with the client here).

Webhook ingest: N distinct Shopify ``orders/paid`` deliveries, each signed like Shopify signs
them, over ``--connections`` keep-alive HTTP/1.1 connections. Measured: deliveries verified
(HMAC over the raw body, shop and age checks) and persisted (one committed insert each) per
second, on SQLite and PostgreSQL; afterwards the stored deliveries are counted — every 200
must be in the store (none lost). Goal: ≥ 1,000/s. Processing is ``external`` here (ingest
alone); ``shoploop webhooks process`` would drain them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _postgres import postgres_schema

WEBHOOK_GOAL = 1_000.0
SHOP = "bench-shop.myshopify.com"
SECRET_ENV = "SHOPLOOP_BENCH_WEBHOOK_SECRET"


# -- the load generator (a separate process) -----------------------------------------------------

def _webhook_requests(count: int, secret: str, path: str) -> list[bytes]:
    """Every request's bytes, prepared before the clock starts (signing is the sender's cost,
    not the receiver's)."""
    from shoploop.plugins.shopify._webhooks import sign

    requests = []
    triggered = datetime.now(UTC).isoformat()
    for number in range(count):
        body = json.dumps({"id": 10_000 + number, "name": f"#{number}",
                           "created_at": triggered, "financial_status": "paid",
                           "line_items": [{"product_id": 7, "quantity": 1, "price": "9.90"}]},
                          separators=(",", ":")).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"X-Shopify-Topic: orders/paid\r\nX-Shopify-Shop-Domain: {SHOP}\r\n"
                f"X-Shopify-Hmac-Sha256: {sign(body, secret)}\r\n"
                f"X-Shopify-Event-Id: {uuid.uuid4()}\r\nX-Shopify-Triggered-At: {triggered}\r\n"
                "\r\n").encode()
        requests.append(head + body)
    return requests


async def _drive(port: int, requests: list[bytes], connections: int, deadline: float
                 ) -> dict[str, Any]:
    """Send ``requests`` over ``connections`` keep-alive connections, one request in flight
    on each; count answers by status."""
    statuses: dict[int, int] = {}
    queue = iter(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in queue:
                if time.monotonic() > deadline:
                    return
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                status = int(status_line.split()[1])
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return {str(k): v for k, v in statuses.items()}


def load_main(args: argparse.Namespace) -> None:
    requests = _webhook_requests(args.count, os.environ[SECRET_ENV], args.path)
    started = time.perf_counter()
    statuses = asyncio.run(_drive(args.port, requests, args.connections,
                                  time.monotonic() + args.seconds))
    elapsed = time.perf_counter() - started
    print(json.dumps({"statuses": statuses, "seconds": elapsed}))


# -- the server side ------------------------------------------------------------------------------

def _served(app: Any) -> tuple[Any, Any, int]:
    import socket
    import threading

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    return server, thread, int(sock.getsockname()[1])


def webhook_ingest(name: str, url: str, args: argparse.Namespace, tmp: Path) -> float:
    from shoploop._config import parse_config
    from shoploop._plugins import load_plugins
    from shoploop.store import Store, delivery_counts
    from shoploop.web import create_app

    secret = uuid.uuid4().hex
    os.environ[SECRET_ENV] = secret
    host = load_plugins(strict=True)
    config = parse_config(
        {"store": {"url": url},
         "connections": {"shop": {"type": "shopify", "shop": SHOP,
                                  "client_secret_env": SECRET_ENV,
                                  "access_token_env": SECRET_ENV}},
         "web": {"webhook_processing": "external"}},
        host.connectors, file=str(tmp / "shoploop.toml"), base_dir=tmp)
    with Store(url) as store:
        store.upgrade()
        server, thread, port = _served(create_app(host, config, store))
        cpu_before = time.process_time()  # this process: the server's threads only
        try:
            load = subprocess.run(
                [sys.executable, __file__, "--load", "--port", str(port), "--path",
                 "/webhooks/shop", "--count", str(args.count), "--seconds", str(args.seconds),
                 "--connections", str(args.connections)],
                check=True, capture_output=True, text=True, timeout=args.seconds + 120)
        finally:
            server_cpu = time.process_time() - cpu_before
            server.should_exit = True
            thread.join(timeout=30)
        result = json.loads(load.stdout)
        with store.session() as session:
            stored = sum(delivery_counts(session).values())
    accepted = result["statuses"].get("200", 0)
    rate = accepted / result["seconds"]
    lost = accepted - stored
    print(f"webhook ingest, {name}: {accepted:,} of {args.count:,} verified and persisted in "
          f"{result['seconds']:.2f}s = {rate:,.0f}/s (goal ≥ {WEBHOOK_GOAL:,.0f}/s: "
          f"{'met' if rate >= WEBHOOK_GOAL else 'NOT met'}); answers {result['statuses']}; "
          f"stored {stored:,}, lost {lost}; server CPU {server_cpu / max(accepted, 1) * 1e3:.2f} "
          f"ms per delivery = {accepted / max(server_cpu, 1e-9):,.0f}/s per fully available "
          f"core (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    if lost or stored != accepted:
        raise SystemExit(f"webhook ingest, {name}: {lost} accepted deliveries not stored")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=60.0, help="Time bound per run.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_main(args)
        return

    # -- section: webhook ingest ------------------------------------------------------------
    with tempfile.TemporaryDirectory() as tmp_name, postgres_schema(args.postgres) as pg_url:
        tmp = Path(tmp_name)
        targets = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        if pg_url:
            targets.append(("postgresql", pg_url))
        for name, url in targets:
            webhook_ingest(name, url, args, tmp)


if __name__ == "__main__":
    main()
