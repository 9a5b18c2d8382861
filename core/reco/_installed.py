"""*Spare parts and services due*: the ERP's installed base and what fits each machine.

Each piece of installed equipment (``shoploop import installed-base``: the ERP's service items)
has an install date, a last service date and a service interval — its own, else the machine
product's ``service_interval_attribute`` (``service_interval_days``). A spare part or service
*fits* a machine when its product record lists the machine in the ``spare_part_fits``
attribute (``fits``: the machine's product id in the same connection, or its unified key such
as the SKU / ERP item number); products in one of ``service_categories`` are services, the
others spare parts. Equipment belongs to a person through the sync's identity bindings, so
the ERP's installed base answers for the customer's shop account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from shoploop.store import InstalledBaseRecord, resolve_external_ids, resolve_internal_ids

CUSTOMER = "customer"
"""The identity bindings' entity type for customers (the sync's, as in ``_pool``)."""
EPOCH = date(1970, 1, 1)
MONTH_DAYS = 30.44


def day_of_date(value: date) -> int:
    return (value - EPOCH).days


@dataclass
class Equipment:
    """The installed base as read from the store (one entry per piece of equipment)."""

    connection: list[str] = field(default_factory=list)
    product_id: list[str] = field(default_factory=list)
    """The machine's product id in ``connection``."""
    installed_day: list[int] = field(default_factory=list)
    last_service_day: list[int] = field(default_factory=list)
    """-1 when never serviced."""
    interval_days: list[int] = field(default_factory=list)
    """0 when the ERP names none."""
    serial: list[str | None] = field(default_factory=list)
    accounts: list[dict[str, str]] = field(default_factory=list)
    """Per equipment: the owner's customer id per connection (every bound account)."""


def load_equipment(session: Session, connections: Iterable[str]) -> Equipment:
    """Every piece of installed equipment, with its owner's accounts in ``connections``."""
    found = Equipment()
    owners: list[tuple[str, str]] = []
    for row in session.execute(
            select(InstalledBaseRecord.connection, InstalledBaseRecord.customer_external_id,
                   InstalledBaseRecord.product_external_id, InstalledBaseRecord.installed_at,
                   InstalledBaseRecord.last_service_at,
                   InstalledBaseRecord.service_interval_days,
                   InstalledBaseRecord.serial_number)
            .order_by(InstalledBaseRecord.connection, InstalledBaseRecord.external_id)):
        connection, customer, product, installed, serviced, interval, serial = row
        found.connection.append(connection)
        found.product_id.append(product)
        found.installed_day.append(day_of_date(installed))
        found.last_service_day.append(-1 if serviced is None else day_of_date(serviced))
        found.interval_days.append(int(interval or 0))
        found.serial.append(serial)
        owners.append((connection, customer))
    person: dict[tuple[str, str], str] = {}
    for connection in sorted({c for c, _ in owners}):
        for external, internal in resolve_internal_ids(
                session, connection, CUSTOMER, [e for c, e in owners if c == connection]).items():
            person[(connection, external)] = internal
    others: dict[str, dict[str, str]] = {}
    for connection in sorted(set(connections)):
        for internal, external in resolve_external_ids(session, connection, CUSTOMER,
                                                       sorted(set(person.values()))).items():
            others.setdefault(internal, {})[connection] = external
    for connection, customer in owners:
        bound = person.get((connection, customer))
        found.accounts.append({**(others.get(bound, {}) if bound else {}),
                               connection: customer})
    return found


@dataclass(frozen=True)
class InstalledBase:
    """The fitted installed base: equipment arrays, the parts fitting each product (CSR over
    unified products) and each customer account's equipment."""

    product: npt.NDArray[np.int32]
    """Per equipment: the machine's unified product index (-1: not in the products)."""
    since_day: npt.NDArray[np.int32]
    """Per equipment: the day the interval runs from (last service, else installation)."""
    serviced: npt.NDArray[np.bool_]
    interval_days: npt.NDArray[np.int32]
    """Per equipment: its service interval (0: none known)."""
    parts_indptr: npt.NDArray[np.int64]
    parts: npt.NDArray[np.int32]
    """The unified products fitting each unified product."""
    part_is_service: npt.NDArray[np.bool_]
    by_external: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """connection → customer id → their equipment."""

    def parts_of(self, product: int) -> slice:
        return slice(int(self.parts_indptr[product]), int(self.parts_indptr[product + 1]))


