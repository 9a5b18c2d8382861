"""The referral job: one plain function over (host, store, settings, now) that the CLI, the
web app and a Celery task all call — ``run_referrals``.

Each phase reads the ledger and the mirror (orders and customers the import and the webhooks
keep in the store), and moves ledger entries along their state machines in short transactions;
a remote call (a message, a code or a reward) happens between two of them, so a crash leaves
the ledger at the last committed step and the next run carries on from there. Phases:

1. surveys due (N days after a paid order, one per customer and period) are sent;
2. satisfied answers get an invitation and a personal code, created in the shop;
3. orders carrying a known code (used, or recorded by the landing) become referrals, once;
4. referrals are qualified (paid, return window over, no rejecting fraud finding) or
   cancelled/rejected, each with its reason (``_qualify``);
5. qualified referrals are rewarded exactly once through the intent mechanism, thanked, and
   reversed after a refund when the policy says so (``_rewards``).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shoploop.combine import deliver_message, detect_referrals
from shoploop.hooks import HookContext, IssuesRewards, Order, RewardSpec
from shoploop.store import (
    Store,
    add_code,
    add_invitation,
    add_referral,
    add_survey,
    codes_with_status,
    find_code,
    get_survey,
    invitations_with_status,
    is_opted_out,
    mirrored_customers,
    mirrored_orders,
    referral_of_order,
    surveys_with_status,
    transition,
)

from .._plugins import PluginHost
from ._experiment import ReferralArms
from ._links import link_secret, survey_link
from ._messages import render_message
from ._settings import ReferralSettings

SURVEYED_STATUSES = ("paid", "fulfilled")


@dataclass
class RunReport:
    """What one run did (or, with ``dry_run``, would do): counts per step, and problems."""

    now: datetime
    dry_run: bool
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "now": self.now.isoformat(), "dry_run": self.dry_run,
                "counts": dict(sorted(self.counts.items())), "problems": self.problems}


@dataclass
class Loop:
    """One run's shared state: the host, the store, the settings, the clock and a cache of
    the mirror (orders and customers per connection, read once per run)."""

    host: PluginHost
    store: Store
    settings: ReferralSettings
    context: HookContext
    report: RunReport
    environ: Mapping[str, str] | None = None
    arms: ReferralArms = field(default_factory=lambda: ReferralArms({}))
    _orders: dict[str, dict[str, Order]] = field(default_factory=dict)
    _customers: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return self.report.now

    @property
    def dry_run(self) -> bool:
        return self.report.dry_run

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self.store.session() as session:
            yield session

    def orders(self, connection: str) -> dict[str, Order]:
        if connection not in self._orders:
            with self.session() as session:
                self._orders[connection] = {o.id: o for o in mirrored_orders(session,
                                                                           connection)}
        return self._orders[connection]

    def customers(self, connection: str) -> dict[str, Any]:
        if connection not in self._customers:
            with self.session() as session:
                self._customers[connection] = {c.id: c for c in mirrored_customers(
                    session, connection)}
        return self._customers[connection]

    def shops(self) -> list[str]:
        if self.settings.shops:
            return list(self.settings.shops)
        from sqlalchemy import select  # the one query of the mirror's own columns

        from shoploop.store import OrderRecord
        with self.session() as session:
            return sorted(session.scalars(select(OrderRecord.connection).distinct()))

    def connector(self, connection: str) -> Any:
        try:
            return self.context.connectors[connection]
        except KeyError:
            raise_missing(connection)

    def deliver(self, kind: str, *, to: str | None, language: str, key: str,
                customer_id: str | None, connection: str, **values: Any) -> bool:
        if not to:
            return False
        message = render_message(kind, language, to=to, idempotency_key=key,
                                 customer_id=customer_id, connection=connection, **values)
        receipt = deliver_message(self.host, self.context, message)
        if receipt is None:
            self.report.problems.append(f"{kind} {key}: no message channel delivered it "
                                        "(retried on the next run)")
            self.report.add(f"{kind}_undelivered")
            return False
        return True


def raise_missing(connection: str) -> Any:
    from shoploop.hooks import ConfigError
    raise ConfigError(f"the referral loop needs connection {connection!r}, which is not "
                      "configured", key=f"connections.{connection}",
                      remedy="add the connection or fix [referral] shops / reward.connection")


# -- 1. surveys ----------------------------------------------------------------------------------

def schedule_surveys(loop: Loop) -> None:
    """A due survey per customer and period for every paid order whose delay has passed."""
    settings = loop.settings
    for connection in loop.shops():
        default_delay = timedelta(days=settings.survey_delay_for(connection))
        language = settings.language_for(connection)
        customers = loop.customers(connection)
        with loop.session() as session:
            for order in loop.orders(connection).values():
                if order.customer_id is None or order.status not in SURVEYED_STATUSES:
                    continue
                delay, arm = default_delay, ""
                # Before the due check: the order is the customer's exposure (_experiment).
                variant = loop.arms.variant_for_order(
                    session, connection, order.customer_id, order.placed_at
                ) if loop.arms.experiments else None
                if variant is not None and variant.survey_delay_days is not None:
                    delay = timedelta(days=variant.survey_delay_days)
                    arm = f" (experiment arm {variant.name})"
                due_at = order.placed_at + delay
                if due_at > loop.now:
                    continue
                period = int(due_at.timestamp() // 86400) // settings.survey_period_days
                customer = customers.get(order.customer_id)
                email = order.email or (customer.email if customer is not None else None)
                if loop.dry_run:
                    continue
                if add_survey(session, connection=connection, customer_id=order.customer_id,
                              email=email, order_id=order.id, period=period,
                              language=language, due_at=due_at, now=loop.now,
                              cause=f"order {order.id} paid {order.placed_at:%Y-%m-%d}; "
                                    f"{delay.days} days passed{arm}"):
                    loop.report.add("surveys_scheduled")


def send_surveys(loop: Loop) -> None:
    due = _read(loop, lambda s: surveys_with_status(s, "due", due_before=loop.now))
    if loop.dry_run:
        loop.report.add("surveys_to_send", len(due))
        return
    secret = link_secret(loop.settings, loop.environ) if due else b""
    for survey in due:
        with loop.session() as session:
            if not survey.email or is_opted_out(session, survey.email):
                transition(session, "survey", survey.id, "skipped", now=loop.now,
                           cause="opted out" if survey.email else "no e-mail address")
                loop.report.add("surveys_skipped")
                continue
        link = survey_link(loop.settings, secret, survey.id, loop.now)
        if loop.deliver("survey", to=survey.email, language=survey.language,
                        key=f"survey-{survey.id}", customer_id=survey.customer_external_id,
                        connection=survey.connection, order=survey.order_external_id,
                        link=link):
            with loop.session() as session:
                transition(session, "survey", survey.id, "sent", now=loop.now,
                           cause="e-mailed", sent_at=loop.now)
            loop.report.add("surveys_sent")


# -- 2. invitations and codes ----------------------------------------------------------------

def invite_satisfied(loop: Loop) -> None:
    threshold = loop.settings.satisfied_threshold
    answered = _read(loop, lambda s: [x for x in surveys_with_status(s, "answered")
                                      if (x.score or 0) >= threshold])
    for survey in answered:
        if loop.dry_run:
            continue
        with loop.session() as session:
            invitation = add_invitation(session, survey=survey, now=loop.now,
                                        cause=f"answered {survey.score} (satisfied from "
                                              f"{threshold})")
            code = _new_code(loop.settings.code_prefix)
            add_code(session, code=code, invitation=invitation, now=loop.now,
                     cause="personal code for the invitation")
    _activate_codes(loop)
    _send_invitations(loop)


def _new_code(prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand
    return prefix.upper() + "".join(secrets.choice(alphabet) for _ in range(8))


def _activate_codes(loop: Loop) -> None:
    """Create each pending code in its shop for the friend's side (a discount code or a
    coupon), idempotent per code: the adapters find a code they issued before."""
    friend = loop.settings.friend
    pending = _read(loop, lambda s: codes_with_status(s, "pending"))
    if loop.dry_run:
        loop.report.add("codes_to_create", len(pending))
        return
    for code in pending:
        connector = loop.connector(code.connection)
        if not isinstance(connector, IssuesRewards):
            loop.report.problems.append(f"code {code.code}: connection {code.connection!r} "
                                        "cannot create codes (no issue_rewards capability)")
            continue
        spec = RewardSpec(kind=friend.kind, idempotency_key=f"code-{code.code}",
                          code=code.code, amount=friend.amount, percentage=friend.percentage,
                          expires_at=loop.now + timedelta(days=friend.valid_days),
                          note=f"referral code of customer {code.customer_external_id}")
        issued = connector.issue_reward(spec)
        with loop.session() as session:
            transition(session, "code", code.code, "active", now=loop.now,
                       cause=f"created in {code.connection} as {issued.reference}",
                       shop_reference=issued.reference)
        loop.report.add("codes_created")


def friend_offer(loop: Loop) -> str:
    return loop.settings.friend.offer_text()


def _send_invitations(loop: Loop) -> None:
    created = _read(loop, lambda s: invitations_with_status(s, "created"))
    for invitation in created:
        with loop.session() as session:
            survey = get_survey(session, invitation.survey_id)
            code = next((c for c in codes_with_status(session, "active")
                         if c.invitation_id == invitation.id), None)
            opted_out = is_opted_out(session, invitation.email)
        if code is None or survey is None or loop.dry_run:
            continue
        if opted_out:
            with loop.session() as session:
                transition(session, "invitation", invitation.id, "skipped", now=loop.now,
                           cause="opted out")
            continue
        landing = f"{loop.settings.base_url.rstrip('/')}/r/{code.code}"
        if loop.deliver("invitation", to=invitation.email, language=survey.language,
                        key=f"invitation-{invitation.id}",
                        customer_id=invitation.customer_external_id,
                        connection=invitation.connection, code=code.code,
                        offer=friend_offer(loop), landing=landing):
            with loop.session() as session:
                transition(session, "invitation", invitation.id, "sent", now=loop.now,
                           cause=f"e-mailed with code {code.code}", sent_at=loop.now)
            loop.report.add("invitations_sent")


# -- 3. attribution ------------------------------------------------------------------------------

def attribute_orders(loop: Loop) -> None:
    """Each order that carries an active code becomes a referral, once (the order's unique
    key decides, however often and through whichever path the order was seen)."""
    active = _read(loop, lambda s: {c.code: c for c in codes_with_status(s, "active")})
    if not active:
        return
    since = min(c.created_at for c in active.values())
    for connection in loop.shops():
        for order in loop.orders(connection).values():
            if order.placed_at < since:
                continue
            with loop.session() as session:
                if referral_of_order(session, connection, order.id) is not None:
                    continue
                for detection in detect_referrals(loop.host, loop.context, order, connection):
                    code = find_code(session, detection.code)
                    if code is None or code.code not in active:
                        continue
                    if loop.dry_run:
                        loop.report.add("orders_to_attribute")
                        break
                    _, created = add_referral(
                        session, code=code.code, connection=connection, order_id=order.id,
                        customer_id=order.customer_id, email=order.email,
                        attributed_by=detection.via, order_total=order.total,
                        currency=order.currency, placed_at=order.placed_at, now=loop.now,
                        cause=f"order {order.id}: {detection.evidence or detection.via}")
                    if created:
                        loop.report.add("orders_attributed")
                    break


def _read(loop: Loop, query: Any) -> Any:
    with loop.session() as session:
        return query(session)
