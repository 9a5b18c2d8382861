"""The loop's messages in English and German (Jinja2, autoescaped HTML and plain text).

Templates live here as strings rather than files: a handful of short texts, no package-data
to keep in step. A merchant who wants other texts installs a ``message_delivery`` channel that
renders its own, or overrides the templates in a later release's template folder."""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape

from shoploop.hooks import Message

LANGUAGES = ("en", "de")

_SUBJECTS: dict[str, dict[str, str]] = {
    "survey": {"en": "How satisfied are you with your order?",
               "de": "Wie zufrieden sind Sie mit Ihrer Bestellung?"},
    "invitation": {"en": "Recommend us to a friend",
                   "de": "Empfehlen Sie uns weiter"},
    "thank_you": {"en": "Thank you for recommending us",
                  "de": "Danke für Ihre Empfehlung"},
}

_TEXTS: dict[str, str] = {
    "survey.en.txt": (
        "Hello,\n\nyou ordered from us a while ago (order {{ order }}). How satisfied are "
        "you, from 1 (not at all) to 5 (very)? One click is enough:\n\n{{ link }}\n\n"
        "Don't want these e-mails? {{ link }}?optout=1\n"),
    "survey.de.txt": (
        "Guten Tag,\n\nSie haben vor einiger Zeit bei uns bestellt (Bestellung {{ order }}). "
        "Wie zufrieden sind Sie, von 1 (gar nicht) bis 5 (sehr)? Ein Klick genügt:\n\n"
        "{{ link }}\n\nKeine solchen E-Mails mehr? {{ link }}?optout=1\n"),
    "invitation.en.txt": (
        "Hello,\n\nthank you for your rating! If you like us, recommend us: your friends "
        "get {{ offer }} with your personal code {{ code }}, and you get a thank-you gift "
        "for each first order.\n\n{{ landing }}\n"),
    "invitation.de.txt": (
        "Guten Tag,\n\ndanke für Ihre Bewertung! Wenn Sie zufrieden sind, empfehlen Sie uns "
        "weiter: Ihre Freunde erhalten {{ offer }} mit Ihrem persönlichen Code {{ code }}, "
        "und Sie erhalten für jede erste Bestellung ein Dankeschön.\n\n{{ landing }}\n"),
    "thank_you.en.txt": (
        "Hello,\n\nsomeone you recommended us to has ordered. Thank you! Your gift: "
        "{{ reward }}.\n"),
    "thank_you.de.txt": (
        "Guten Tag,\n\njemand, dem Sie uns empfohlen haben, hat bestellt. Vielen Dank! "
        "Ihr Dankeschön: {{ reward }}.\n"),
}

_HTML = ("<!doctype html><html lang=\"{{ language }}\"><body>"
         "{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>{% endfor %}</body></html>")

_ENVIRONMENT = Environment(loader=DictLoader({**_TEXTS, "page.html": _HTML}),
                           autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                           keep_trailing_newline=True)


def render_message(kind: str, language: str, *, to: str, idempotency_key: str,
                   customer_id: str | None = None, connection: str = "",
                   **values: Any) -> Message:
    """The ``kind`` message in ``language`` (English when that language has no texts)."""
    language = language if language in LANGUAGES else "en"
    text = _ENVIRONMENT.get_template(f"{kind}.{language}.txt").render(**values)
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    html = _ENVIRONMENT.get_template("page.html").render(language=language,
                                                         paragraphs=paragraphs)
    return Message(kind=kind, to=to, subject=_SUBJECTS[kind][language], text=text, html=html,
                   language=language, customer_id=customer_id, connection=connection,
                   idempotency_key=idempotency_key)
