"""The referral loop in ``shoploop demo``: simulated time, the Shopify and ERP emulators on
loopback, messages as ``.eml`` files in the demo folder (``[referral.outbox]``, no mail
server needed).

Four customers bought in the shop; a month later the loop surveys them, three answer (from
the link in their e-mail), the two satisfied ones get a personal code (created in the Shopify
emulator) and an invitation. A friend orders with Anna's code; Emil uses his own code under a
``+tag`` address — the self-referral rule rejects it. After the return window Anna's reward,
the seed's binoculars, is booked in the ERP emulator as a free-of-charge order for her ERP
customer (found through the identity binding the sync keeps). Each step is one
``run_referrals`` call at a simulated ``now``, as ``shoploop referral run --now`` would do.
"""

from __future__ import annotations

import re
import secrets
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from shoploop.hooks import Customer, EmulatorOptions, LineItem, Order

from ._plugins import PluginHost
from .jobs import mirror_stream
from .referral import funnel_rates, record_answer, run_referrals
from .store import (
    Store,
    bind_identity,
    mirrored_customers,
    referral_funnel,
    referrals_with_status,
)

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
"""When the four customers bought (simulated time; the loop never reads the clock)."""
GIFT = "FERNGLAS-10x42"
BUYERS = (("anna@example.org", "Anna", 5), ("carla@example.org", "Carla", 2),
          ("dora@example.org", "Dora", None), ("emil@example.org", "Emil", 4))
"""E-mail, first name and the survey answer (None: never answers)."""
FRIENDS = (("ben@example.net", "Ben", "anna@example.org"),
           ("emil+deals@example.org", "Emil", "emil@example.org"))
"""A friend's e-mail, name and whose code they use: Ben is a real friend, the second is Emil
himself under a ``+tag`` address (rejected by ``self_referral``)."""
REFERRAL_TOML = """\
# Written by `shoploop demo`: the referral loop it ran in simulated time against the Shopify
# and ERP emulators (they stopped when it ended). The ledger stays in referral.db and the
# e-mails in outbox/; from this folder:
#   shoploop -c referral.toml referral funnel
#   shoploop -c referral.toml referral show CODE   (a code from the demo's output)
[store]
url = "sqlite:///referral.db"

[referral]
shops = ["shop"]
smtp = { enabled = false }       # no mail server: the outbox below gets every message
outbox = { directory = "%s" }
reward = { kind = "gift_order", connection = "erp", product_id = "%s" }
"""


def _customer(number: int, email: str, name: str) -> Customer:
    return Customer(id=str(number), email=email, first_name=name,
                    created_at=T0 - timedelta(days=400))


def _order(number: int, customer: Customer, placed: datetime,
           codes: tuple[str, ...] = ()) -> Order:
    return Order(id=str(number), customer_id=customer.id, email=customer.email,
                 placed_at=placed, updated_at=placed, status="paid",
                 discount_codes=list(codes),
                 lines=[LineItem(name="Kaffeemühle", quantity=1, unit_price=Decimal("89"))])


def _messages(outbox: Path, kind: str) -> list[Any]:
    """The outbox's messages of one kind (the idempotency key starts the file's name)."""
    return [message_from_bytes(path.read_bytes(), policy=default)
            for path in sorted(outbox.glob(f"{kind}-*.eml"))]


def run_referral_demo(host: PluginHost, directory: Path, *, step: Any) -> dict[str, Any]:
    """Run the loop; returns each simulated run's counts, the funnel rows, the ERP's gift
    orders and where the messages and the ledger are."""
    from ._config import load_config
    from ._connections import Connections
    from ._context import hook_context
    from .demo import secrets_in_environment

    outbox = directory / "outbox"
    for stale in (outbox, directory / "referral.db"):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    step("referral loop in simulated time: surveys a month after the orders, answers from "
         "the e-mails' links, codes in the Shopify emulator, the gift booked in the ERP "
         f"emulator; e-mails as .eml files in {outbox}")
    # Through the host's emulator registry, like the sync demo: the core imports no plugin.
    # Any: the demo loads data through each emulator's own API, beyond the Emulator protocol.
    shop_emulator: Any = host.emulators.emulators["shopify"].factory(EmulatorOptions(customers=0))
    erp_emulator: Any = host.emulators.emulators["erp"].factory(EmulatorOptions(customers=0))
    shop_emulator.start()
    try:
        erp_emulator.start()
        buyers = [_customer(n, email, name) for n, (email, name, _) in
                  enumerate(BUYERS, start=101)]
        shop_emulator.data.load(customers=buyers, orders=[
            _order(5001 + i, c, T0 - timedelta(hours=i)) for i, c in enumerate(buyers)])
        anna = buyers[0]
        erp_emulator.load(customers=[Customer(id="K-1001", customer_number="K-1001",
                                              email=anna.email, first_name=anna.first_name)])
        path = directory / "referral.toml"
        path.write_text("\n".join([REFERRAL_TOML % (outbox.resolve().as_posix(), GIFT),
                                   shop_emulator.connection_block("shop"),
                                   erp_emulator.connection_block("erp")]), encoding="utf-8")
        config = load_config(path, host.connectors, environ={})
        # The link-signing secret of this run only: the demo's links are not kept.
        environ = {config.referral.secret_env: secrets.token_urlsafe(32)}
        with secrets_in_environment({**shop_emulator.environment(),
                                     **erp_emulator.environment()}), \
                Store(f"sqlite:///{directory / 'referral.db'}") as store, \
                Connections(config, host.connectors) as connections:
            store.upgrade()
            demo = _Demo(host, config, store, connections, environ, hook_context, outbox)
            demo.run_all(shop_emulator, buyers, step)
            gifts = [row for _, row in erp_emulator.tables["SalesOrder"].rows()]
            with store.session() as session:
                funnel = funnel_rates(referral_funnel(session))
        return {"config": str(path), "outbox": str(outbox), "runs": demo.runs,
                "funnel": funnel, "erp_gift_orders": len(gifts),
                "shop_codes": sorted(shop_emulator.data.codes),
                "advocate_code": demo.codes.get(BUYERS[0][0]), "rejected": demo.rejected}
    finally:
        shop_emulator.stop()
        erp_emulator.stop()


