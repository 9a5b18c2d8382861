"""The catalogue: products with categories, price bands, premium variants, complementary pairs,
consumables with repurchase cycles and spare parts tied to machines.

Built once per merchant from its own RNG; relations are kept as product indices so the order
simulation needs no string look-ups.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from . import _vocab as v
from ._util import DAY, Picker, Window, iso, money

ZIPF_EXPONENT = 1.2
ATTACH_RATE = 0.55
"""Probability that a complementary product is added to an order containing its anchor."""

CATEGORY_SHARE = {
    "b2c": {"machines": 0.025, "accessories": 0.46, "consumables": 0.44, "spare_parts": 0.03,
            "services": 0.045},
    "b2b": {"machines": 0.04, "accessories": 0.39, "consumables": 0.47, "spare_parts": 0.05,
            "services": 0.05},
}
"""Share of spontaneous picks per category; within a category popularity is Zipf-like."""


@dataclass(slots=True)
class Item:
    category: str
    family: str
    name: str
    price_cents: int
    segment: str
    vendor: str
    extra: int = 0  # machines: service interval; consumables: repurchase cycle (days)
    pack: str = ""
    service_key: str = ""
    model: str = ""
    label: str = ""
    features: tuple[str, ...] = ()
    premium_of: Item | None = None
    premium: Item | None = None
    adds: tuple[str, ...] = ()
    fits: list[Item] = field(default_factory=list)
    industries: tuple[str, ...] = ()
    index: int = 0
    status: str = "active"
    stock: int | None = None
    compare_at_cents: int | None = None
    updated_ts: int = 0
    weight: float = 0.0
    band: str = "mid"

    @property
    def id(self) -> str:
        return f"P{self.index + 1:04d}"

    @property
    def sku(self) -> str:
        return f"{v.CATEGORY_PREFIX[self.category]}-{self.index + 1:05d}"


def _price(rng: random.Random, lo: int, hi: int) -> int:
    """A shop price in cents: log-uniform in [lo, hi] euros, ending in .90 or .00."""
    euros: float = lo * (hi / lo) ** rng.random()
    whole = max(1, round(euros)) - 1
    return whole * 100 + (90 if whole < 200 else 100)


def _share(n: int, frac: float, minimum: int = 3) -> int:
    return max(minimum, round(n * frac))


class Catalogue:
    """All products plus the ground truth the order simulation follows."""

    def __init__(self, rng: random.Random, n: int, window: Window) -> None:
        if n < 20:
            raise ValueError(f"products must be at least 20, got {n}")
        self.window = window
        counts = {
            "services": _share(n, 0.04), "machines": _share(n, 0.12),
            "spare_parts": _share(n, 0.28), "consumables": _share(n, 0.22),
        }
        counts["accessories"] = n - sum(counts.values())
        machines = self._family_items(rng, v.MACHINES, counts["machines"], 0.25)
        accessories = self._family_items(rng, v.ACCESSORIES, counts["accessories"], 0.18)
        consumables = self._family_items(rng, v.CONSUMABLES, counts["consumables"], 0.18)
        spares = self._spare_parts(rng, machines, counts["spare_parts"])
        services = self._services(rng, counts["services"])
        items = machines + accessories + consumables + spares + services
        rng.shuffle(items)
        for i, item in enumerate(items):
            item.index = i
        self.items = items
        self._popularity(rng)
        self.complements = self._pairs(rng, n)
        self._statuses(rng, n)
        self._bands()
        self._pickers: dict[tuple[str, str | None], Picker] = {}
        # flat look-ups for the simulation
        self.category = [it.category for it in items]
        self.price = [it.price_cents for it in items]
        self.premium = [it.premium.index if it.premium else -1 for it in items]
        self.base_of = [it.premium_of.index if it.premium_of else it.index for it in items]
        self.cycle = [it.extra if it.category == "consumables" else 0 for it in items]
        self.interval = [it.extra if it.category == "machines" else 0 for it in items]
        self.complement_of = [[y.index for y in self.complements.get(i, ())] for i in range(n)]
        self.parts_for: list[list[int]] = [[] for _ in range(n)]
        for it in items:
            for m in it.fits:
                self.parts_for[m.index].append(it.index)
        self.archived_after = [it.updated_ts if it.status == "archived" else 0 for it in items]
        self.maintenance = [it.index for it in items if it.status == "active"
                            and it.service_key in ("maintenance", "descaling_service")]
        self.pro_machines = [it.index for it in items
                             if it.category == "machines" and it.segment != "home"
                             and it.premium_of is None and it.status == "active"]

    # --- building ------------------------------------------------------------------------------

    def _family_items(self, rng: random.Random, families: tuple[v.Family, ...], count: int,
                      premium_share: float) -> list[Item]:
        n_premium = round(count * premium_share) if count >= 4 else 0
        order = list(families)
        rng.shuffle(order)
        vendors = v.VENDORS[families[0].category]
        base: list[Item] = []
        for j in range(count - n_premium):
            fam = order[j % len(order)]
            vendor = vendors[rng.randrange(len(vendors))]
            series = v.SERIES[rng.randrange(len(v.SERIES))]
            model = f"{series} {j + 1}" if fam.category == "machines" else series
            name = f"{vendor} {model} {fam.label}"
            if fam.pack:
                name += f" {fam.pack}"
            extra = fam.extra
            if fam.category == "consumables":
                extra = max(7, round(fam.extra * rng.choice((0.67, 1.0, 1.0, 1.5)) / 7) * 7)
            industries: tuple[str, ...] = ()
            if fam.segment != "home" and rng.random() < 0.6:
                industries = tuple(sorted(rng.sample(v.INDUSTRIES, rng.randint(1, 2))))
            base.append(Item(fam.category, fam.key, name, _price(rng, *fam.price_range),
                             fam.segment, vendor, extra, fam.pack, model=model, label=fam.label,
                             features=fam.features, industries=industries))
        premiums: list[Item] = []
        for b in rng.sample(base, n_premium):
            tier = rng.choice(("Pro", "Plus", "Premium"))
            adds = tuple(rng.sample(b.features, min(len(b.features), rng.randint(1, 3))))
            factor = rng.uniform(1.3, 1.8)
            p = Item(b.category, b.family, b.name.replace(b.label, f"{tier} {b.label}", 1),
                     round(b.price_cents * factor / 100) * 100 - 10, b.segment, b.vendor,
                     b.extra, b.pack, model=f"{b.model} {tier}", label=b.label,
                     premium_of=b, adds=adds, industries=b.industries)
            b.premium = p
            premiums.append(p)
        return base + premiums

    def _spare_parts(self, rng: random.Random, machines: list[Item], count: int) -> list[Item]:
        base_machines = [m for m in machines if m.premium_of is None]
        vendors = v.VENDORS["spare_parts"]
        parts: list[Item] = []
        for j in range(count):
            m = base_machines[j % len(base_machines)]
            kinds = [k for k in v.SPARE_PARTS if m.family in k[3]]
            key, label, (lo, hi), families = kinds[rng.randrange(len(kinds))]
            part = Item("spare_parts", key, f"{label} for {m.model}", _price(rng, lo, hi),
                        m.segment, vendors[rng.randrange(len(vendors))])
            fits = [m]
            others = [o for o in base_machines if o is not m and o.family in families]
            if others and rng.random() < 0.35:
                fits.append(others[rng.randrange(len(others))])
            for f in list(fits):
                if f.premium is not None:
                    fits.append(f.premium)
            part.fits = fits
            parts.append(part)
        return parts

    def _services(self, rng: random.Random, count: int) -> list[Item]:
        out = []
        vendor = v.VENDORS["services"][0]
        for j in range(count):
            key, label, (lo, hi) = v.SERVICES[j % len(v.SERVICES)]
            variant = j // len(v.SERVICES)
            name = label if variant == 0 else f"{label} Package {variant + 1}"
            out.append(Item("services", key, name, _price(rng, lo, hi), "all", vendor,
                            service_key=key))
        return out

    def _popularity(self, rng: random.Random) -> None:
        for cat in CATEGORY_SHARE["b2c"]:
            members = [it for it in self.items if it.category == cat]
            rng.shuffle(members)
            for rank, item in enumerate(members):
                w = 1.0 / (rank + 1) ** ZIPF_EXPONENT
                item.weight = w * (0.1 if item.premium_of is not None else 1.0)

    def _pairs(self, rng: random.Random, n: int) -> dict[int, list[Item]]:
        """Complementary pairs anchored on popular base machines and accessories."""
        anchors = sorted((it for it in self.items
                          if it.category in ("machines", "accessories") and it.premium_of is None),
                         key=lambda it: (-it.weight, it.index))
        n_pairs = max(3, round(n * 0.06))
        chosen = rng.sample(anchors[: n_pairs * 2], min(n_pairs, len(anchors)))
        chosen.sort(key=lambda it: it.index)
        complements: dict[int, list[Item]] = {}
        for x in chosen:
            if x.category == "machines":
                pool = [y for y in self.items if y.service_key in ("installation", "training")
                        or (y.category == "accessories" and y.segment in (x.segment, "all"))]
            else:
                pool = [y for y in self.items if y.service_key == "training"
                        or (y.category == "accessories" and y.family != x.family)]
            pool = [y for y in pool if y.premium_of is None and y.premium is None]
            if pool:
                complements[x.index] = [pool[rng.randrange(len(pool))]]
        return complements

    def _statuses(self, rng: random.Random, n: int) -> None:
        w = self.window
        related = {y.index for ys in self.complements.values() for y in ys}
        related.update(self.complements)
        pool = [it for it in self.items if it.category == "accessories"
                and it.premium is None and it.premium_of is None and it.index not in related]
        k = min(len(pool) // 2, round(n * 0.025))
        picked = rng.sample(pool, 2 * k)
        span = w.end_ts - w.start_ts
        for it in self.items:
            it.updated_ts = w.end_ts - rng.randrange(1, 300) * DAY - rng.randrange(DAY)
            if it.category != "services":
                if rng.random() < 0.07:
                    it.stock = 0
                else:
                    hi = {"machines": 30, "accessories": 400, "consumables": 2500}.get(
                        it.category, 200)
                    it.stock = rng.randint(1, hi)
            if it.category in ("accessories", "consumables") and rng.random() < 0.08:
                it.compare_at_cents = round(it.price_cents * rng.uniform(1.15, 1.3) / 100) * 100
        for it in picked[:k]:
            it.status, it.weight = "draft", 0.0
            it.updated_ts = w.end_ts - rng.randrange(1, 60) * DAY
        for it in picked[k:]:
            it.status = "archived"
            it.stock = 0 if it.stock is not None else None
            it.updated_ts = w.start_ts + round(span * rng.uniform(0.35, 0.9))

    def _bands(self) -> None:
        for cat in CATEGORY_SHARE["b2c"]:
            members = sorted((it for it in self.items if it.category == cat),
                             key=lambda it: (it.price_cents, it.index))
            for pos, it in enumerate(members):
                it.band = ("entry", "mid", "upper")[min(2, pos * 3 // max(1, len(members)))]
            for it in members:
                if it.premium_of is not None:
                    it.band = "premium"

    # --- use -------------------------------------------------------------------------------------

    def picker(self, kind: str, industry: str | None) -> Picker:
        """Zipf popularity, shaped by segment (B2C rarely buys professional kit) and industry."""
        key = (kind, industry)
        found = self._pickers.get(key)
        if found is None:
            weights = []
            for it in self.items:
                w = it.weight
                if kind == "b2c":
                    w *= 0.08 if it.segment == "professional" else 1.0
                else:
                    w *= 0.25 if it.segment == "home" else 1.0
                    w *= 3.0 if industry in it.industries else 1.0
                weights.append(w)
            totals: dict[str, float] = {}
            for it, w in zip(self.items, weights, strict=True):
                totals[it.category] = totals.get(it.category, 0.0) + w
            share = CATEGORY_SHARE[kind]
            weights = [w * share[it.category] / totals[it.category] if w else 0.0
                       for it, w in zip(self.items, weights, strict=True)]
            found = self._pickers[key] = Picker(weights)
        return found

    def records(self) -> list[dict[str, Any]]:
        return [self.record(it) for it in self.items]

    @staticmethod
    def record(it: Item) -> dict[str, Any]:
        attributes: dict[str, Any] = {"family": it.family, "price_band": it.band,
                                      "segment": it.segment}
        if it.category == "machines":
            attributes["service_interval_days"] = it.extra
        if it.pack:
            attributes["pack_size"] = it.pack
        if it.fits:
            attributes["fits"] = [m.id for m in it.fits]
        if it.premium_of is not None:
            attributes["premium_of"] = it.premium_of.id
            attributes["adds"] = list(it.adds)
        if it.industries:
            attributes["industries"] = list(it.industries)
        tags = [it.family, it.segment, f"band:{it.band}"]
        if it.premium_of is not None:
            tags.append("premium")
        return {
            "id": it.id, "sku": it.sku, "name": it.name, "price": money(it.price_cents),
            "currency": "EUR",
            "compare_at_price": None if it.compare_at_cents is None else money(it.compare_at_cents),
            "stock": it.stock, "status": it.status, "category": it.category, "tags": tags,
            "vendor": it.vendor, "attributes": attributes, "updated_at": iso(it.updated_ts),
        }

    def ground_truth(self) -> dict[str, Any]:
        items = self.items
        return {
            "complementary_pairs": [
                {"product_id": items[x].id, "complement_id": y.id, "attach_rate": ATTACH_RATE}
                for x in sorted(self.complements) for y in self.complements[x]
            ],
            "premium_variants": {it.id: it.premium.id for it in items if it.premium is not None},
            "repurchase_cycle_days": {it.id: it.extra for it in items
                                      if it.category == "consumables"},
            "spare_parts": {it.id: [m.id for m in it.fits] for it in items if it.fits},
            "service_interval_days": {it.id: it.extra for it in items
                                      if it.category == "machines"},
        }
