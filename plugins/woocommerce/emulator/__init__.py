"""A WooCommerce emulator: a real HTTP server on loopback speaking the part of ``wc/v3`` the
adapter uses, over demo data or over given records.

    shoploop emulate woocommerce --port 8765 --seed 1 --customers 1000 --faults 0.05

In tests, in-process::

    with WooCommerceEmulator.from_records(customers=[...], products=[...], orders=[...]) as emu:
        emu.url, emu.key, emu.secret, emu.stats.snapshot(), emu.data.meta_changes

Authentication follows ``WC_REST_Authentication`` (``_auth``): served over plain HTTP, the
emulator accepts only OAuth 1.0a signatures, like a store over HTTP; ``https=1`` models a store
behind a TLS-terminating proxy (keys as query parameters, then HTTP Basic, then OAuth).

Options (``--option key=value``): ``https=1``, ``strip_authorization=1`` (a host that strips the
``Authorization`` header), ``fault_kinds=500,429,drop``, ``products=N``, ``lost_answers=RATE``
(writes applied but answered 502). In tests, ``emu.lose_next_answers(n)`` makes exactly the next
``n`` writes applied-but-answered-502 (e.g. a customer batch create whose answer is lost).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from shoploop.emulation import EmulatorServer, FaultPlan, Request, Response
from shoploop.hooks import EmulatorOptions

from ._app import API, BATCH_LIMIT, WooApp
from ._auth import Authenticator, oauth_signature
from ._data import META_PREFIX, WooData
from ._hooks import Webhooks

__all__ = ["API", "BATCH_LIMIT", "META_PREFIX", "WooCommerceEmulator", "create_emulator",
           "oauth_signature"]

ENV_KEY = "WOOCOMMERCE_EMULATOR_KEY"
ENV_SECRET = "WOOCOMMERCE_EMULATOR_SECRET"
ENV_WEBHOOK_SECRET = "WOOCOMMERCE_EMULATOR_WEBHOOK_SECRET"


def _token(prefix: str, seed: int) -> str:
    return prefix + hashlib.sha1(f"{prefix}{seed}".encode()).hexdigest()


class WooCommerceEmulator(EmulatorServer):
    """The server plus its data (``data``), webhooks (``webhooks``) and credentials."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, seed: int = 1,
                 faults: FaultPlan | None = None, strip_authorization: bool = False,
                 lost_answers: float = 0.0, https: bool = False) -> None:
        self.key = _token("ck_", seed)
        self.secret = _token("cs_", seed)
        self.webhook_secret = _token("whsec_", seed)
        """A secret to give the webhooks one creates (exported by ``shoploop emulate``): a
        webhook created without one gets a random secret, as in WooCommerce
        (``webhooks.secret_of(id)``)."""
        self.data = WooData()
        # ``lost_answers``: share of writes applied and then answered 502 (the shared plan's
        # lost answers: a proxy timing out while PHP finished).
        faults = faults or FaultPlan(seed=seed)
        faults.lost_rate = lost_answers
        super().__init__(self._dispatch, host=host, port=port, faults=faults)
        self.webhooks = Webhooks(self.url, on_delivery=self._delivered)
        self.auth = Authenticator(self.key, self.secret,
                                  strip_authorization=strip_authorization, https=https)
        self.app = WooApp(self.data, self.auth, self.stats, self.webhooks, lambda: self.url)

    @property
    def home_url(self) -> str:
        """The store's URL as WordPress knows it: ``url``, or its ``https://`` form when the
        emulator models a store whose PHP sees HTTPS (``https=True``)."""
        return self.app.home_url()

    def signed_url(self, method: str, path: str) -> str:
        """``<url>/wp-json/wc/v3/<path>`` with one-legged OAuth 1.0a parameters for one request
        (what the ``woocommerce`` package sends over HTTP), for raw requests in tests."""
        from urllib.parse import parse_qsl, urlencode

        route, _, query = path.partition("?")
        params = dict(parse_qsl(query))
        params.update(oauth_consumer_key=self.key, oauth_timestamp=str(int(time.time())),
                      oauth_nonce=secrets.token_hex(16), oauth_signature_method="HMAC-SHA256")
        endpoint = f"{API}/{route}"
        params["oauth_signature"] = oauth_signature(method, self.home_url + endpoint, params,
                                                    self.secret)
        return f"{self.url}{endpoint}?{urlencode(params)}"

    def _dispatch(self, request: Request) -> Response:
        return self.app(request)

    def lose_next_answers(self, times: int = 1, status: int = 502) -> None:
        """The next ``times`` successful writes are *applied* and then answered ``status``
        (a proxy timing out while PHP finished), whatever ``lost_answers`` says."""
        self.faults.lose(times, status)

    def _delivered(self, ok: bool) -> None:
        self.stats.incr("webhook_deliveries" if ok else "webhook_failures")

    @classmethod
    def from_records(cls, *, customers: Iterable[BaseModel | Mapping[str, Any]] = (),
                     products: Iterable[BaseModel | Mapping[str, Any]] = (),
                     orders: Iterable[BaseModel | Mapping[str, Any]] = (),
                     **kwargs: Any) -> WooCommerceEmulator:
        """An emulator serving exactly these records (models or their JSON dicts)."""
        emulator = cls(**kwargs)
        emulator.data.seed(_dicts(customers), _dicts(products), _dicts(orders))
        return emulator

    @classmethod
    def from_demo(cls, *, seed: int = 1, customers: int = 1000, products: int | None = None,
                  **kwargs: Any) -> WooCommerceEmulator:
        """An emulator over the demo merchant (``shoploop.demo_data``)."""
        from shoploop.demo_data import DemoMerchant

        merchant = DemoMerchant(seed=seed, customers=customers, products=products)
        emulator = cls(seed=seed, **kwargs)
        emulator.data.seed(merchant.iter_customers(), merchant.iter_products(),
                           merchant.iter_orders())
        return emulator

    def start(self) -> WooCommerceEmulator:
        # The core's start() serves with socketserver's default 0.5 s poll interval, so every
        # stop() waits up to half a second; tests start dozens of emulators. (Reported.)
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.02},
                                            name=f"woocommerce-emulator:{self.port}",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        super().stop()
        self.webhooks.close()

    def connection_block(self, name: str) -> str:
        return (f'[connections.{name}]\ntype = "woocommerce"\nurl = "{self.url}"\n'
                f'consumer_key_env = "{ENV_KEY}"\nconsumer_secret_env = "{ENV_SECRET}"\n'
                f'webhook_secret_env = "{ENV_WEBHOOK_SECRET}"\n')

    def environment(self) -> dict[str, str]:
        return {ENV_KEY: self.key, ENV_SECRET: self.secret,
                ENV_WEBHOOK_SECRET: self.webhook_secret}


def _dicts(records: Iterable[BaseModel | Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for record in records:
        yield record.model_dump(mode="json") if isinstance(record, BaseModel) else record


def create_emulator(options: EmulatorOptions) -> WooCommerceEmulator:
    """The factory behind ``shoploop emulate woocommerce``."""
    extra = options.extra
    kinds = tuple(k for k in extra.get("fault_kinds", "500,503,429,drop").split(",") if k)
    products = extra.get("products")
    return WooCommerceEmulator.from_demo(
        seed=options.seed, customers=options.customers,
        products=int(products) if products else None, host=options.host, port=options.port,
        faults=FaultPlan(rate=options.faults, seed=options.seed, kinds=kinds),
        strip_authorization=extra.get("strip_authorization", "") in ("1", "true", "yes"),
        https=extra.get("https", "") in ("1", "true", "yes"),
        lost_answers=float(extra.get("lost_answers") or 0))
