"""``DemoMerchant``: the whole generated merchant, streamed as plain dicts."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import date
from functools import cached_property
from json import JSONEncoder
from operator import itemgetter
from typing import Any

from ._catalogue import Catalogue
from ._customers import Profile, customer_record, make_profile
from ._simulate import CHANNELS, STATUSES, EquipmentPlan, OrderPlan, Simulator
from ._util import Window, derive_rng, iso, iso_date, money
from ._vocab import DISCOUNT_CODES

DEFAULT_AS_OF = date(2026, 11, 1)
"""Fixed end of the order history: output never depends on the day it is generated."""
GUEST_SHARE = 0.05
"""Guest checkouts as a share of customer orders."""
FORMAT_VERSION = 1

Record = dict[str, Any]
_encode = JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def default_products(customers: int) -> int:
    """Catalogue size when not given: one product per 20 customers, 40 … 5,000."""
    return max(40, min(5000, customers // 20))


class _Plan:
    """Everything simulated, in compact form; built once per merchant on first use."""

    def __init__(self, merchant: DemoMerchant) -> None:
        seed, w, cat = merchant.seed, merchant.window, merchant.catalogue
        sim = Simulator(cat, w)
        profiles: list[Profile] = []
        # Millions of small tuples and no reference cycles: the cyclic GC would only rescan
        # the growing heap again and again (15-20 % of the run time at 100k customers).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for i in range(merchant.customers):
                rng = derive_rng(seed, "customer", i)
                p = make_profile(rng, i, w)
                sim.customer(p, rng)
                profiles.append(p)
            n_guest = round(len(sim.orders) * GUEST_SHARE)
            self.guest_emails = sim.guests(derive_rng(seed, "guests"), n_guest,
                                           [p.email for p in profiles])
            sim.orders.sort(key=itemgetter(0))  # stable: ties keep generation order
            sim.equipment.sort(key=itemgetter(0, 1, 2))
        finally:
            if gc_was_enabled:
                gc.enable()
        self.profiles = profiles
        self.orders: list[OrderPlan] = sim.orders
        self.equipment: list[EquipmentPlan] = sim.equipment


class DemoMerchant:
    """A deterministic demo merchant. Same parameters → same records, byte for byte.

    Every ``iter_*`` method yields plain dicts in exactly the JSON shape of the files
    :func:`generate` writes (and of the matching :mod:`shoploop.hooks` model), so platform
    emulators can serve them without touching the disk. Products need no simulation; the other
    streams simulate the order history once (on first use) and then replay it.
    """

    def __init__(self, *, seed: int = 1, customers: int = 1000, products: int | None = None,
                 years: int = 2, as_of: date = DEFAULT_AS_OF) -> None:
        if customers < 0:
            raise ValueError(f"customers must be ≥ 0, got {customers}")
        if years < 1:
            raise ValueError(f"years must be ≥ 1, got {years}")
        self.seed = seed
        self.customers = customers
        self.products = default_products(customers) if products is None else products
        if self.products < 20:
            raise ValueError(f"products must be ≥ 20, got {self.products}")
        self.years = years
        self.as_of = as_of
        self.window = Window.of(as_of, years)

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue(derive_rng(self.seed, "catalogue"), self.products, self.window)

    @cached_property
    def _plan(self) -> _Plan:
        return _Plan(self)

    # --- streams ---------------------------------------------------------------------------------

    def iter_products(self) -> Iterator[Record]:
        cat = self.catalogue
        for item in cat.items:
            yield cat.record(item)

    def iter_customers(self) -> Iterator[Record]:
        for p in self._plan.profiles:
            yield customer_record(p)

    def iter_orders(self) -> Iterator[Record]:
        plan, items = self._plan, self.catalogue.items
        ids = [it.id for it in items]
        skus = [it.sku for it in items]
        names = [it.name for it in items]
        cids = [p.id for p in plan.profiles]
        emails = [p.email for p in plan.profiles]
        guest_emails = plan.guest_emails
        for k, (ts, who, channel, status, discount, updated, refunded, flat) in enumerate(
                plan.orders, 1):
            lines = [
                {"product_id": ids[flat[j]], "sku": skus[flat[j]], "name": names[flat[j]],
                 "quantity": flat[j + 1], "unit_price": money(flat[j + 2])}
                for j in range(0, len(flat), 3)
            ]
            yield {
                "id": f"O{k:07d}",
                "number": str(100000 + k) if channel == 0 else f"AB{k:07d}",
                "customer_id": cids[who] if who >= 0 else None,
                "email": emails[who] if who >= 0 else guest_emails[-who - 1],
                "placed_at": iso(ts), "updated_at": iso(updated), "currency": "EUR",
                "status": STATUSES[status], "channel": CHANNELS[channel], "lines": lines,
                "discount_codes": [DISCOUNT_CODES[discount]] if discount >= 0 else [],
                "refunded_total": money(refunded), "attributes": {},
            }

    def iter_orders_json(self) -> Iterator[str]:
        """The orders as JSON text, identical to ``dumps(order)`` for each of
        :meth:`iter_orders` (a test holds them equal) but three times faster: the fragments
        that repeat (a product's line prefix, a customer's id and e-mail) are encoded once."""
        plan, items = self._plan, self.catalogue.items
        prefix = [_encode({"product_id": it.id, "sku": it.sku, "name": it.name})[:-1]
                  + ',"quantity":' for it in items]
        who_json = [f'"customer_id":"{p.id}","email":{_encode(p.email)}' for p in plan.profiles]
        guest_json = [f'"customer_id":null,"email":{_encode(e)}' for e in plan.guest_emails]
        codes = [f'["{c}"]' for c in DISCOUNT_CODES]
        amounts: dict[int, str] = {}  # few distinct unit prices: format each once
        for k, (ts, who, channel, status, discount, updated, refunded, flat) in enumerate(
                plan.orders, 1):
            parts = []
            for j in range(0, len(flat), 3):
                cents = flat[j + 2]
                amount = amounts.get(cents)
                if amount is None:
                    amount = amounts[cents] = money(cents)
                parts.append(f'{prefix[flat[j]]}{flat[j + 1]},"unit_price":"{amount}"}}')
            lines = ",".join(parts)
            number = f"{100000 + k}" if channel == 0 else f"AB{k:07d}"
            person = who_json[who] if who >= 0 else guest_json[-who - 1]
            yield (
                f'{{"id":"O{k:07d}","number":"{number}",{person},"placed_at":"{iso(ts)}",'
                f'"updated_at":"{iso(updated)}","currency":"EUR","status":"{STATUSES[status]}",'
                f'"channel":"{CHANNELS[channel]}","lines":[{lines}],'
                f'"discount_codes":{codes[discount] if discount >= 0 else "[]"},'
                f'"refunded_total":"{money(refunded)}","attributes":{{}}}}'
            )

    def iter_installed_base(self) -> Iterator[Record]:
        plan, items = self._plan, self.catalogue.items
        for k, (installed, who, pid, interval, last) in enumerate(plan.equipment, 1):
            yield {
                "id": f"E{k:06d}", "customer_id": plan.profiles[who].id,
                "product_id": items[pid].id,
                "serial_number": f"SN{iso_date(installed)[:4]}-{k:06d}",
                "installed_at": iso_date(installed), "service_interval_days": interval,
                "last_service_at": iso_date(last) if last else None,
                "updated_at": iso(max(installed, last) + 9 * 3600),
            }

    # --- facts -----------------------------------------------------------------------------------

    def ground_truth(self) -> dict[str, Any]:
        """What the generator built in, for tests and evaluations (never shown to strategies)."""
        return self.catalogue.ground_truth()

    def parameters(self) -> dict[str, Any]:
        return {"seed": self.seed, "customers": self.customers, "products": self.products,
                "years": self.years, "as_of": self.as_of.isoformat(),
                "window_start": self.window.start.isoformat()}

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    @cached_property
    def _counts(self) -> dict[str, int]:
        plan = self._plan
        ordered = bytearray(len(plan.profiles))
        for o in plan.orders:
            if o[1] >= 0:
                ordered[o[1]] = 1
        return {
            "customers": len(plan.profiles),
            "b2b_customers": sum(p.kind == "b2b" for p in plan.profiles),
            "leads": len(ordered) - sum(ordered),
            "products": self.products,
            "orders": len(plan.orders),
            "guest_orders": sum(o[1] < 0 for o in plan.orders),
            "order_lines": sum(len(o[7]) // 3 for o in plan.orders),
            "installed_base": len(plan.equipment),
        }

    def manifest(self) -> dict[str, Any]:
        return {"generator": "shoploop.demo_data", "format_version": FORMAT_VERSION,
                "seed": self.seed, "parameters": self.parameters(), "counts": self.counts(),
                "ground_truth": self.ground_truth()}
