"""Planning: who is who in each target, and which values must change there.

Identity resolution per (master, target): an existing binding first; then the link attribute
(the link master's customer number, written into every shop by earlier runs, so a link
survives e-mail changes and a lost store); then the configured match keys in order. A key
value shared by several customers — on either side — is *ambiguous* and reported, never
guessed; a customer with no match is *unmatched*. Erased customers are never matched again.

Values: the master's value through the mapping's transforms is compared with what the target
holds now (its mirror, patched after every confirmed write) and with what it last received
(``sync_target_state``): equal means nothing to do; otherwise the attribute's policy decides.

Memory: a run holds a :class:`TargetIndex` per target (ids and normalised key values) and the
master's shared key values; records, bindings and target state are read per chunk of master
customers (:class:`Chunk`, loaded by the job), so 100k customers per system fit in ~260 MB.
"""

from __future__ import annotations

import re
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shoploop.store import email_hash
from shoploop.store import external_id_hash as id_hash

from ._mapping import Rule, SyncMapping, TransformFailed
from ._state import MirroredCustomer
from ._values import current_value, is_clear, is_empty, same, source_value

_MISSING = object()
_ERASED = "erased"
_VAT_NOISE = re.compile(r"[\s.\-/]")

NORMALISERS: dict[str, Callable[[Any], str | None]] = {
    "email": lambda v: (str(v).strip().lower() or None) if v else None,
    "vat_id": lambda v: (_VAT_NOISE.sub("", str(v)).upper() or None) if v else None,
    "customer_number": lambda v: (str(v).strip() or None) if v else None,
}


@dataclass
class TargetIndex:
    """What identity resolution needs of a target for a whole run, built in one streamed pass
    over its mirror: its customers' ids and, per match key (and the link attribute), the
    normalised value → the customers holding it. Records themselves are loaded per chunk
    (:meth:`Planner.plan_chunk`), so a run's memory does not grow with them."""

    name: str
    exists: set[str] = field(default_factory=set)
    keys: dict[str, dict[str, str | list[str]]] = field(default_factory=dict)
    erased_people: set[str] = field(default_factory=set)  # internal ids erased here
    erased_emails: set[str] = field(default_factory=set)  # hashes of e-mails erased here

    def add(self, key: str, value: str, ext: str) -> None:
        index = self.keys.setdefault(key, {})
        held = index.get(value)
        if held is None:
            index[value] = ext  # most values belong to one customer: no list for them
        elif isinstance(held, list):
            held.append(ext)
        else:
            index[value] = [held, ext]

    def candidates(self, key: str, value: str) -> list[str]:
        held = self.keys.get(key, {}).get(value)
        return [] if held is None else held if isinstance(held, list) else [held]


def build_index(mapping: SyncMapping, name: str, chunks: Iterable[Sequence[MirroredCustomer]],
                erased: set[str], erased_people: set[str],
                erased_emails: set[str]) -> TargetIndex:
    """``name``'s :class:`TargetIndex` from its mirrored customers; ``erased``: hashes of
    its erased external ids (never matched again); ``erased_people`` / ``erased_emails``: the
    internal ids and e-mail hashes erased there (never bound or created again)."""
    index = TargetIndex(name, erased_people=erased_people, erased_emails=erased_emails)
    keys = index_keys(mapping)
    for records in chunks:
        for record in records:
            ext = record.external_id
            if erased and id_hash(ext) in erased:
                continue
            index.exists.add(ext)
            for key in keys:
                value = key_value(mapping, key, record.data)
                if value is not None:
                    index.add(key, sys.intern(value), ext)
    return index


def index_keys(mapping: SyncMapping) -> list[str]:
    return list(mapping.match_keys) + (["link"] if mapping.link_attribute else [])


def key_value(mapping: SyncMapping, key: str, data: Mapping[str, Any]) -> str | None:
    """A record's normalised value of a match key (``link``: the link attribute)."""
    if key == "link" and mapping.link_attribute:
        return NORMALISERS["customer_number"](current_value(data, mapping.link_attribute))
    return NORMALISERS[key](data.get(key))


