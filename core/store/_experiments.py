"""Experiments' rows: assignments at first exposure, the tagged storefront events, and the
orders of the assigned people (docs/experiments.md). The analysis is ``shoploop.experiments``'.

A customer is one unit across systems: :func:`customer_key` is the identity-bound internal id
when the sync bound the customer (the same for the ERP and every shop), else
``"<connection>/<external id>"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ._dialect import one_of, upsert_insert
from ._identity import resolve_internal_id
from ._schema import (
    ExperimentAssignmentRecord,
    IdentityBinding,
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    WebEventRecord,
    table,
)
from ._types import utcnow

CUSTOMER = "customer"
_BATCH = 500


@dataclass(frozen=True)
class Assignment:
    experiment: str
    unit_kind: str
    unit_key: str
    variant: str
    customer_key: str | None
    first_exposed_at: datetime


@dataclass(frozen=True)
class ExperimentEvent:
    unit_key: str
    variant: str
    type: str
    connection: str
    product_external_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class CustomerOrderLine:
    """One line of an order of an assigned person, with what attribution needs."""

    customer_key: str
    connection: str
    order_external_id: str
    placed_at: datetime
    status: str
    currency: str
    order_total: Decimal
    refunded_total: Decimal
    position: int
    product_external_id: str | None
    sku: str | None
    quantity: int
    unit_price: Decimal


def customer_key(session: Session, connection: str, external_id: str) -> str:
    """The person behind a customer id: the bound internal id, else ``connection/id``."""
    internal = resolve_internal_id(session, connection, CUSTOMER, external_id)
    return internal if internal is not None else f"{connection}/{external_id}"


def _assignment(row: ExperimentAssignmentRecord) -> Assignment:
    return Assignment(row.experiment, row.unit_kind, row.unit_key, row.variant,
                      row.customer_key, row.first_exposed_at)


def stored_assignment(session: Session, experiment: str, unit_key: str) -> Assignment | None:
    row = session.scalar(select(ExperimentAssignmentRecord).where(
        ExperimentAssignmentRecord.experiment == experiment,
        ExperimentAssignmentRecord.unit_key == unit_key))
    return _assignment(row) if row is not None else None


def record_assignment(session: Session, *, experiment: str, unit_kind: str, unit_key: str,
                      variant: str, customer_key: str | None = None,
                      at: datetime | None = None) -> Assignment:
    """Store the unit's variant at its first exposure and return what is stored: the first
    insert wins (also against a concurrent writer: the unique constraint decides), so a later
    call with another variant — shares changed — returns the original."""
    session.execute(upsert_insert(session, table("experiment_assignments")).values(
        experiment=experiment, unit_kind=unit_kind, unit_key=unit_key, variant=variant,
        customer_key=customer_key, first_exposed_at=at or utcnow(),
    ).on_conflict_do_nothing(index_elements=["experiment", "unit_key"]))
    stored = stored_assignment(session, experiment, unit_key)
    assert stored is not None  # inserted now or before
    return stored


def experiment_assignments(session: Session, experiment: str) -> list[Assignment]:
    rows = session.scalars(select(ExperimentAssignmentRecord).where(
        ExperimentAssignmentRecord.experiment == experiment).order_by(
        ExperimentAssignmentRecord.id))
    return [_assignment(row) for row in rows]


def experiment_counts(session: Session) -> dict[str, dict[str, int]]:
    """Assigned units per experiment and variant (for ``experiments list``)."""
    found: dict[str, dict[str, int]] = {}
    query = select(ExperimentAssignmentRecord.experiment, ExperimentAssignmentRecord.variant,
                   func.count()).group_by(ExperimentAssignmentRecord.experiment,
                                          ExperimentAssignmentRecord.variant)
    for experiment, variant, count in session.execute(query):
        found.setdefault(experiment, {})[variant] = int(count)
    return found


def experiment_events(session: Session, experiment: str) -> list[ExperimentEvent]:
    """The storefront events tagged with ``experiment``, oldest first."""
    rows = session.execute(select(
        WebEventRecord.unit_key, WebEventRecord.variant, WebEventRecord.type,
        WebEventRecord.connection, WebEventRecord.product_external_id,
        WebEventRecord.occurred_at).where(WebEventRecord.experiment == experiment,
                                          WebEventRecord.unit_key.is_not(None))
        .order_by(WebEventRecord.occurred_at, WebEventRecord.id))
    return [ExperimentEvent(unit or "", variant or "", kind, connection, product, at)
            for unit, variant, kind, connection, product, at in rows]


def product_skus(session: Session, products: Iterable[tuple[str, str]]) -> dict[
        tuple[str, str], str]:
    """(connection, external id) → SKU of the mirrored products that have one."""
    by_connection: dict[str, list[str]] = {}
    for connection, external in set(products):
        by_connection.setdefault(connection, []).append(external)
    found: dict[tuple[str, str], str] = {}
    for connection, externals in by_connection.items():
        for start in range(0, len(externals), _BATCH):
            rows = session.execute(select(ProductRecord.external_id, ProductRecord.sku).where(
                ProductRecord.connection == connection, ProductRecord.sku.is_not(None),
                one_of(session, table("products").c.external_id, externals[start:start + _BATCH])))
            found.update({(connection, external): sku for external, sku in rows if sku})
    return found


def _customers_of(session: Session, keys: Iterable[str]) -> dict[tuple[str, str], str]:
    """(connection, customer external id) → customer key, for every id each key has."""
    wanted = sorted(set(keys))
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(wanted), _BATCH):
        rows = session.execute(select(
            IdentityBinding.connection, IdentityBinding.external_id,
            IdentityBinding.internal_id).where(
            IdentityBinding.entity_type == CUSTOMER,
            one_of(session, table("identity_bindings").c.internal_id,
                   wanted[start:start + _BATCH])))
        found.update({(connection, external): internal
                      for connection, external, internal in rows})
    for key in wanted:  # unbound customers: "connection/external id"
        connection, slash, external = key.partition("/")
        if slash:
            found.setdefault((connection, external), key)
    return found


def customer_order_lines(session: Session, keys: Iterable[str], *,
                         since: datetime) -> list[CustomerOrderLine]:
    """The order lines of the people ``keys`` name (in every bound connection), of orders
    placed at or after ``since``, ordered by placement time."""
    customers = _customers_of(session, keys)
    by_connection: dict[str, list[str]] = {}
    for connection, external in customers:
        by_connection.setdefault(connection, []).append(external)
    lines: list[CustomerOrderLine] = []
    for connection, externals in sorted(by_connection.items()):
        for start in range(0, len(externals), _BATCH):
            rows = session.execute(select(OrderRecord, OrderLineRecord).join(
                OrderLineRecord, OrderLineRecord.order_id == OrderRecord.id).where(
                OrderRecord.connection == connection, OrderRecord.placed_at >= since,
                one_of(session, table("orders").c.customer_external_id,
                       externals[start:start + _BATCH])))
            for order, line in rows:
                refunded = Decimal(str(order.data.get("refunded_total") or 0))
                lines.append(CustomerOrderLine(
                    customers[(connection, order.customer_external_id or "")], connection,
                    order.external_id, order.placed_at, order.status, order.currency,
                    order.total, refunded, line.position, line.product_external_id, line.sku,
                    line.quantity, line.unit_price))
    lines.sort(key=lambda line: (line.placed_at, line.order_external_id, line.position))
    return lines


@dataclass(frozen=True)
class PersonSurvey:
    """A survey of an assigned person, for a referral experiment's report."""

    customer_key: str
    due_at: datetime
    sent: bool
    answered: bool
    invited: bool
    """The answer was satisfied: an invitation was created for it."""


