"""Creating missing customers in a target (``sync.create_missing``).

A master customer the planner could not match — no binding, no link value, no match key, and
no customer of the target holding its e-mail — becomes a :class:`CustomerDraft`. The drafts of
a chunk go to the target's writer thread (the one thread that talks to the target), which
creates them in the connector's batches; the job waits for the answers, binds each customer
it got back, and plans its attributes against an empty record, so they go out in the same
attribute batches as everybody else's.

Nothing here needs an intent record: ``create_customers`` finds a customer by its e-mail
before it makes a second one (the platforms key customers by e-mail), so a crash between the
create and the commit of the binding is healed by the next run, which gets the same customer
back as ``unchanged`` and binds it then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import ValidationError

from shoploop.hooks import CustomerDraft, WriteResult, WriteStatus

from ._plan import Chunk, MasterBindings, Planner
from ._state import MirroredCustomer

NEW = "(new)"
"""The customer column of a dry run's diff for a customer that would be created."""

Create = Callable[[Sequence[CustomerDraft]], list[WriteResult]]


def draft_of(master: str, record: MirroredCustomer) -> CustomerDraft:
    """What the target gets of the master's record: the contact fields, not its consent."""
    data = record.data

    def text(name: str) -> str | None:
        value = data.get(name)
        return str(value) if value not in (None, "") else None

    return CustomerDraft(email=str(data.get("email") or ""), first_name=text("first_name"),
                         last_name=text("last_name"), company=text("company"),
                         phone=text("phone"), source=f"{master}/{record.external_id}")


def create_missing(planner: Planner, master: MasterBindings, chunk: Chunk,
                   create: Create | None, bound: Callable[[list[str]], dict[str, str]],
                   ) -> dict[str, str]:
    """Create ``planner.to_create`` in the target (``create`` None: a dry run, which only
    says what it would create). Returns master external id → target customer for those now
    bound; ``bound(ids)`` reads which of the returned ids the store binds already."""
    records, planner.to_create = planner.to_create, []
    plan, target = planner.plan, planner.target.name
    drafts: list[tuple[MirroredCustomer, CustomerDraft]] = []
    for record in records:
        try:
            drafts.append((record, draft_of(master.name, record)))
        except ValidationError as exc:
            plan.find("failed", master.name, record.external_id,
                      f"not created in {target!r}: {exc.errors()[0]['msg']}")
    if create is None:
        for record, _draft in drafts:
            plan.find("created", master.name, record.external_id,
                      f"would be created in {target!r} (dry run)", NEW)
        chunk.records[NEW] = MirroredCustomer(NEW, {}, None)
        return {record.external_id: NEW for record, _draft in drafts}
    results = create([draft for _record, draft in drafts]) if drafts else []
    found = [r.customer_id for r in results if r.customer_id]
    already = bound(found) if found else {}
    created: dict[str, str] = {}
    for (record, draft), result in zip(drafts, results, strict=True):
        ext, customer = record.external_id, result.customer_id
        if result.status not in (WriteStatus.WRITTEN, WriteStatus.UNCHANGED) or not customer:
            plan.find("failed", master.name, ext, f"not created in {target!r}: "
                      + (result.message or result.status.value))
            continue
        if customer in already or customer in chunk.target_bound:
            plan.find("unmatched", master.name, ext, f"{target!r} already has its e-mail on "
                      f"{customer!r}, which is bound to another customer; not created")
            continue
        planner.created(master, ext, chunk.master.get(ext), customer, draft.email, chunk)
        chunk.records[customer] = MirroredCustomer(customer, {"email": draft.email}, None)
        created[ext] = customer
        if result.status is WriteStatus.WRITTEN:
            plan.find("created", master.name, ext, f"created in {target!r}", customer)
        else:  # created by an interrupted run, or by someone since the import
            plan.counts["matched"] += 1
    return created


__all__ = ["NEW", "create_missing", "draft_of"]
