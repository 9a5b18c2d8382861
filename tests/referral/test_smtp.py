"""The built-in SMTP channel delivers through a real local SMTP server."""

from __future__ import annotations

import socket
from typing import Any

import pytest

import shoploop
from shoploop.combine import deliver_message
from shoploop.hooks import HookContext, Message, PluginError
from shoploop.referral import smtp

MESSAGE = Message(kind="survey", to="anna@example.org", subject="Wie zufrieden sind Sie?",
                  text="Bitte bewerten Sie uns: 1 to 5", html="<p>Bitte bewerten Sie uns</p>",
                  language="de", idempotency_key="survey-S-0001")


def _context(port: int, **smtp_table: object) -> HookContext:
    return HookContext(config={"referral": {"smtp": {"host": "127.0.0.1", "port": port,
                                                     "sender": "shop@huber.example",
                                                     **smtp_table}}})


def test_smtp_channel_delivers_text_and_html_with_a_stable_message_id(inbox: Any,
                                                                      smtp_port: int):
    host = shoploop.new_host(strict=True)
    host.register(smtp, name="referral_smtp")
    plugin, receipt = deliver_message(host, _context(smtp_port), MESSAGE) or ("", None)
    assert plugin == "referral_smtp" and receipt is not None and receipt.channel == "smtp"
    [email] = inbox.wait_for(1)
    assert (email["To"], email["From"]) == ("anna@example.org", "shop@huber.example")
    assert email["Subject"] == "Wie zufrieden sind Sie?"
    assert email["Message-ID"] == receipt.reference == "<survey-S-0001@huber.example>"
    assert email["Content-Language"] == "de"
    parts = {part.get_content_type(): part.get_payload(decode=True).decode()
             for part in email.walk() if not part.is_multipart()}
    assert "Bitte bewerten Sie uns: 1 to 5" in parts["text/plain"]
    assert "<p>Bitte bewerten Sie uns</p>" in parts["text/html"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_smtp_channel_disabled_or_unreachable_delivers_nothing():
    unused_tcp_port = _closed_port()
    host = shoploop.new_host()
    host.register(smtp, name="referral_smtp")
    assert deliver_message(host, _context(unused_tcp_port, enabled=False), MESSAGE) is None
    assert host.failures == []
    assert deliver_message(host, _context(unused_tcp_port), MESSAGE) is None
    [failure] = host.failures  # refused connection: isolated, named
    assert (failure.plugin, failure.hook) == ("referral_smtp", "message_delivery")


def test_smtp_login_without_password_names_the_key(smtp_port: int):
    host = shoploop.new_host(strict=True)
    host.register(smtp, name="referral_smtp")
    with pytest.raises(PluginError, match=r"referral\.smtp\.password_env"):
        deliver_message(host, _context(smtp_port, username="shop", password_env="NOPE_X"),
                        MESSAGE)