class MasterBindings:
    """A master's bindings as every target's planner sees them during a run: read from the
    store per chunk, plus the ones this run created (committed by the creating planner with
    its chunk), under one lock, so two targets planned in parallel give a master customer one
    internal id."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.created: dict[str, str] = {}
        self._lock = threading.Lock()

    def merged(self, stored: Mapping[str, str], exts: Iterable[str]) -> dict[str, str]:
        """The internal ids of ``exts``: ``stored`` (read from the store) or created in this
        run."""
        with self._lock:
            found = {ext: self.created.get(ext) or stored.get(ext) for ext in exts}
        return {ext: internal for ext, internal in found.items() if internal is not None}

    def made_in_run(self, ext: str) -> bool:
        """Whether ``ext``'s internal id was created by this run (maybe not committed yet)."""
        with self._lock:
            return ext in self.created

    def get_or_create(self, ext: str) -> str:
        with self._lock:
            internal = self.created.get(ext)
            if internal is None:
                internal = self.created[ext] = uuid.uuid4().hex
            return internal


@dataclass(slots=True)  # one per changed value: 260k of them in a 100k first sync
class Change:
    target: str
    customer: str
    key: str
    new: Any
    old: Any
    source: str
    source_id: str | None
    status: str = "planned"
    message: str = ""
    guarded: bool = False
    """A clear the mass-clear guard counts: held back until every target is planned."""

    def audit(self) -> dict[str, Any]:
        return {"connection": self.target, "customer_external_id": self.customer,
                "source": self.source, "source_external_id": self.source_id,
                "attr_key": self.key, "old": self.old, "new": self.new,
                "status": self.status, "message": self.message}


@dataclass
class TargetPlan:
    target: str
    counts: Counter[str] = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)
    findings: list[Change] = field(default_factory=list)   # unmatched, skipped, conflict, …
    adopt: dict[str, dict[str, Any]] = field(default_factory=dict)  # in sync, state unknown
    held: int = 0
    """Values the target holds for the mapped keys of the customers compared (the share the
    mass-clear guard measures against)."""
    guarded_clears: Counter[str] = field(default_factory=Counter)
    """Attribute → planned clears the mass-clear guard counts (not those of ``allow_clear``
    attributes)."""

    def find(self, status: str, source: str, source_id: str | None, message: str,
             customer: str | None = None, key: str | None = None, new: Any = None,
             old: Any = None) -> None:
        # "conflicts" is the summary's key (as for conflicts an adapter reports on write).
        counter = {"planned": "changed", "conflict": "conflicts"}.get(status, status)
        self.counts[counter] += 1
        self.findings.append(Change(self.target, customer or "", key or "", new, old, source,
                                    source_id, status, message))