@dataclass(frozen=True)
class PersonReferral:
    """A referral of an assigned person's code, with its reward's value if one was issued."""

    customer_key: str
    placed_at: datetime
    status: str
    reward_kind: str | None
    reward_value: Decimal | None
    reward_currency: str | None


_ISSUED = ("issued", "thanked", "revoking", "kept")


def _people(session: Session, keys: Iterable[str]) -> dict[str, dict[tuple[str, str], str]]:
    by_connection: dict[str, dict[tuple[str, str], str]] = {}
    for (connection, external), key in _customers_of(session, keys).items():
        by_connection.setdefault(connection, {})[(connection, external)] = key
    return by_connection


def referral_loop_of_people(session: Session, keys: Iterable[str]) -> tuple[
        list[PersonSurvey], list[PersonReferral]]:
    """The surveys of the people ``keys`` name and the referrals of their codes (in every
    bound connection): what a referral experiment's report counts."""
    from ._referral_schema import (
        ReferralCodeRecord,
        ReferralInvitationRecord,
        ReferralRecord,
        ReferralRewardRecord,
        ReferralSurveyRecord,
    )

    surveys: list[PersonSurvey] = []
    referrals: list[PersonReferral] = []
    for connection, customers in sorted(_people(session, keys).items()):
        externals = sorted(external for _, external in customers)
        for start in range(0, len(externals), _BATCH):
            chunk = externals[start:start + _BATCH]
            rows = session.execute(select(
                ReferralSurveyRecord, ReferralInvitationRecord.id).outerjoin(
                ReferralInvitationRecord,
                ReferralInvitationRecord.survey_id == ReferralSurveyRecord.id).where(
                ReferralSurveyRecord.connection == connection,
                one_of(session, table("referral_surveys").c.customer_external_id, chunk)))
            for survey, invitation in rows:
                surveys.append(PersonSurvey(
                    customers[(connection, survey.customer_external_id)], survey.due_at,
                    survey.sent_at is not None, survey.answered_at is not None,
                    invitation is not None))
            referred = session.execute(select(
                ReferralCodeRecord.customer_external_id, ReferralRecord,
                ReferralRewardRecord).join(
                ReferralRecord, ReferralRecord.code == ReferralCodeRecord.code).outerjoin(
                ReferralRewardRecord, ReferralRewardRecord.referral_id == ReferralRecord.id
            ).where(ReferralCodeRecord.connection == connection,
                    one_of(session, table("referral_codes").c.customer_external_id, chunk)))
            for customer, referral, reward in referred:
                issued = reward is not None and reward.status in _ISSUED
                spec = reward.spec if issued else {}
                value = spec.get("amount") or spec.get("percentage")
                referrals.append(PersonReferral(
                    customers[(connection, customer)], referral.placed_at, referral.status,
                    reward.kind if issued else None,
                    Decimal(str(value)) if value is not None else None,
                    spec.get("currency") if issued else None))
    return surveys, referrals


