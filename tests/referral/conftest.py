"""Shared fixtures of the referral tests: a real local SMTP server (aiosmtpd), once per module."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message as EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """What the SMTP server received; ``wait_for(n)`` waits on a condition, never sleeps."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._changed = threading.Condition()
        self.gate: Any = None
        """A ``kill_switch`` the messages go through (as requests "smtp"/``write``): a crash
        test kills a run at its n-th message, before or after the server took it."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.gate is None:
            return self._take(envelope.content)
        # Blocks the server's event loop while a message is held: nothing else may arrive
        # until the killed run is gone, which is what the kill switch wants anyway.
        answer: str = self.gate.through("smtp", "write", lambda: self._take(envelope.content),
                                        lambda: "421 the run was killed")
        return answer

    def _take(self, content: bytes) -> str:
        with self._changed:
            self.messages.append(message_from_bytes(content, policy=default))
            self._changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.messages) >= count, timeout), (
                f"the SMTP server received {len(self.messages)} messages, expected {count}")
            return list(self.messages)

    def clear(self) -> None:
        with self._changed:
            self.messages.clear()


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    # aiosmtpd's Controller probes its own port to know it is ready, so it needs a real
    # number, not 0: a port the kernel just handed out and that nothing else binds to.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp_server: tuple[Inbox, int]) -> Iterator[Inbox]:
    smtp_server[0].clear()
    yield smtp_server[0]
    smtp_server[0].gate = None


@pytest.fixture
def smtp_port(smtp_server: tuple[Inbox, int]) -> int:
    return smtp_server[1]


def _active_code(store: Any, *, connection: str, customer_id: str, email: str, code: str,
                 at: Any) -> str:
    """A satisfied advocate's code, active in the ledger as the loop leaves it after the
    survey → answer → invitation steps (which other tests drive end to end)."""
    from shoploop.store import add_code, add_invitation, add_survey, get_survey, transition

    with store.session() as session:
        survey_id = add_survey(session, connection=connection, customer_id=customer_id,
                               email=email, order_id=f"first-{customer_id}", period=1,
                               language="en", due_at=at, now=at, cause="seeded")
        assert survey_id is not None
        transition(session, "survey", survey_id, "sent", cause="seeded", now=at, sent_at=at)
        transition(session, "survey", survey_id, "answered", cause="seeded", now=at, score=5,
                   answered_at=at)
        survey = get_survey(session, survey_id)
        assert survey is not None
        invitation = add_invitation(session, survey=survey, now=at, cause="seeded")
        transition(session, "invitation", invitation.id, "sent", cause="seeded", now=at)
        made = add_code(session, code=code, invitation=invitation, now=at, cause="seeded")
        transition(session, "code", made.code, "active", cause="seeded", now=at)
        return made.code


@pytest.fixture
def active_code() -> Any:
    """``active_code(store, connection=, customer_id=, email=, code=, at=)`` → the code,
    active in the ledger (survey answered 5, invitation sent)."""
    return _active_code


@pytest.fixture(scope="module")
def shop_emulator() -> Iterator[Any]:
    """A Shopify emulator for a module's tests (an empty shop; it signs webhooks as Shopify
    does: ``shop_emulator.webhooks.deliver(topic, payload) -> (body, headers)``)."""
    from shoploop.hooks import EmulatorOptions
    from shoploop.plugins.shopify.emulator import ShopifyEmulator

    emulator = ShopifyEmulator(EmulatorOptions(customers=0))
    emulator.start()
    yield emulator
    emulator.stop()


class ShopReceiver:
    """``shoploop serve``'s app over a store, on a real socket, with a Shopify connection
    "shop" to ``shop_emulator``: ``url`` is its webhook address, ``settled(n)`` waits until
    its worker processed ``n`` deliveries, ``run(now)`` is one ``referral run``."""

    def __init__(self, store: Any, config: Any, host: Any, base: str,
                 app_receiver: Any) -> None:
        from shoploop._connections import Connections

        self.store, self.config, self.host = store, config, host
        self.url = f"{base}/webhooks/shop"
        self.app_receiver = app_receiver
        self.connections = Connections(config, host.connectors)

    def settled(self, count: int, timeout: float = 60.0) -> None:
        assert self.app_receiver.wait_settled(count, timeout), \
            f"the worker did not process {count} deliveries within {timeout} s"

    def run(self, now: Any, environ: Any = None) -> Any:
        from shoploop._context import hook_context
        from shoploop.referral import run_referrals

        return run_referrals(self.host, self.store, self.config.referral, now,
                             environ=environ or {}, context=hook_context(
                                 self.config, self.connections, store=self.store, now=now))


@pytest.fixture
def shop_receiver(store: Any, shop_emulator: Any, tmp_path: Any,
                  monkeypatch: pytest.MonkeyPatch, served: Any) -> Any:
    """``with shop_receiver(referral_table) as receiver:`` — see :class:`ShopReceiver`."""
    import tomllib
    from contextlib import contextmanager

    from shoploop import load_plugins
    from shoploop._config import parse_config
    from shoploop.web import create_app
    from shoploop.web._webhooks import receiver_of

    for key, value in shop_emulator.environment().items():
        monkeypatch.setenv(key, value)

    @contextmanager
    def serve(referral: dict[str, Any]) -> Iterator[ShopReceiver]:
        host = load_plugins(strict=True)
        connections = tomllib.loads(shop_emulator.connection_block("shop"))["connections"]
        config = parse_config({"store": {"url": store.url}, "connections": connections,
                               "referral": referral}, host.connectors,
                              file=str(tmp_path / "shoploop.toml"), base_dir=tmp_path)
        app = create_app(host, config, store)
        with served(app) as base:
            receiver = ShopReceiver(store, config, host, base, receiver_of(app.state.shoploop))
            try:
                yield receiver
            finally:
                receiver.connections.close()

    return serve
