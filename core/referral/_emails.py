"""E-mail addresses as the fraud rules compare them."""

from __future__ import annotations

GMAIL = {"gmail.com", "googlemail.com"}


def normalised_email(email: str | None) -> str | None:
    """The mailbox an address reaches: lower-case, ``+tags`` dropped, and for Gmail the dots
    too (``A.nna+shop@gmail.com`` and ``anna@googlemail.com`` are one person)."""
    if not email or "@" not in email:
        return None
    local, domain = email.strip().lower().rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"
