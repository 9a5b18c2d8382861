"""Removing a person's data from the referral ledger without breaking its guarantees.

The ledger's rows are what make a reward "exactly once" (unique keys, the transitions), and
the merchant's accounting refers to issued rewards, so an erasure keeps the rows and clears
what names the person: the e-mail addresses and the survey's free-text comment. The ids are the
platform's own customer ids, which the platform itself redacts.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from ._referral_schema import (
    ReferralCodeRecord,
    ReferralInvitationRecord,
    ReferralRecord,
    ReferralSurveyRecord,
)


def scrub_referral_pii(session: Session, connection: str,
                       customer_external_id: str | None = None) -> int:
    """Clear e-mails and comments of ``connection``'s ledger rows — of one customer (as
    advocate or as referred friend), or of every customer when ``customer_external_id`` is
    None. Returns the rows changed (a repeat changes none)."""
    changed = 0
    for record, extra in ((ReferralSurveyRecord, {"comment": None}),
                          (ReferralInvitationRecord, {}), (ReferralCodeRecord, {}),
                          (ReferralRecord, {})):
        statement = update(record).where(record.connection == connection)
        if customer_external_id is not None:
            statement = statement.where(record.customer_external_id == customer_external_id)
        named: ColumnElement[bool] = record.email.is_not(None)
        if "comment" in extra:
            named = named | ReferralSurveyRecord.comment.is_not(None)
        result = session.execute(statement.where(named).values(email=None, **extra)
                                 .execution_options(synchronize_session=False))
        changed += int(getattr(result, "rowcount", 0) or 0)
    return changed