@dataclass
class Chunk:
    """One chunk's view of the store, loaded by the caller: the master's bindings (merged
    with this run's), the target's bindings of the chunk's internal ids and candidates, the
    target records matched and what they last received."""

    master: dict[str, str]                   # master external id → internal id
    target_by_internal: dict[str, str]       # internal id → target external id
    target_bound: dict[str, str]             # target external id → internal id
    records: dict[str, MirroredCustomer] = field(default_factory=dict)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Planner:
    """Plans one target, a chunk of master customers at a time."""

    mapping: SyncMapping
    target: TargetIndex
    forced: set[tuple[str, str]] = field(default_factory=set)
    new_bindings: list[tuple[str, str, str]] = field(default_factory=list)
    bound_in_run: dict[str, str] = field(default_factory=dict)
    """Target bindings made by this run and not committed (a dry run)."""
    create: bool = False
    """``sync.create_missing`` names this target: unmatched customers go to ``to_create``."""
    to_create: list[MirroredCustomer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.plan = TargetPlan(self.target.name)

    # -- identity ------------------------------------------------------------------------------

    def attempts(self, master: str, ext: str, record: MirroredCustomer,
                 shared: Mapping[str, Mapping[str, int]]) -> list[tuple[str, str | None, int]]:
        """(key, normalised value, master customers sharing it) in the order tried."""
        attempts: list[tuple[str, str | None, int]] = []
        if master == self.mapping.link_master and "link" in index_keys(self.mapping):
            number = record.data.get("customer_number") or ext
            attempts.append(("link", NORMALISERS["customer_number"](number), 1))
        for match_key in self.mapping.match_keys:
            value = NORMALISERS[match_key](record.data.get(match_key))
            attempts.append((match_key, value, shared[match_key].get(value, 1) if value
                             else 0))
        return attempts

    def match(self, master: MasterBindings, records: Sequence[MirroredCustomer],
              attempts: Mapping[str, list[tuple[str, str | None, int]]],
              chunk: Chunk) -> dict[str, str]:
        """master external id → target external id for the chunk's customers that can be
        matched; the others are reported on the plan. ``attempts``: :meth:`attempts` per
        customer. New bindings go to ``chunk`` (in memory) and ``new_bindings`` (for the
        caller to commit)."""
        matched: dict[str, str] = {}
        for record in records:
            self.plan.counts["read"] += 1
            found = self._match_one(master, record, attempts[record.external_id], chunk)
            if found is not None:
                matched[record.external_id] = found
                self.plan.counts["matched"] += 1
        return matched

    def _match_one(self, master: MasterBindings, record: MirroredCustomer,
                   attempts: list[tuple[str, str | None, int]], chunk: Chunk) -> str | None:
        target, plan, ext = self.target, self.plan, record.external_id
        internal = chunk.master.get(ext)
        if internal is not None and internal in chunk.target_by_internal:
            bound = chunk.target_by_internal[internal]
            if bound in target.exists:
                return bound
            plan.find("unmatched", master.name, ext,
                      f"bound to {bound!r}, which {target.name!r} no longer has")
            return None
        if internal is not None and internal in target.erased_people:
            plan.find("erased", master.name, ext,
                      f"erased from {target.name!r} on request; never matched again")
            return None
        for key, value, sharers in attempts:
            if value is None:
                continue
            candidates = [c for c in target.candidates(key, value)
                          if chunk.target_bound.get(c) in (None, internal)]
            if not candidates:
                continue
            label = "link attribute" if key == "link" else key
            if sharers > 1:
                plan.find("ambiguous", master.name, ext,
                          f"{sharers} customers of {master.name!r} share this {label}")
                return None
            if len(candidates) > 1:
                plan.find("ambiguous", master.name, ext,
                          f"{len(candidates)} customers of {target.name!r} match by {label}: "
                          + ", ".join(sorted(candidates)[:5]))
                return None
            return self._bind(master, ext, internal, candidates[0], chunk)
        why = (f"no customer of {target.name!r} matches by "
               + ", ".join(k for k, _v, _s in attempts) if attempts else "no match key value")
        if self.create:
            refusal = self._creatable(record, attempts)
            if not refusal:
                self.to_create.append(record)
                return None
            if refusal == _ERASED:
                plan.find("erased", master.name, ext, f"a customer with this e-mail was erased "
                          f"from {target.name!r} on request; never created again")
                return None
            why += f"; not created: {refusal}"
        plan.find("unmatched", master.name, ext, why)
        return None

    def _creatable(self, record: MirroredCustomer,
                   attempts: list[tuple[str, str | None, int]]) -> str:
        """Why an unmatched customer may not be created in the target ("" if it may)."""
        email, sharers = next(((v, n) for k, v, n in attempts if k == "email"), (None, 0))
        if email is None:
            return "it has no e-mail"
        if self.target.erased_emails and email_hash(email) in self.target.erased_emails:
            return _ERASED
        if sharers > 1:
            return f"{sharers} customers share its e-mail"
        if self.target.candidates("email", email):
            return f"its e-mail belongs to a customer of {self.target.name!r} bound to another"
        return ""

    def created(self, master: MasterBindings, ext: str, internal: str | None, customer: str,
                email: str, chunk: Chunk) -> None:
        """``customer`` was created in the target for master customer ``ext`` (or found there
        by e-mail): bind it, and index it so later chunks and derived values find it."""
        self.target.exists.add(customer)
        self.target.add("email", email, customer)
        self._bind(master, ext, internal, customer, chunk)

    def _bind(self, master: MasterBindings, ext: str, internal: str | None, found: str,
              chunk: Chunk) -> str:
        if internal is None:
            internal = master.get_or_create(ext)
            chunk.master[ext] = internal
        if master.made_in_run(ext):
            # Committed with this target's binding, whichever target's planner made it: a
            # kill between two planners' commits must not leave a target bound to an internal
            # id its master customer lacks (bind_many skips the copy already stored).
            self.new_bindings.append((master.name, ext, internal))
        chunk.target_bound[found] = internal
        chunk.target_by_internal[internal] = found
        self.new_bindings.append((self.target.name, found, internal))
        return found

    # -- values --------------------------------------------------------------------------------

    def plan_values(self, chunk: Chunk, source: str, source_id: str | None, customer: str,
                    updated_at: datetime | None, values: Iterable[tuple[Rule | None, str, Any]],
                    ) -> None:
        """``values``: (rule, target key, master's raw value); rule None: the link value."""
        record = chunk.records.get(customer)
        if record is None:  # gone from the mirror since the index was built (erased)
            self.plan.find("unmatched", source, source_id,
                           f"{customer!r} left {self.target.name!r}'s mirror during the run")
            return
        sent = chunk.sent.get(customer, {})
        for rule, key, raw in values:
            try:
                new = rule.apply(raw) if rule is not None else raw
            except TransformFailed as exc:
                self.plan.find("failed", source, source_id, str(exc), customer, key)
                continue
            old = current_value(record.data, key)
            if not is_empty(old):
                self.plan.held += 1
            last = sent.get(key, _MISSING)
            if same(new, old) and (customer, key) not in self.forced:
                if last is _MISSING or not same(last, new):
                    self.plan.adopt.setdefault(customer, {})[key] = new
                self.plan.counts["in_sync"] += 1
                continue
            # A value in an interrupted batch may be ours, landed but never confirmed: the
            # policy already allowed it when it was planned, so it is not someone else's.
            forced = (customer, key) in self.forced
            foreign = not forced and not is_empty(old) and (last is _MISSING
                                                           or not same(old, last))
            policy = rule.policy if rule is not None else "master_wins"
            if foreign and policy == "keep_non_empty":
                self.plan.find("skipped", source, source_id, "the target holds a value of its "
                               "own (policy keep_non_empty)", customer, key, new, old)
                continue
            target_time = record.updated_at
            if foreign and policy == "newest_wins" and target_time and updated_at \
                    and target_time > updated_at:
                self.plan.find("conflict", source, source_id, "changed in the target after "
                               "the master (policy newest_wins)", customer, key, new, old)
                continue
            self.plan.counts["changed"] += 1
            guarded = False
            if is_clear(new, old):
                self.plan.counts["to_clear"] += 1
                if rule is not None and not rule.allow_clear:
                    self.plan.guarded_clears[rule.attribute] += 1
                    guarded = True
            self.plan.changes.append(Change(self.target.name, customer, key, new, old, source,
                                            source_id, guarded=guarded))


def master_values(mapping: SyncMapping, master: str, target: str, ext: str,
                  record: MirroredCustomer) -> list[tuple[Rule | None, str, Any]]:
    values: list[tuple[Rule | None, str, Any]] = [
        (rule, rule.key, source_value(record.data, rule.field))
        for rule in mapping.rules_for(master, target)]
    if mapping.link_attribute and master == mapping.link_master and values:
        values.append((None, mapping.link_attribute, record.data.get("customer_number") or ext))
    return values


def derived_target(members: Iterable[tuple[str, str]], target: TargetIndex,
                   bindings: Mapping[tuple[str, str], str],
                   by_internal: Mapping[str, str]) -> tuple[str | None, str, str]:
    """The target customer a profile's derived values go to: the profile's record in the
    target, else the one bound to its records. ``bindings``: (connection, external id) →
    internal id; ``by_internal``: the target's internal id → external id. Returns
    (customer, "" | "ambiguous" | "unmatched", why not)."""
    members = list(members)
    direct = [ext for conn, ext in members if conn == target.name and ext in target.exists]
    if len(direct) == 1:
        return direct[0], "", ""
    if len(direct) > 1:
        return None, "ambiguous", f"{len(direct)} customers of {target.name!r} share this e-mail"
    bound = {by_internal[internal] for member in members
             if (internal := bindings.get(member)) is not None and internal in by_internal}
    if len(bound) == 1:
        return next(iter(bound)), "", ""
    if bound:
        return None, "ambiguous", (f"its records are bound to {len(bound)} customers of "
                                   f"{target.name!r}")
    return None, "unmatched", f"no customer of {target.name!r} belongs to this person"


__all__ = ["Change", "Chunk", "MasterBindings", "Planner", "TargetIndex", "TargetPlan",
           "build_index", "derived_target", "index_keys", "key_value", "master_values"]