class _Demo:
    """The simulated weeks: import from the shop, run the loop at a ``now``, answer."""

    def __init__(self, host: PluginHost, config: Any, store: Store, connections: Any,
                 environ: dict[str, str], hook_context: Any, outbox: Path) -> None:
        self.host, self.config, self.store = host, config, store
        self.connections, self.environ = connections, environ
        self.hook_context, self.outbox = hook_context, outbox
        self.runs: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self.codes: dict[str, str] = {}  # the advocates' codes, from their invitations

    def import_shop(self) -> None:
        for stream in ("customers", "orders"):
            mirror_stream(self.connections["shop"], self.store, connection="shop",
                          stream=stream)

    def run(self, label: str, now: datetime, step: Any) -> dict[str, int]:
        report = run_referrals(self.host, self.store, self.config.referral, now,
                               context=self.hook_context(self.config, self.connections,
                                                         store=self.store, now=now),
                               environ=self.environ, experiments=self.config.experiments)
        counts = {k: v for k, v in report.counts.items() if v}
        self.runs.append({"label": label, "now": now.isoformat(), "counts": counts,
                          "problems": report.problems})
        step(f"referral run --now {now:%Y-%m-%d}: {label}: "
             + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do"))
        return counts

    def run_all(self, shop_emulator: Any, buyers: list[Customer], step: Any) -> None:
        self.import_shop()
        # The sync's identity binding: Anna of the shop is K-1001 in the ERP.
        with self.store.session() as session:
            anna = next(c for c in mirrored_customers(session, "shop")
                        if c.email == buyers[0].email)
            bind_identity(session, "erp", "customer", "K-1001",
                          bind_identity(session, "shop", "customer", anna.id))
        self.run("surveys a month after the orders", T0 + timedelta(days=30), step)
        answers = {email: score for email, _, score in BUYERS}
        answered_at = T0 + timedelta(days=31)
        for survey in _messages(self.outbox, "survey"):
            score = answers.get(str(survey["To"]))
            if score is None:
                continue
            body = survey.get_body(("plain",)).get_content()
            token = re.search(r"/survey/([^\s?]+)", body)
            if token is not None:
                record_answer(self.store, self.config.referral, token[1], score=score,
                              now=answered_at, environ=self.environ)
        self.run("3 of 4 answered; the satisfied get a code and an invitation",
                 answered_at, step)
        codes = self.codes
        for invitation in _messages(self.outbox, "invitation"):
            found = re.search(r"FRIEND-[A-Z0-9]{8}",
                              invitation.get_body(("plain",)).get_content())
            if found is not None:
                codes[str(invitation["To"])] = found[0]
        placed = T0 + timedelta(days=35)
        friends = [_customer(n, email, name) for n, (email, name, _) in
                   enumerate(FRIENDS, start=201)]
        shop_emulator.data.load(customers=friends, orders=[
            _order(6001 + i, friend, placed + timedelta(hours=i), (codes[advocate],))
            for i, (friend, (_, _, advocate)) in enumerate(zip(friends, FRIENDS,
                                                               strict=True))
            if advocate in codes])
        self.import_shop()
        self.run("two orders with personal codes, imported from the shop", placed
                 + timedelta(hours=3), step)
        self.run("return window over: qualified or rejected, rewarded, thanked",
                          placed + timedelta(days=15), step)
        self.run("again: nothing new (idempotent)", placed + timedelta(days=15), step)
        with self.store.session() as session:
            self.rejected = [f"{r.email}: " + "; ".join(
                f"{f['rule']}: {f['reason']}" for f in r.reasons.get("findings", [])
                if f.get("rejects")) for r in referrals_with_status(session, ["rejected"])]
