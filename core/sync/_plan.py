"""Planning: who is who in each target, and which values must change there.

Identity resolution per (master, target): an existing binding first; then the link attribute
(the link master's customer number, written into every shop by earlier runs, so a link
survives e-mail changes and a lost store); then the configured match keys in order. A key
value shared by several customers — on either side — is *ambiguous* and reported, never
guessed; a customer with no match is *unmatched*. Erased customers are never matched again.

Values: the master's value through the mapping's transforms is compared with what the target
holds now (its mirror, patched after every confirmed write) and with what it last received
(``sync_target_state``): equal means nothing to do; otherwise the attribute's policy decides.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shoploop.store import external_id_hash as id_hash

from ._mapping import Rule, SyncMapping, TransformFailed
from ._state import MirroredCustomer
from ._values import current_value, is_empty, same, source_value

_MISSING = object()
_VAT_NOISE = re.compile(r"[\s.\-/]")

NORMALISERS: dict[str, Callable[[Any], str | None]] = {
    "email": lambda v: (str(v).strip().lower() or None) if v else None,
    "vat_id": lambda v: (_VAT_NOISE.sub("", str(v)).upper() or None) if v else None,
    "customer_number": lambda v: (str(v).strip() or None) if v else None,
}


@dataclass
class Side:
    """One connection's customers, bindings and erasures as loaded for a run."""

    name: str
    customers: dict[str, MirroredCustomer]
    bindings: dict[str, str]                    # external id → internal id
    erased: set[str] = field(default_factory=set)   # hashes of erased external ids
    erased_people: set[str] = field(default_factory=set)  # internal ids erased here
    by_internal: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_internal = {internal: ext for ext, internal in self.bindings.items()}


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

    def find(self, status: str, source: str, source_id: str | None, message: str,
             customer: str | None = None, key: str | None = None, new: Any = None,
             old: Any = None) -> None:
        # "conflicts" is the summary's key (as for conflicts an adapter reports on write).
        counter = {"planned": "changed", "conflict": "conflicts"}.get(status, status)
        self.counts[counter] += 1
        self.findings.append(Change(self.target, customer or "", key or "", new, old, source,
                                    source_id, status, message))


