"""Creating customers (``CreatesCustomers``): one ``POST /customers/batch`` with ``create``.

WooCommerce customers are WordPress users, and WordPress keeps one user per e-mail address:
a create for a registered e-mail fails on its own item with ``registration-error-email-exists``
(``wc_create_new_customer`` in includes/wc-user-functions.php). That uniqueness is the
idempotency key: such a draft is looked up with ``GET /customers?email=…&role=all`` and answered
``unchanged`` with the existing id, so a repeated call creates nothing. It is also why the
client may retry the batch POST like any other write: a retry of a batch whose answer was lost
meets "e-mail exists" for every customer the first attempt made, and finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shoploop.hooks import BatchLimitError, CustomerDraft, WriteResult, WriteStatus

from ._client import WooClient
from ._config import WooCommerceConfig

OPERATION = "create_customers"
EMAIL_TAKEN = frozenset({
    "registration-error-email-exists",  # wc_create_new_customer: email_exists()
    "existing_user_email",  # wp_insert_user, if the address was taken in between
})
"""Per-item error codes meaning "a user with this e-mail exists already"."""


class CustomerCreation:
    """Mixin of the connector: ``customer_batch_size`` and ``create_customers``."""

    name: str
    config: WooCommerceConfig
    customer_batch_size: int

    @property
    def client(self) -> WooClient:
        raise NotImplementedError

    def create_customers(self, drafts: Sequence[CustomerDraft]) -> list[WriteResult]:
        """Create up to ``customer_batch_size`` customers in one batch request; one result per
        draft, in order. Username and password are not sent: ``wc_create_new_customer``
        generates both (the username from the e-mail; before WooCommerce 9.4 only if the
        store's ``woocommerce_registration_generate_*`` options say so). Each new customer
        gets WooCommerce's "New account" e-mail unless the store disabled it
        (``woocommerce_created_customer`` → ``WC_Emails::customer_new_account``)."""
        if len(drafts) > self.customer_batch_size:
            raise BatchLimitError(
                f"{len(drafts)} customers in one batch; this connection creates at most "
                f"{self.customer_batch_size} per /customers/batch call",
                connection=self.name, operation=OPERATION)
        if not drafts:
            return []
        answer = self.client.post("customers/batch",
                                  {"create": [_woo_customer(d) for d in drafts]},
                                  operation=OPERATION)
        data = answer.data if isinstance(answer.data, dict) else {}
        items = data.get("create")
        answered = items if isinstance(items, list) else []
        # Items are answered in request order; a refused item carries `"id": 0` and an `error`
        # object (WC_REST_Controller::batch_items), so the position is the only link.
        return [self._result(draft, answered[index] if index < len(answered) else None)
                for index, draft in enumerate(drafts)]

    def _result(self, draft: CustomerDraft, item: Any) -> WriteResult:
        if not isinstance(item, dict):
            return self._existing(draft, "no answer for this item in the batch response")
        error = item.get("error")
        if isinstance(error, dict):
            code, message = str(error.get("code") or ""), str(error.get("message") or "")
            text = f"{code}: {message}" if code else message or "refused"
            if code in EMAIL_TAKEN:
                # E.g. multisite: the address belongs to a network user who is no user of
                # this site: refused, but not listed (woocommerce/woocommerce-rest-api#251).
                return self._existing(draft, f"{text} (but no customer of this store has it)")
            return WriteResult(customer_id="", status=WriteStatus.FAILED, message=text)
        number, email = item.get("id"), item.get("email")
        if not number or (email and str(email).lower() != draft.email):
            # Not the customer this draft asked for: trust the store's own record instead.
            return self._existing(draft, f"unexpected answer for this item: {item!r:.120}")
        return WriteResult(customer_id=str(number), status=WriteStatus.WRITTEN)

    def _existing(self, draft: CustomerDraft, failure: str) -> WriteResult:
        """The customer holding the draft's e-mail, as ``unchanged``; ``failed`` with the
        message ``failure`` when there is none."""
        found = self.find_customer_by_email(draft.email)
        if found is not None:
            return WriteResult(customer_id=found, status=WriteStatus.UNCHANGED)
        return WriteResult(customer_id="", status=WriteStatus.FAILED, message=failure)

    def find_customer_by_email(self, email: str) -> str | None:
        """The id of the user with ``email`` (any role: the e-mail may belong to a subscriber
        or a shop manager), the lowest if concurrent creates made several."""
        answer = self.client.get("customers", {"email": email, "role": "all", "per_page": 100,
                                               "orderby": "id", "order": "asc"},
                                 operation=OPERATION)
        wanted = email.strip().lower()
        ids = sorted(int(c["id"]) for c in answer.data or ()
                     if isinstance(c, dict) and str(c.get("email") or "").lower() == wanted
                     and str(c.get("id", "")).isdigit())
        return str(ids[0]) if ids else None


def _woo_customer(draft: CustomerDraft) -> dict[str, Any]:
    """The create item: account e-mail and names, and the billing contact. No username or
    password (generated by WooCommerce) and no marketing consent (the shop's to collect)."""
    billing = {"first_name": draft.first_name, "last_name": draft.last_name,
               "company": draft.company, "phone": draft.phone, "email": draft.email}
    item: dict[str, Any] = {"email": draft.email, "first_name": draft.first_name,
                            "last_name": draft.last_name,
                            "billing": {k: v for k, v in billing.items() if v is not None}}
    return {k: v for k, v in item.items() if v is not None}


__all__ = ["EMAIL_TAKEN", "CustomerCreation"]
