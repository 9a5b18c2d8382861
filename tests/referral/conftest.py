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

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._changed:
            self.messages.append(message_from_bytes(envelope.content, policy=default))
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
def inbox(smtp_server: tuple[Inbox, int]) -> Inbox:
    smtp_server[0].clear()
    return smtp_server[0]


@pytest.fixture
def smtp_port(smtp_server: tuple[Inbox, int]) -> int:
    return smtp_server[1]