@dataclass
class Planner:
    mapping: SyncMapping
    target: Side
    sent: dict[str, dict[str, Any]]
    forced: set[tuple[str, str]] = field(default_factory=set)
    new_bindings: list[tuple[str, str, str]] = field(default_factory=list)
    _indexes: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.plan = TargetPlan(self.target.name)
        link = self.mapping.link_attribute
        keys: list[str] = list(self.mapping.match_keys) + (["link"] if link else [])
        for key in keys:
            index: dict[str, list[str]] = defaultdict(list)
            for ext, record in self.target.customers.items():
                if id_hash(ext) in self.target.erased:
                    continue
                raw = current_value(record.data, link) if key == "link" and link else \
                    record.data.get(key)
                value = NORMALISERS["customer_number" if key == "link" else key](raw)
                if value is not None:
                    index[value].append(ext)
            self._indexes[key] = index

    # -- identity ------------------------------------------------------------------------------

    def match_master(self, master: Side) -> dict[str, str]:
        """master external id → target external id for every customer that can be matched;
        the others are reported on the plan. New bindings are collected, not written."""
        matched: dict[str, str] = {}
        shared: dict[str, Counter[str | None]] = {key: Counter(NORMALISERS[key](c.data.get(key))
                               for c in master.customers.values())
                  for key in self.mapping.match_keys}
        is_link_master = master.name == self.mapping.link_master
        for ext, record in master.customers.items():
            self.plan.counts["read"] += 1
            found = self._match_one(master, ext, record, shared, is_link_master)
            if found is not None:
                matched[ext] = found
                self.plan.counts["matched"] += 1
        return matched

    def _match_one(self, master: Side, ext: str, record: MirroredCustomer,
                   shared: Mapping[str, Counter[str | None]], is_link_master: bool) -> str | None:
        target, plan = self.target, self.plan
        internal = master.bindings.get(ext)
        if internal is not None and internal in target.by_internal:
            bound = target.by_internal[internal]
            if bound in target.customers:
                return bound
            plan.find("unmatched", master.name, ext,
                      f"bound to {bound!r}, which {target.name!r} no longer has")
            return None
        if internal is not None and internal in target.erased_people:
            plan.find("erased", master.name, ext,
                      f"erased from {target.name!r} on request; never matched again")
            return None
        attempts: list[tuple[str, str | None, int]] = []
        if is_link_master and "link" in self._indexes:
            number = record.data.get("customer_number") or ext
            attempts.append(("link", NORMALISERS["customer_number"](number), 1))
        for match_key in self.mapping.match_keys:
            value = NORMALISERS[match_key](record.data.get(match_key))
            attempts.append((match_key, value, shared[match_key][value] if value else 0))
        for key, value, sharers in attempts:
            if value is None:
                continue
            candidates = [c for c in self._indexes[key].get(value, ())
                          if target.bindings.get(c) in (None, internal)]
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
            return self._bind(master, ext, internal, candidates[0])
        plan.find("unmatched", master.name, ext,
                  f"no customer of {target.name!r} matches by "
                  + ", ".join(k for k, _v, _s in attempts) if attempts else "no match key value")
        return None

    def _bind(self, master: Side, ext: str, internal: str | None, found: str) -> str:
        if internal is None:
            internal = uuid.uuid4().hex
            master.bindings[ext] = internal
            master.by_internal[internal] = ext
            self.new_bindings.append((master.name, ext, internal))
        self.target.bindings[found] = internal
        self.target.by_internal[internal] = found
        self.new_bindings.append((self.target.name, found, internal))
        return found

    # -- values --------------------------------------------------------------------------------

    def plan_values(self, source: str, source_id: str | None, customer: str,
                    updated_at: datetime | None, values: Iterable[tuple[Rule | None, str, Any]],
                    ) -> None:
        """``values``: (rule, target key, master's raw value); rule None: the link value."""
        record = self.target.customers[customer]
        sent = self.sent.get(customer, {})
        for rule, key, raw in values:
            try:
                new = rule.apply(raw) if rule is not None else raw
            except TransformFailed as exc:
                self.plan.find("failed", source, source_id, str(exc), customer, key)
                continue
            old = current_value(record.data, key)
            last = sent.get(key, _MISSING)
            if same(new, old) and (customer, key) not in self.forced:
                if last is _MISSING or not same(last, new):
                    self.plan.adopt.setdefault(customer, dict(sent))[key] = new
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
            self.plan.changes.append(Change(self.target.name, customer, key, new, old, source,
                                            source_id))


def master_values(mapping: SyncMapping, master: Side, target: str, ext: str,
                  record: MirroredCustomer) -> list[tuple[Rule | None, str, Any]]:
    values: list[tuple[Rule | None, str, Any]] = [
        (rule, rule.key, source_value(record.data, rule.field))
        for rule in mapping.rules_for(master.name, target)]
    if mapping.link_attribute and master.name == mapping.link_master and values:
        values.append((None, mapping.link_attribute, record.data.get("customer_number") or ext))
    return values


def derived_target(members: Iterable[tuple[str, str]], target: Side,
                   bindings: Mapping[str, Mapping[str, str]]) -> tuple[str | None, str]:
    """The target customer a profile's derived values go to: the profile's record in the
    target, else the one bound to its records. ``bindings``: connection → external id →
    internal id. Returns (customer, why not)."""
    members = list(members)
    direct = [ext for conn, ext in members if conn == target.name and ext in target.customers]
    if len(direct) == 1:
        return direct[0], ""
    if len(direct) > 1:
        return None, f"{len(direct)} customers of {target.name!r} share this e-mail"
    bound = {target.by_internal[internal] for conn, ext in members
             if (internal := bindings.get(conn, {}).get(ext)) in target.by_internal}
    if len(bound) == 1:
        return next(iter(bound)), ""
    if bound:
        return None, f"its records are bound to {len(bound)} customers of {target.name!r}"
    return None, f"no customer of {target.name!r} belongs to this person"


__all__ = ["Change", "Planner", "Side", "TargetPlan", "derived_target", "master_values"]