def erase_experiment_unit(session: Session, connection: str, external_id: str) -> int:
    """Forget an unbound customer's part in experiments (an erasure): the assignments keyed
    by ``connection/external id`` are deleted, their events untagged (the counts per
    placement stay), a visitor's link to the customer cleared. A bound customer's unit is the
    internal id, which stays while other connections know the person. Returns rows changed."""
    key = f"{connection}/{external_id}"
    changed = 0
    for statement in (
            delete(ExperimentAssignmentRecord).where(
                ExperimentAssignmentRecord.unit_key == key),
            update(ExperimentAssignmentRecord).where(
                ExperimentAssignmentRecord.customer_key == key).values(customer_key=None),
            update(WebEventRecord).where(WebEventRecord.unit_key == key).values(
                unit_key=None, experiment=None, variant=None)):
        result = session.execute(statement.execution_options(synchronize_session=False))
        changed += int(getattr(result, "rowcount", 0) or 0)
    return changed


__all__ = [
    "Assignment",
    "CustomerOrderLine",
    "ExperimentEvent",
    "PersonReferral",
    "PersonSurvey",
    "customer_key",
    "customer_order_lines",
    "erase_experiment_unit",
    "experiment_assignments",
    "experiment_counts",
    "experiment_events",
    "product_skus",
    "record_assignment",
    "referral_loop_of_people",
    "stored_assignment",
]
