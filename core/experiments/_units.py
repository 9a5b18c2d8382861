"""Who is assigned: the experiment's unit for one storefront request, and the unit's variant
(stored at its first exposure, read back after that).

A customer is the identity-bound person (``shoploop.store.customer_key``), so the ERP's
customer and the same person's accounts in two shops hash to one unit and get one variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._assign import assign
from ._settings import ExperimentSettings


@dataclass(frozen=True)
class Unit:
    kind: str
    key: str
    customer_key: str | None
    """The person whose orders count for the unit (None: an anonymous visitor)."""


def _company(session: Session, connection: str, customer_id: str) -> str | None:
    from shoploop.store import CustomerRecord

    data = session.scalar(select(CustomerRecord.data).where(
        CustomerRecord.connection == connection, CustomerRecord.external_id == customer_id))
    company = (data or {}).get("company")
    return company.strip().casefold() if isinstance(company, str) and company.strip() else None


def unit_of(session: Session, settings: ExperimentSettings, *, connection: str,
            customer_id: str | None, visitor_id: str | None) -> Unit | None:
    """The request's unit, or None when the request names none of the kind the experiment
    assigns (such a request gets the control and is not counted)."""
    from shoploop.store import customer_key

    person = customer_key(session, connection, customer_id) if customer_id else None
    if settings.unit == "visitor":
        return Unit("visitor", f"visitor/{visitor_id}", person) if visitor_id else None
    if person is None or customer_id is None:
        return None
    if settings.unit == "account":
        # A B2B account is the customer's company; a customer without one is its own account.
        company = _company(session, connection, customer_id)
        return Unit("account", f"account/{company}" if company else person, person)
    return Unit("customer", person, person)


def exposed_variant(session: Session, name: str, settings: ExperimentSettings, unit: Unit,
                    now: datetime) -> str:
    """The unit's variant: the stored one when the unit was exposed before (shares may have
    changed since), else the hash's, stored now as the first exposure."""
    from shoploop.store import record_assignment, stored_assignment

    stored = stored_assignment(session, name, unit.key)
    if stored is not None:
        return stored.variant
    return record_assignment(session, experiment=name, unit_kind=unit.kind, unit_key=unit.key,
                             variant=assign(name, settings, unit.key),
                             customer_key=unit.customer_key, at=now).variant
