"""Build one ``CustomerProfile`` per person from the mirror: the "one data pool".

A person is a normalised e-mail address (trimmed, lower-cased). Their profile gathers every
mirrored customer record with that address (all connections), every order bound to one of
those records (connection + customer external id — this also catches orders whose own e-mail
differs), every guest order or order of another connection placed with that address, and
the installed base of those records. A customer record without an e-mail is a person of its own
(its orders are found through the binding only). A guest who never had an account anywhere is
a person too, with a synthetic customer ``guest:<email>``.

Why one sorted query: a ``UNION ALL`` of customers, orders and installed base, each row tagged
with its person key and ordered by it, is read as a stream (``yield_per``) and grouped in
Python. Memory stays at one person plus the driver's batch, the database does a single sort
(no per-batch ``IN`` lookups on ``lower(email)``, which has no index), and grouping relies only
on equal keys being adjacent, so it behaves the same under SQLite's and PostgreSQL's collations.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from typing import Any, Literal

from sqlalchemy import ColumnElement, String, and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from shoploop.hooks import AttributeValue, Customer, CustomerProfile, InstalledEquipment, Order
from shoploop.store import table

CUSTOMER, ORDER, EQUIPMENT = 0, 1, 2
BATCH_SIZE = 2000


def normalise_email(email: str | None) -> str | None:
    """The person key of an address: trimmed and lower-cased; empty means none."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


def _customer_key(customers: Any) -> ColumnElement[str]:
    email = func.lower(func.trim(customers.c.email))
    by_id = literal("id:", String) + customers.c.connection + literal("/", String) \
        + customers.c.external_id
    return case((func.coalesce(func.trim(customers.c.email), "") != "", email), else_=by_id)


def _query(as_of: datetime) -> Select[Any]:
    customers = table("customers")
    orders = table("orders")
    equipment = table("installed_base")
    owner = customers.alias("owner")
    holder = customers.alias("holder")

    people = select(_customer_key(customers).label("key"), literal(CUSTOMER).label("kind"),
                    customers.c.connection.label("connection"), customers.c.id.label("row"),
                    customers.c.data.label("data"))
    order_email = func.lower(func.trim(orders.c.email))
    order_key = case(
        (owner.c.id.is_not(None), _customer_key(owner)),
        (func.coalesce(func.trim(orders.c.email), "") != "", order_email),
        else_=None,
    )
    bought = (
        select(order_key.label("key"), literal(ORDER).label("kind"),
               orders.c.connection, orders.c.id, orders.c.data)
        .select_from(orders.outerjoin(owner, and_(
            owner.c.connection == orders.c.connection,
            owner.c.external_id == orders.c.customer_external_id)))
        .where(orders.c.placed_at <= as_of, order_key.is_not(None))
    )
    installed = (
        select(_customer_key(holder).label("key"), literal(EQUIPMENT).label("kind"),
               equipment.c.connection, equipment.c.id, equipment.c.data)
        .select_from(equipment.join(holder, and_(
            holder.c.connection == equipment.c.connection,
            holder.c.external_id == equipment.c.customer_external_id)))
    )
    union = union_all(people, bought, installed).subquery("pool")
    return select(union.c.key, union.c.kind, union.c.connection, union.c.data).order_by(
        union.c.key, union.c.kind, union.c.connection, union.c.row)


def _profile(key: str, rows: list[Any]) -> CustomerProfile:
    customers = [Customer.model_validate(row.data) for row in rows if row.kind == CUSTOMER]
    orders = [Order.model_validate(row.data) for row in rows if row.kind == ORDER]
    equipment = [InstalledEquipment.model_validate(row.data)
                 for row in rows if row.kind == EQUIPMENT]
    attributes: dict[str, AttributeValue] = {}
    for customer in customers:  # connections in name order; the first value of a key wins
        for name, value in customer.attributes.items():
            attributes.setdefault(name, value)
    primary = customers[0] if customers else Customer(id=f"guest:{key}", email=key)
    return CustomerProfile(customer=primary, orders=orders, equipment=equipment,
                           attributes=attributes)


def build_profiles(session: Session, *, as_of: datetime,
                   key: Literal["email"] = "email") -> Iterator[CustomerProfile]:
    """Stream one profile per person (ordered by person key), orders placed up to ``as_of``.

    ``key`` names the identity rule; normalised e-mail is the only one so far (bindings and
    customer numbers come with identity resolution).
    """
    if key != "email":
        raise ValueError(f"unknown profile key {key!r}; supported: 'email'")
    result = session.execute(_query(as_of).execution_options(yield_per=BATCH_SIZE))
    for person, rows in groupby(result, key=lambda row: row.key):
        yield _profile(person, list(rows))


def build_profile_members(session: Session, *, as_of: datetime) -> Iterator[
        tuple[CustomerProfile, list[tuple[str, str]]]]:
    """Like :func:`build_profiles`, with each profile's customer records as (connection,
    external id) — where derived values are written back to."""
    result = session.execute(_query(as_of).execution_options(yield_per=BATCH_SIZE))
    for person, rows in groupby(result, key=lambda row: row.key):
        group = list(rows)
        members = [(row.connection, str(row.data["id"])) for row in group
                   if row.kind == CUSTOMER]
        yield _profile(person, group), members
