"""The built-in message channel: e-mail over SMTP with ``smtplib`` (``[referral.smtp]``).

An ordinary plugin (entry point ``referral_smtp``), ``trylast`` so any other channel — an
e-mail provider's API, say — is asked first; disable it with
``SHOPLOOP_DISABLE_PLUGINS=referral_smtp`` or ``[referral.smtp] enabled = false``. The
message's idempotency key becomes its ``Message-ID``, so a receiving system can drop a
duplicate sent after a crash between "sent" and "recorded".
"""

from __future__ import annotations

import os
import smtplib

from shoploop.hooks import ConfigError, HookContext, Message, MessageReceipt, hookimpl

from ._email import build_email
from ._settings import referral_settings_from


@hookimpl(trylast=True)
def message_delivery(context: HookContext, message: Message) -> MessageReceipt | None:
    smtp = referral_settings_from(context.config).smtp
    if not smtp.enabled:
        return None
    email = build_email(message, smtp.sender)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username:
            password = os.environ.get(smtp.password_env or "", "")
            if not password:
                raise ConfigError("the SMTP password is not set", key="referral.smtp.password_env",
                                  remedy="set password_env = \"VARIABLE\" and export VARIABLE")
            client.login(smtp.username, password)
        client.send_message(email)
    return MessageReceipt(channel="smtp", reference=str(email["Message-ID"]))
