"""WordPress/WooCommerce rules for creating a customer (a WordPress user), as the REST API
applies them to each ``create`` item (``WC_REST_Customers_V1_Controller::create_item``):

1. ``WC_Customer::set_email`` refuses a non-empty address ``is_email()`` rejects:
   ``customer_invalid_email`` "Invalid email address";
2. ``wc_create_new_customer`` (includes/wc-user-functions.php, WooCommerce 9.4+) refuses an
   empty address (``registration-error-invalid-email``) and one any user has already — compared
   case-insensitively, as MySQL's default collation does (``registration-error-email-exists``);
   then generates the username from the e-mail (``wc_create_new_customer_username``) and a
   password (``wp_generate_password``), and fires ``woocommerce_created_customer`` (the "New
   account" e-mail).

Every refusal is a ``WC_Data_Exception``, so its item answers HTTP status 400.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from typing import Any

_LOCAL = re.compile(r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = re.compile(r"[a-z0-9-]+", re.IGNORECASE)
_PHP_TRIM = " \t\n\r\0\x0b"
COMMON_PREFIXES = ("sales", "hello", "mail", "contact", "info")
"""Local parts ``wc_create_new_customer_username`` replaces by the domain."""


def is_email(email: str) -> bool:
    """WordPress ``is_email()`` (wp-includes/formatting.php), without its filters."""
    if len(email) < 6 or "@" not in email[1:]:
        return False
    local, domain = email.split("@", 1)
    if not _LOCAL.fullmatch(local) or ".." in domain:
        return False
    if domain.strip(_PHP_TRIM + ".") != domain:
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(
        label.strip(_PHP_TRIM + "-") == label and _LABEL.fullmatch(label) for label in labels)


def refusal(item: dict[str, Any], emails: Iterable[str]) -> tuple[str, str] | None:
    """``(code, message)`` when WooCommerce refuses to create ``item``, else None."""
    email = item.get("email")
    if not isinstance(email, str):
        email = "" if email is None else str(email)
    if email and not is_email(email):
        return "customer_invalid_email", "Invalid email address"
    if not email:
        return "registration-error-invalid-email", "Please provide a valid email address."
    wanted = email.lower()
    if any(existing.lower() == wanted for existing in emails):
        return ("registration-error-email-exists",
                f"An account is already registered with {email}. Please log in or use a "
                "different email address.")
    return None


def new_username(email: str, taken: set[str]) -> str:
    """``wc_create_new_customer_username`` without names: the e-mail's local part (the domain
    for info@, sales@ …), sanitised, lower-cased, with ``-NNNN`` appended while it is taken."""
    local, _, domain = email.partition("@")
    base = domain if local in COMMON_PREFIXES else local
    base = re.sub(r"[^a-z0-9 _.\-@]", "", base.lower()) or "user"
    chooser = random.Random(email)  # WooCommerce draws wp_rand(0, 9999); deterministic here
    username = base
    while username in taken:
        username = f"{base}-{chooser.randint(0, 9999):04d}"
    return username


__all__ = ["COMMON_PREFIXES", "is_email", "new_username", "refusal"]