def _interval(record: Mapping[str, Any] | None, attribute: str) -> int:
    value = ((record or {}).get("attributes") or {}).get(attribute)
    try:
        return max(0, int(value)) if value is not None and not isinstance(value, bool) else 0
    except (TypeError, ValueError):
        return 0


def fit_installed_base(equipment: Equipment, product_keys: Sequence[str],
                       product_members: Sequence[Mapping[str, Sequence[str]]],
                       product_records: Mapping[str, Mapping[str, Mapping[str, Any]]], *,
                       fits: str, service_categories: Sequence[str],
                       interval_attribute: str) -> InstalledBase:
    n_products = len(product_keys)
    index = {(c, i): n for n, members in enumerate(product_members)
             for c, ids in members.items() for i in ids}
    by_key = {key: n for n, key in enumerate(product_keys)}
    pairs: set[tuple[int, int]] = set()
    is_service = np.zeros(n_products, dtype=np.bool_)
    services = {c.casefold() for c in service_categories}
    for connection, records in product_records.items():
        for product_id, record in records.items():
            listed = (record.get("attributes") or {}).get(fits)
            if not isinstance(listed, list) or (connection, product_id) not in index:
                continue
            part = index[(connection, product_id)]
            if str(record.get("category") or "").casefold() in services:
                is_service[part] = True
            for entry in listed:
                machine = index.get((connection, str(entry)), by_key.get(str(entry), -1))
                if machine >= 0 and machine != part:
                    pairs.add((machine, part))
    ordered = sorted(pairs)
    machines = np.asarray([m for m, _ in ordered], dtype=np.int64)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(machines, minlength=n_products))))

    product = np.asarray([index.get((c, p), -1) for c, p in zip(
        equipment.connection, equipment.product_id, strict=True)], dtype=np.int32)
    intervals = []
    for connection, product_id, own in zip(equipment.connection, equipment.product_id,
                                           equipment.interval_days, strict=True):
        machine_record = product_records.get(connection, {}).get(product_id)
        intervals.append(own or _interval(machine_record, interval_attribute))
    by_external: dict[str, dict[str, list[int]]] = {}
    for number, accounts in enumerate(equipment.accounts):
        for connection, customer in accounts.items():
            by_external.setdefault(connection, {}).setdefault(customer, []).append(number)
    serviced = np.asarray([d >= 0 for d in equipment.last_service_day], dtype=np.bool_)
    since = np.where(serviced, np.asarray(equipment.last_service_day, dtype=np.int64),
                     np.asarray(equipment.installed_day, dtype=np.int64))
    return InstalledBase(
        product=product, since_day=since.astype(np.int32), serviced=serviced,
        interval_days=np.asarray(intervals, dtype=np.int32),
        parts_indptr=indptr.astype(np.int64),
        parts=np.asarray([p for _, p in ordered], dtype=np.int32),
        part_is_service=is_service, by_external=by_external)


def _ago_en(days: int) -> str:
    if days >= 60:
        months = round(days / MONTH_DAYS)
        return f"{months} months"
    return "1 day" if days == 1 else f"{days} days"


def _ago_de(days: int, *, dative: bool) -> str:
    if days >= 60:
        months = round(days / MONTH_DAYS)
        return f"{months} Monaten" if dative else f"{months} Monate"
    if days == 1:
        return "1 Tag"
    return f"{days} Tagen" if dative else f"{days} Tage"


def reasons(machine: str, since_days: int, interval_days: int, *,
            serviced: bool) -> dict[str, str]:
    """"Espresso machine Pro 2 installed 11 months ago, service interval 12 months"."""
    done_en = "last serviced" if serviced else "installed"
    done_de = "zuletzt gewartet" if serviced else "installiert"
    return {
        "en": f"{machine} {done_en} {_ago_en(since_days)} ago, service interval "
              f"{_ago_en(interval_days)}",
        "de": f"{machine} vor {_ago_de(since_days, dative=True)} {done_de}, Wartungsintervall "
              f"{_ago_de(interval_days, dative=False)}",
    }
