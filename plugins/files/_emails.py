"""E-mail syntax on import: an address that cannot be one is reported and left out.

A sync matches people by e-mail and creates customers from it, so a garbage address stored as an
e-mail would spread into every shop (or be refused there, record by record). The record itself
is still imported, without the address, and the read reports it (``Page.warnings``) with file
and line, so nothing is dropped or altered silently.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

# The WHATWG "valid e-mail address" (what a browser's <input type=email> accepts,
# https://html.spec.whatwg.org/multipage/input.html#valid-e-mail-address), widened to
# non-ASCII letters (RFC 6531 addresses such as jörg@müller.de) and requiring a dot in the
# domain, as WordPress's is_email() does (a shop refuses "anna@localhost").
_LABEL = r"(?:[a-z0-9\u0080-\U0010ffff](?:[a-z0-9\u0080-\U0010ffff-]{0,61}"\
         r"[a-z0-9\u0080-\U0010ffff])?)"
_EMAIL = re.compile(
    r"[a-z0-9.!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]{1,64}"
    rf"@{_LABEL}(?:\.{_LABEL})+", re.IGNORECASE)
_ASCII_LABEL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_ASCII_EMAIL = re.compile(
    r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    rf"@{_ASCII_LABEL}(?:\.{_ASCII_LABEL})+", re.IGNORECASE | re.ASCII)
"""The same pattern without the non-ASCII ranges, for ASCII addresses (nearly all): with no
character above U+007F those ranges can match nothing, and it runs about twice as fast as the
full pattern under Unicode case folding. Equality of the two is tested."""
MAX_LENGTH = 254  # RFC 5321's path limit less the angle brackets


def email_problem(email: str) -> str | None:
    """Why ``email`` (already trimmed and lower-cased by the model) is no e-mail address, or
    None when it is one."""
    if len(email) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    pattern = _ASCII_EMAIL if email.isascii() else _EMAIL
    if pattern.fullmatch(email) is None:
        return "not an e-mail address"
    return None


def without_invalid_email(record: BaseModel) -> tuple[BaseModel, str | None]:
    """The record without an invalid ``email`` (and why), or as it is."""
    email = getattr(record, "email", None)
    if not email:
        return record, None
    problem = email_problem(email)
    if problem is None:
        return record, None
    # The value is not repeated: it is personal data, and file and line find it.
    return record.model_copy(update={"email": None}), f"the e-mail is {problem}"
