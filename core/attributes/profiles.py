"""Build one ``CustomerProfile`` per person from the mirror: the "one data pool".

A person is a normalised e-mail address (trimmed, lower-cased). Their profile gathers every
mirrored customer record with that address (all connections), every order bound to one of
those records (connection + customer external id — this also catches orders whose own e-mail
differs), every guest order or order of another connection placed with that address, and
the installed base of those records, and what the referral ledger knows of them (their answered
surveys, their codes and the friends' orders attributed to those). A customer record without an
e-mail is a person of its own
(its orders are found through the binding only). A guest who never had an account anywhere is
a person too, with a synthetic customer ``guest:<email>``.

Why one sorted query: a ``UNION ALL`` of customers, orders, installed base and ledger rows, each
row tagged with its person key and ordered by it, is read as a stream (``yield_per``) and
grouped in Python. Memory stays at one person plus the driver's batch, the database does a
single sort (no per-batch ``IN`` lookups on ``lower(email)``, which has no index), and grouping
relies only on equal keys being adjacent, so it behaves the same under SQLite's and PostgreSQL's
collations.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from shoploop.hooks import (
    AttributeValue,
    Customer,
    CustomerProfile,
    InstalledEquipment,
    Order,
    ReferralStanding,
)
from shoploop.store import table

CUSTOMER, ORDER, EQUIPMENT, SURVEY, CODE = 0, 1, 2, 3, 4
NOT_COUNTED = frozenset({"rejected", "cancelled"})
"""Referral states that are no referral of the advocate's (``referrals`` leaves them out)."""
SUCCESSFUL = frozenset({"qualified", "rewarded"})
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


def _no_ledger() -> tuple[Any, Any, Any, Any]:
    """The ledger columns of a row that is not a ledger row: typed NULLs (the UNION's result
    types are its first SELECT's; ``at`` gets the store's own time type)."""
    at_type = table("referral_surveys").c.answered_at.type
    return (null().cast(Integer).label("score"), null().cast(String).label("status"),
            null().cast(at_type).label("at"), null().cast(String).label("ref"))


def _query(as_of: datetime) -> Select[Any]:
    customers = table("customers")
    orders = table("orders")
    equipment = table("installed_base")
    surveys = table("referral_surveys")
    codes = table("referral_codes")
    referrals = table("referrals")
    owner = customers.alias("owner")
    holder = customers.alias("holder")
    surveyed = customers.alias("surveyed")
    advocate = customers.alias("advocate")

    people = select(_customer_key(customers).label("key"), literal(CUSTOMER).label("kind"),
                    customers.c.connection.label("connection"), customers.c.id.label("row"),
                    customers.c.data.label("data"), *_no_ledger())
    order_email = func.lower(func.trim(orders.c.email))
    order_key = case(
        (owner.c.id.is_not(None), _customer_key(owner)),
        (func.coalesce(func.trim(orders.c.email), "") != "", order_email),
        else_=None,
    )
    bought = (
        select(order_key.label("key"), literal(ORDER).label("kind"),
               orders.c.connection, orders.c.id, orders.c.data, *_no_ledger())
        .select_from(orders.outerjoin(owner, and_(
            owner.c.connection == orders.c.connection,
            owner.c.external_id == orders.c.customer_external_id)))
        .where(orders.c.placed_at <= as_of, order_key.is_not(None))
    )
    installed = (
        select(_customer_key(holder).label("key"), literal(EQUIPMENT).label("kind"),
               equipment.c.connection, equipment.c.id, equipment.c.data, *_no_ledger())
        .select_from(equipment.join(holder, and_(
            holder.c.connection == equipment.c.connection,
            holder.c.external_id == equipment.c.customer_external_id)))
    )
    no_data = null().cast(customers.c.data.type).label("data")  # JSON on SQLite, JSONB on PG

    def ledger_key(record: Any, ledger: Any) -> ColumnElement[Any]:
        # As for orders: the mirrored customer the row names, else the e-mail it was sent to.
        email = func.lower(func.trim(ledger.c.email))
        return case((record.c.id.is_not(None), _customer_key(record)),
                    (func.coalesce(func.trim(ledger.c.email), "") != "", email), else_=None)

    def joined(ledger: Any, record: Any) -> Any:
        return ledger.outerjoin(record, and_(
            record.c.connection == ledger.c.connection,
            record.c.external_id == ledger.c.customer_external_id))

    survey_key = ledger_key(surveyed, surveys)
    answered = (
        select(survey_key.label("key"), literal(SURVEY).label("kind"),
               surveys.c.connection, literal(0), no_data,
               surveys.c.score.label("score"), surveys.c.status.label("status"),
               surveys.c.answered_at.label("at"), surveys.c.id.label("ref"))
        .select_from(joined(surveys, surveyed))
        .where(surveys.c.answered_at <= as_of, surveys.c.score.is_not(None),
               survey_key.is_not(None))
    )
    # A code without a referral is one row with a NULL status (invited, nobody came yet).
    code_key = ledger_key(advocate, codes)
    referred = (
        select(code_key.label("key"), literal(CODE).label("kind"),
               codes.c.connection, literal(0), no_data,
               null().cast(Integer).label("score"), referrals.c.status.label("status"),
               codes.c.created_at.label("at"), codes.c.code.label("ref"))
        .select_from(joined(codes, advocate)
                     .outerjoin(referrals, and_(referrals.c.code == codes.c.code,
                                                referrals.c.attributed_at <= as_of)))
        .where(codes.c.created_at <= as_of, code_key.is_not(None))
    )
    union = union_all(people, bought, installed, answered, referred).subquery("pool")
    return select(union.c.key, union.c.kind, union.c.connection, union.c.data,
                  union.c.score, union.c.status, union.c.at, union.c.ref).order_by(
        union.c.key, union.c.kind, union.c.connection, union.c.row, union.c.at)


def _standing(rows: list[Any]) -> ReferralStanding:
    answers = sorted((row.at, row.score) for row in rows if row.kind == SURVEY)
    code_rows = [row for row in rows if row.kind == CODE]
    states = [row.status for row in code_rows if row.status is not None]
    latest = answers[-1] if answers else (None, None)
    return ReferralStanding(
        satisfaction_score=latest[1], answered_at=latest[0],
        codes=len({row.ref for row in code_rows}),
        referrals=sum(state not in NOT_COUNTED for state in states),
        successful=sum(state in SUCCESSFUL for state in states),
        rewarded=sum(state == "rewarded" for state in states))


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
                           attributes=attributes, referral=_standing(rows))


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
