"""A small, deterministic dataset for connector conformance tests.

Self-contained on purpose: the kit must not change behaviour when the demo data generator
changes. Sizes default to primes (57 customers, 23 products, 131 orders, 19 pieces of
equipment) so no typical page size divides them and the last page is always a partial one.
Values exercise what connectors tend to get wrong: non-ASCII names, commas, quotes and
semicolons in text, guest orders, optional fields left empty, attributes of every allowed type.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from shoploop.hooks import (
    Address,
    AttributeValue,
    Capability,
    Customer,
    InstalledEquipment,
    LineItem,
    Order,
    Product,
    ReadsCustomers,
    ReadsInstalledBase,
    ReadsOrders,
    ReadsProducts,
)

StreamName = Literal["customers", "orders", "products", "installed_base"]


@dataclass(frozen=True)
class StreamSpec:
    """How one readable stream maps onto the contract: model, read method, capability."""

    name: StreamName
    model: type[BaseModel]
    method: str
    capability: Capability
    protocol: type


STREAMS: dict[str, StreamSpec] = {
    spec.name: spec
    for spec in (
        StreamSpec("customers", Customer, "read_customers", Capability.READ_CUSTOMERS,
                   ReadsCustomers),
        StreamSpec("orders", Order, "read_orders", Capability.READ_ORDERS, ReadsOrders),
        StreamSpec("products", Product, "read_products", Capability.READ_PRODUCTS,
                   ReadsProducts),
        StreamSpec("installed_base", InstalledEquipment, "read_installed_base",
                   Capability.READ_INSTALLED_BASE, ReadsInstalledBase),
    )
}
"""The readable streams, by name, in a stable order."""

_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_FIRST = ["Anna", "Jürgen", "Zoë", "Łukasz", "Mia", "Ömer", "Sean", "Ana-María", "Chloé", "Jan"]
_LAST = ["Müller", "O'Brien", "Schmidt", "Nguyễn", "Dubois", "Kowalski", "Smith", "García"]
_COMPANIES = ['Müller, Schmidt & Co. "KG"', "Bäckerei Süß; Filiale 2", "Acme Tools GmbH",
              "Nordwind AG", "Café Zürich", "O'Neill Industrial Ltd"]
_INDUSTRIES = ["machinery", "food", "automotive", "medical", "retail"]
_CITIES = [("DE", "10115", "Berlin"), ("AT", "1010", "Wien"), ("FR", "75001", "Paris"),
           ("DE", "80331", "München"), ("CH", "8001", "Zürich")]
_CATEGORIES = ["tools", "consumables", "spare-parts", "machines", "services"]


@dataclass(repr=False)
class ConformanceDataset:
    """The records a connector under test must serve, per stream.

    ``changes`` is empty for a dataset made by :func:`make_dataset`; for one derived with
    :meth:`changed` it names, per stream, the ids that were updated or added — exactly what an
    incremental read from the parent's final checkpoint must return.
    """

    customers: list[Customer] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    installed_base: list[InstalledEquipment] = field(default_factory=list)
    changes: dict[str, frozenset[str]] = field(default_factory=dict)

    def __repr__(self) -> str:  # short: pytest shows it in every failure report
        sizes = ", ".join(f"{len(self.records(stream))} {stream}" for stream in STREAMS)
        changed = f", changes in {sum(map(len, self.changes.values()))} records" \
            if self.changes else ""
        return f"ConformanceDataset({sizes}{changed})"

    def records(self, stream: str) -> Sequence[BaseModel]:
        """The records of one stream: customers, orders, products or installed_base."""
        if stream not in STREAMS:
            raise KeyError(f"unknown stream {stream!r}; streams: {', '.join(STREAMS)}")
        records: Sequence[BaseModel] = getattr(self, stream)
        return records

    def ids(self, stream: str) -> list[str]:
        return [str(getattr(record, "id")) for record in self.records(stream)]  # noqa: B009

    def fingerprint(self) -> str:
        """A stable hash of the content, e.g. to cache one emulator per dataset."""
        digest = hashlib.sha256()
        for stream in STREAMS:
            for record in self.records(stream):
                digest.update(record.model_dump_json().encode())
                digest.update(b"\n")
        digest.update(json.dumps({k: sorted(v) for k, v in sorted(self.changes.items())})
                      .encode())
        return digest.hexdigest()

    def changed(self, seed: int = 1, *, every: int = 7, added: int = 3) -> ConformanceDataset:
        """A copy in which about one record in ``every`` per stream was updated (a field changed,
        ``updated_at`` later than any timestamp in this dataset) and ``added`` new records were
        appended per stream. ``changes`` of the result lists the affected ids per stream."""
        rng = random.Random(f"changed-{seed}")
        horizon = _latest(self) + timedelta(days=1)
        tick = iter(range(1, 1_000_000))

        def later() -> datetime:
            return horizon + timedelta(minutes=next(tick))

        result = ConformanceDataset(
            customers=[c.model_copy(deep=True) for c in self.customers],
            orders=[o.model_copy(deep=True) for o in self.orders],
            products=[p.model_copy(deep=True) for p in self.products],
            installed_base=[e.model_copy(deep=True) for e in self.installed_base],
        )
        changes: dict[str, set[str]] = {stream: set() for stream in STREAMS}
        for stream in STREAMS:
            records = list(result.records(stream))
            if not records:
                continue
            picked = rng.sample(range(len(records)), max(1, len(records) // every))
            for index in sorted(picked):
                record = records[index]
                _touch(record, later(), rng)
                changes[stream].add(str(getattr(record, "id")))  # noqa: B009
        gen = _Generator(rng, start=later())
        result.customers.extend(gen.customer(len(self.customers) + i) for i in range(added))
        result.products.extend(gen.product(len(self.products) + i) for i in range(added))
        result.orders.extend(gen.order(len(self.orders) + i, result.customers, result.products)
                             for i in range(added))
        if result.customers and result.products:
            result.installed_base.extend(
                gen.equipment(len(self.installed_base) + i, result.customers, result.products)
                for i in range(added))
        for stream in STREAMS:
            changes[stream].update(result.ids(stream)[len(self.ids(stream)):])
        result.changes = {stream: frozenset(ids) for stream, ids in changes.items()}
        return result


def make_dataset(
    seed: int = 0,
    customers: int = 57,
    products: int = 23,
    orders: int = 131,
    installed_base: int = 19,
) -> ConformanceDataset:
    """Build a deterministic dataset: the same arguments always give equal records."""
    rng = random.Random(f"conformance-{seed}")
    gen = _Generator(rng, start=_EPOCH)
    dataset = ConformanceDataset()
    dataset.customers = [gen.customer(i) for i in range(customers)]
    dataset.products = [gen.product(i) for i in range(products)]
    dataset.orders = [gen.order(i, dataset.customers, dataset.products) for i in range(orders)]
    if dataset.customers and dataset.products:
        dataset.installed_base = [gen.equipment(i, dataset.customers, dataset.products)
                                  for i in range(installed_base)]
    return dataset


def _latest(dataset: ConformanceDataset) -> datetime:
    stamps = [getattr(r, "updated_at", None) for s in STREAMS for r in dataset.records(s)]
    return max((s for s in stamps if s is not None), default=_EPOCH)


def _touch(record: BaseModel, when: datetime, rng: random.Random) -> None:
    """Change one meaningful field and move ``updated_at`` forward."""
    if isinstance(record, Customer):
        record.attributes["customer_group"] = f"group-{rng.randint(100, 999)}"
        record.tags = [*record.tags, "updated"]
    elif isinstance(record, Order):
        record.status = "refunded" if record.status != "refunded" else "paid"
        record.refunded_total = record.total if record.status == "refunded" else Decimal(0)
    elif isinstance(record, Product):
        record.price = record.price + Decimal("1.00")
        record.stock = (record.stock or 0) + 5
    elif isinstance(record, InstalledEquipment):
        record.last_service_at = when.date()
    record.updated_at = when  # type: ignore[attr-defined]


class _Generator:
    """Draws records from one random stream; ``start`` is the earliest timestamp it uses."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.start = start

    def when(self, days: int = 700) -> datetime:
        return self.start + timedelta(minutes=self.rng.randint(0, days * 24 * 60))

    def customer(self, n: int) -> Customer:
        rng = self.rng
        b2b = rng.random() < 0.4
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        country, postal, city = rng.choice(_CITIES)
        company = rng.choice(_COMPANIES) if b2b else None
        addresses = [Address(kind="billing", company=company, line1=f"Hauptstraße {n + 1}",
                             postal_code=postal, city=city, country=country)]
        if rng.random() < 0.3:
            addresses.append(Address(kind="shipping", line1=f"Lager {n % 9 + 1}",
                                     line2="Tor 3, Rampe \"B\"", postal_code=postal, city=city,
                                     country=country))
        attributes: dict[str, AttributeValue] = {
            "industry": rng.choice(_INDUSTRIES) if b2b else None,
            "customer_group": rng.choice(["retail", "wholesale", "key-account"]),
            "orders_last_year": rng.randint(0, 40),
            "discount_rate": round(rng.random() * 0.2, 3),
            "newsletter": rng.random() < 0.5,
            "segments": sorted(rng.sample(["rfm-high", "churn-risk", "new", "vip"],
                                          rng.randint(0, 2))),
        }
        if rng.random() < 0.2:
            attributes["price_list"] = "42"  # a string that looks like a number
        created = self.when()
        return Customer(
            id=f"C{n:05d}",
            email=f"customer{n}@example.com",
            first_name=first, last_name=last, company=company,
            phone=f"+49 30 {rng.randint(1000000, 9999999)}" if rng.random() < 0.7 else None,
            kind="b2b" if b2b else "b2c",
            customer_number=f"K-{10000 + n}" if b2b else None,
            vat_id=f"DE{rng.randint(100000000, 999999999)}" if b2b else None,
            accepts_marketing=rng.choice([True, False, None]),
            addresses=addresses,
            tags=sorted(rng.sample(["b2b", "newsletter", "trade-fair", "vip"], rng.randint(0, 2))),
            attributes=attributes,
            created_at=created,
            updated_at=created + timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
        )

    def product(self, n: int) -> Product:
        rng = self.rng
        price = Decimal(rng.randint(99, 99_999)) / 100
        return Product(
            id=f"P{n:05d}", sku=f"SKU-{n:05d}",
            name=rng.choice(["Drill", "Filter, fine", "Saw blade 24\"", "Service kit; large",
                             "Schleifpapier", "Öl 5 l"]) + f" #{n}",
            price=price,
            compare_at_price=price + Decimal("10.00") if rng.random() < 0.3 else None,
            stock=rng.randint(0, 500) if rng.random() < 0.8 else None,
            status=rng.choice(["active", "active", "active", "draft", "archived"]),
            category=rng.choice(_CATEGORIES),
            tags=sorted(rng.sample(["premium", "bestseller", "eco", "spare"], rng.randint(0, 2))),
            vendor=rng.choice(["Acme", "Bosch", None]),
            attributes={"weight_kg": round(rng.random() * 20, 2), "premium": rng.random() < 0.2},
            updated_at=self.when(),
        )

    def order(self, n: int, customers: Sequence[Customer], products: Sequence[Product]) -> Order:
        rng = self.rng
        customer = rng.choice(customers) if customers and rng.random() < 0.9 else None
        lines = [LineItem(product_id=product.id, sku=product.sku, name=product.name,
                          quantity=rng.randint(1, 5), unit_price=product.price)
                 for product in rng.sample(list(products), min(len(products), rng.randint(1, 4)))]
        if not lines:  # no catalogue: a custom line item, as platforms allow
            lines = [LineItem(name="Custom work", quantity=1, unit_price=Decimal("50.00"))]
        status = rng.choice(["paid", "paid", "fulfilled", "pending", "refunded"])
        placed = self.when()
        order = Order(
            id=f"O{n:06d}", number=str(100_000 + n),
            customer_id=customer.id if customer else None,
            email=customer.email if customer else f"guest{n}@example.org",
            placed_at=placed,
            updated_at=placed + timedelta(hours=rng.randint(0, 96)),
            status=status,
            channel=rng.choice(["web", "web", "erp", "phone"]),
            lines=lines,
            discount_codes=["WELCOME10"] if rng.random() < 0.15 else [],
            attributes={"referral_code": f"REF-{n}"} if rng.random() < 0.1 else {},
        )
        if status == "refunded":
            order.refunded_total = order.total
        return order

    def equipment(self, n: int, customers: Sequence[Customer],
                  products: Sequence[Product]) -> InstalledEquipment:
        rng = self.rng
        installed = date(2020, 1, 1) + timedelta(days=rng.randint(0, 1500))
        interval = rng.choice([90, 180, 365, None])
        return InstalledEquipment(
            id=f"E{n:05d}",
            customer_id=rng.choice(customers).id,
            product_id=rng.choice(products).id,
            serial_number=f"SN-{rng.randint(10**7, 10**8 - 1)}" if rng.random() < 0.8 else None,
            installed_at=installed,
            service_interval_days=interval,
            last_service_at=installed + timedelta(days=interval) if interval else None,
            updated_at=self.when(),
        )
