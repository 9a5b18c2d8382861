"""Customers created with ``customerCreate``, once per e-mail.

A batch goes out as aliased ``customerCreate`` fields (``c0: customerCreate(input: $c0) …``), as
many to a request as the cost budget allows (10 points each, ``client.read_budget``): the e-mail,
first and last name and phone. The company follows as the customer's default address (aliased
``customerAddressCreate``, 10 points each) — a Shopify customer has no company field of its own
outside B2B, the reads take it from ``defaultAddress.company``, and the current ``CustomerInput``
no longer takes ``addresses`` (Admin schema 2026-01). Values are sent as they are (no phone
reformatting). Shopify also keeps customer phones unique, and ERPs often give several customers one
switchboard number: a draft refused only for its phone is created again without it (its result says
so), rather than leaving the customer missing for a secondary field. Marketing consent is never
sent: it is the shop's to collect.

Shopify keeps customer e-mails unique: a taken e-mail is refused with the user error "Email has
already been taken" (field ``["email"]``) and nothing is created. That refusal makes creating safe
to repeat: the adapter then looks the customer up by its e-mail and answers ``unchanged`` with its
id — after a retried request whose first answer was lost, a crash between create and bind, or a
customer someone else created. The create comes first and the lookup only on that error, not
"search, then create": Shopify's customer search index can lag behind writes, so a search could
miss a customer created moments ago, while the uniqueness check of the create itself cannot — and
new customers, the common case, cost one request instead of two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shoploop.hooks import ConnectorError, CustomerDraft, WriteResult, WriteStatus

from . import _queries
from ._client import GraphQLClient
from ._mapping import from_gid

OPERATION = "create_customers"
LOOKUP_COST = {True: 2, False: 6}
"""Points per looked-up e-mail: ``customerByIdentifier`` (the customer and its e-mail object)
or a search connection of ``first: 2`` (2 + 2 * 2)."""


def draft_input(draft: CustomerDraft) -> dict[str, Any]:
    """The ``CustomerInput`` for a draft; empty fields are left out, never sent blank."""
    values: dict[str, Any] = {"email": draft.email}
    for key, value in (("firstName", draft.first_name), ("lastName", draft.last_name),
                       ("phone", draft.phone)):
        if value:
            values[key] = value
    return values


def address_input(draft: CustomerDraft) -> dict[str, Any]:
    """The ``MailingAddressInput`` that carries a draft's company."""
    address = {"company": draft.company, "firstName": draft.first_name,
               "lastName": draft.last_name}
    return {k: v for k, v in address.items() if v}


def email_taken(error: dict[str, Any]) -> bool:
    """Shopify's uniqueness refusal: field ``["email"]``, "Email has already been taken"
    (``UserError`` carries no code for ``customerCreate``, so the message decides)."""
    field = error.get("field") or []
    return bool(field) and str(field[-1]) == "email" and \
        "already been taken" in str(error.get("message", "")).lower()


def phone_only(errors: Sequence[dict[str, Any]]) -> bool:
    """Every user error is about the phone ("Phone is invalid", "… has already been taken")."""
    return bool(errors) and all(str((e.get("field") or [""])[-1]) == "phone" for e in errors)


