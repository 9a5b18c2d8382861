"""Safety checks between planning and writing: no mapping typo and no mass clear gets out.

Two checks, one idea — a run must not empty the targets' values by mistake:

- **Absent fields** (:class:`FieldCheck`): a master field that none of the master's customers
  holds a value in (after the import) is almost always a misspelling; mapped, it would clear
  the attribute in every target. The run is refused as a mapping error naming the attribute,
  the master, the field and the closest fields the master's customers do have — in a dry run
  too — unless the attribute sets ``allow_clear = true``.
- **Mass clears** (:class:`WriteGate`): every target's clears are held until all targets are
  planned; a run that would clear more than ``sync.max_clear_share`` of the values a target
  holds for the mapped keys (and at least ``sync.min_mass_clear`` of them) clears nothing and
  is refused (exit 2), unless run with ``--allow-mass-clear``. The clears of ``allow_clear``
  attributes do not count. Only the clears wait: the other changes are written while the run
  plans, so the pipeline's overlap and its bounded memory stay (a value that replaces another
  is what the mapping asks for; a value that disappears is what a mistake looks like).
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shoploop.hooks import ConfigError

from .._interrupt import StopToken
from ._mapping import Rule, SyncMapping
from ._plan import TargetPlan
from ._settings import CUSTOMER_FIELDS
from ._state import MirroredCustomer
from ._values import is_empty, source_value


class FieldCheck:
    """Which of a master's mapped fields none of its customers holds a value in, from the
    records of one streamed pass (:meth:`see` per record)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = [r for r in rules if not r.allow_clear]
        self.absent = {r.field for r in self.rules}
        self.records = 0

    def see(self, record: MirroredCustomer) -> None:
        self.records += 1
        if self.absent:  # most runs: every field found within the first records
            self.absent = {f for f in self.absent if is_empty(source_value(record.data, f))}

    def refusal(self, master: str, file: str,
                chunks: Iterable[Sequence[MirroredCustomer]]) -> ConfigError | None:
        """The mapping error for the absent fields (None if there is none, or the master has
        no customers, so nothing would be cleared); ``chunks``: the master's records again,
        read only to suggest the fields they do have."""
        if not self.absent or not self.records:
            return None
        held = _held_fields(chunks)
        problems, first = [], ""
        for attribute, field in dict.fromkeys((r.attribute, r.field) for r in self.rules
                                              if r.field in self.absent):
            first = first or f"sync.attributes.{attribute}.field"
            close = difflib.get_close_matches(field, sorted(held), n=3, cutoff=0.6)
            problems.append(
                f"attribute {attribute!r}: no customer of {master!r} has a value in field "
                f"{field!r}" + (f" (did you mean {' or '.join(map(repr, close))}?)" if close
                               else f"; its customers hold: {', '.join(sorted(held)) or '—'}"))
        return ConfigError(
            "; ".join(problems) + " — mapped as it is, the run would clear the attribute in "
            "every target", file=file, key=first,
            remedy="fix `field` (or the attribute's name, its default); if clearing the "
                   "targets' values is intended, set `allow_clear = true` on the attribute")


def _held_fields(chunks: Iterable[Sequence[MirroredCustomer]]) -> set[str]:
    held: set[str] = set()
    for records in chunks:
        for record in records:
            held.update(k for k in CUSTOMER_FIELDS if not is_empty(record.data.get(k)))
            attributes = record.data.get("attributes") or {}
            held.update(k for k, v in attributes.items() if not is_empty(v))
    return held


class WriteGate:
    """Holds every target's guarded clears until all targets are planned, then decides once
    for the run: the clears go out unless a planning failed, a stop was requested, or the
    mass-clear guard refuses the run (:attr:`refusals`, one message per target)."""

    def __init__(self, targets: Iterable[str], mapping: SyncMapping, stop: StopToken, *,
                 allow_mass_clear: bool) -> None:
        self.mapping, self.stop, self.allow_mass_clear = mapping, stop, allow_mass_clear
        self._waiting = set(targets)
        self._plans: dict[str, TargetPlan] = {}
        self._failed = False
        self._decided = threading.Condition()
        self.release: bool | None = None
        self.refusals: dict[str, str] = {}

    def arrive(self, target: str, plan: TargetPlan | None, *, failed: bool = False) -> bool:
        """``target`` is planned (``plan``), left out (None) or failed; waits until every
        target has arrived and returns whether its held clears may go out."""
        with self._decided:
            if plan is not None:
                self._plans[target] = plan
            self._failed |= failed
            self._waiting.discard(target)
            if not self._waiting and self.release is None:
                self.refusals = {t: message for t, p in self._plans.items()
                                 if (message := self._refusal(p))}
                self.release = not (self._failed or self.refusals)
                self._decided.notify_all()
            while self.release is None:
                self._decided.wait()
            return self.release and not self.stop.requested

    def _refusal(self, plan: TargetPlan) -> str:
        clears = sum(plan.guarded_clears.values())
        share, floor = self.mapping.max_clear_share, self.mapping.min_mass_clear
        if self.allow_mass_clear or clears < floor or clears <= share * plan.held:
            return ""
        by_attribute = ", ".join(f"{attribute} {n}" for attribute, n
                                 in plan.guarded_clears.most_common())
        return (f"{plan.target!r}: the run would clear {clears} of the {plan.held} values it "
                f"holds for the mapped keys ({clears / max(plan.held, 1):.0%}, more than "
                f"sync.max_clear_share = {share:g}) — {by_attribute}; no value was cleared "
                "(the run's other changes were written). "
                "If these clears are intended, run again with --allow-mass-clear (or set "
                "allow_clear = true on the attribute); otherwise fix the mapping or the "
                "master's data (`--dry-run` lists every change)")


def clears_of(plans: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """target → attribute → planned clears the guard counts, for the report."""
    return {t: dict(p.guarded_clears) for t, p in plans.items() if p.guarded_clears}


__all__ = ["FieldCheck", "WriteGate", "clears_of"]
