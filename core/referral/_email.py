"""One message as an e-mail: shared by the built-in channels (SMTP, outbox), which are
plugins and so never import each other."""

from __future__ import annotations

from email.message import EmailMessage

from shoploop.hooks import Message


def build_email(message: Message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender, message.to, message.subject
    domain = sender.rsplit("@", 1)[-1] or "localhost"
    # Derived from the key alone (not make_msgid's random part): the same message re-sent
    # after a crash carries the same Message-ID, which receiving systems deduplicate on.
    email["Message-ID"] = f"<{message.idempotency_key}@{domain}>"
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    # After the body: set_content() drops every Content-* header set before it.
    email["Content-Language"] = message.language
    return email