def create(client: GraphQLClient, drafts: Sequence[CustomerDraft], *,
           api_version: str) -> list[WriteResult]:
    """Create ``drafts``; one result per draft, in order (see the module docstring)."""
    results: list[WriteResult | None] = [None] * len(drafts)
    taken: list[int] = []
    phoneless: dict[int, str] = {}  # index → why the phone was refused
    companies: dict[int, str] = {}  # index → gid of a created customer with a company
    step = max(1, client.read_budget(OPERATION) // _queries.MUTATION_COST)
    for start in range(0, len(drafts), step):
        chunk = range(start, min(len(drafts), start + step))
        variables = {f"c{n}": draft_input(drafts[i]) for n, i in enumerate(chunk)}
        data = client.execute(_queries.customers_create(len(chunk)), variables,
                              operation=OPERATION)
        for n, index in enumerate(chunk):
            payload = data.get(f"c{n}") or {}
            errors = [e for e in payload.get("userErrors") or [] if isinstance(e, dict)]
            customer = payload.get("customer")
            if any(email_taken(e) for e in errors):
                taken.append(index)
            elif phone_only(errors) and drafts[index].phone:
                phoneless[index] = "; ".join(str(e.get("message")) for e in errors)
            elif errors:
                results[index] = _failed("; ".join(str(e.get("message")) for e in errors))
            elif isinstance(customer, dict) and customer.get("id"):
                results[index] = WriteResult(customer_id=_numeric(customer),
                                             status=WriteStatus.WRITTEN)
                if drafts[index].company:
                    companies[index] = str(customer["id"])
            else:
                results[index] = _failed("Shopify created no customer and gave no reason")
    if companies:
        _add_companies(client, drafts, companies, results, step)
    if phoneless:
        again = create(client, [drafts[i].model_copy(update={"phone": None}) for i in phoneless],
                       api_version=api_version)
        for (index, why), result in zip(phoneless.items(), again, strict=True):
            results[index] = result if result.status is WriteStatus.FAILED else \
                result.model_copy(update={"message": f"created without its phone: {why}"})
    if taken:
        found = lookup(client, [drafts[i].email for i in taken], api_version=api_version)
        for index in taken:
            customer_id = found.get(drafts[index].email)
            results[index] = WriteResult(
                customer_id=customer_id, status=WriteStatus.UNCHANGED,
                message="a customer with this e-mail exists already") if customer_id else \
                _failed("Email has already been taken, but no customer with this e-mail was "
                        "found (Shopify's customer index may lag); the next run retries")
    return [r if r is not None else _failed("no answer for this draft") for r in results]


def _add_companies(client: GraphQLClient, drafts: Sequence[CustomerDraft],
                   companies: dict[int, str], results: list[WriteResult | None], step: int
                   ) -> None:
    """Give the new customers their company as their default address (aliased
    ``customerAddressCreate``). The customers exist whatever happens here: a refused address
    or a failed request is reported in the result's message, never as a failed create (which
    would make the next run create them again)."""
    pending = list(companies.items())
    for start in range(0, len(pending), step):
        chunk = pending[start:start + step]
        variables: dict[str, Any] = {}
        for n, (index, customer_id) in enumerate(chunk):
            variables[f"a{n}id"], variables[f"a{n}"] = customer_id, address_input(drafts[index])
        try:
            data = client.execute(_queries.addresses_create(len(chunk)), variables,
                                  operation=OPERATION)
        except ConnectorError as exc:
            data = {f"a{n}": {"userErrors": [{"message": str(exc)}]} for n in range(len(chunk))}
        for n, (index, _) in enumerate(chunk):
            errors = (data.get(f"a{n}") or {}).get("userErrors") or []
            result = results[index]
            if errors and result is not None:
                why = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
                results[index] = result.model_copy(
                    update={"message": f"created without its company: {why}"})


def lookup(client: GraphQLClient, emails: Sequence[str], *, api_version: str
           ) -> dict[str, str]:
    """Customer ids (numeric, as reads return them) by lower-cased e-mail, for those found."""
    by_identifier = api_version == "unstable" or \
        api_version >= _queries.CUSTOMER_BY_IDENTIFIER_SINCE
    unique = list(dict.fromkeys(e.lower() for e in emails))
    step = max(1, client.read_budget(OPERATION) // LOOKUP_COST[by_identifier])
    found: dict[str, str] = {}
    for start in range(0, len(unique), step):
        chunk = unique[start:start + step]
        variables = {f"e{n}": email if by_identifier else _search(email)
                     for n, email in enumerate(chunk)}
        data = client.execute(_queries.customers_by_email(len(chunk),
                                                          by_identifier=by_identifier),
                              variables, operation=OPERATION)
        for n, email in enumerate(chunk):
            answer = data.get(f"e{n}")
            nodes = [answer] if by_identifier else (answer or {}).get("nodes") or []
            for node in nodes:
                if not isinstance(node, dict):
                    continue
                # A search matches loosely; only the exact address counts.
                held = (node.get("defaultEmailAddress") or {}).get("emailAddress")
                if str(held or "").lower() == email:
                    found[email] = _numeric(node)
                    break
    return found


def _search(email: str) -> str:
    escaped = email.replace("\\", "\\\\").replace('"', '\\"')
    return f'email:"{escaped}"'


def _numeric(node: dict[str, Any]) -> str:
    return str(node.get("legacyResourceId") or from_gid(str(node["id"])))


def _failed(message: str) -> WriteResult:
    return WriteResult(customer_id="", status=WriteStatus.FAILED, message=message)
