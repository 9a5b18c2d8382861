"""The connector conformance suite: one class a connector's test module subclasses.

Each test checks one promise of the connector contract in :mod:`shoploop.hooks` — the promises
the core relies on to sync with nothing lost and nothing written twice. Tests exist only for
what the connector offers: with ``capabilities`` declared on the subclass, inapplicable tests are
removed from the class when it is defined, so they are not even collected; without it, a test
for a capability the connector lacks is skipped with a reason naming the capability. The
unreachable-system tests exist only when the subclass overrides ``make_unreachable_connector``.
docs/conformance-kit.md explains each test and how to read its failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shoploop.hooks import Capability

from ._dataset import STREAMS
from ._suite import (
    CreateConformance,
    ReadConformance,
    RewardConformance,
    UnreachableConformance,
    WriteConformance,
)


@dataclass(frozen=True)
class _Needs:
    """When a test applies: one of ``capabilities`` is offered (empty: always), the subclass
    provides an unreachable connector, and/or it declares its capabilities at all."""

    capabilities: frozenset[Capability] = frozenset()
    unreachable: bool = False
    declared: bool = False


_READS = frozenset(spec.capability for spec in STREAMS.values())
_WRITES = frozenset({Capability.WRITE_CUSTOMER_ATTRIBUTES})
_CREATES = frozenset({Capability.CREATE_CUSTOMERS})
_REWARDS = frozenset({Capability.ISSUE_REWARDS})
_COUNTS = frozenset({Capability.COUNT_RECORDS})
_NEEDS: dict[str, _Needs] = {
    "test_check_reports_reachable_and_authorised": _Needs(),
    "test_declared_capabilities_are_implemented": _Needs(declared=True),
    "test_full_read_returns_every_record_once": _Needs(_READS),
    "test_resume_with_stored_cursor_on_new_instance": _Needs(_READS),
    "test_incremental_read_from_checkpoint": _Needs(_READS),
    "test_count_matches_a_full_read": _Needs(_COUNTS),
    "test_write_exactly_batch_size": _Needs(_WRITES),
    "test_write_over_batch_limit_writes_nothing": _Needs(_WRITES),
    "test_write_is_idempotent": _Needs(_WRITES),
    "test_create_customers_once_per_email": _Needs(_CREATES),
    "test_created_customers_are_read_back": _Needs(_CREATES),
    "test_create_over_batch_limit_creates_nothing": _Needs(_CREATES),
    "test_issue_reward_twice_returns_the_same_reward": _Needs(_REWARDS),
    "test_find_reward": _Needs(_REWARDS),
    "test_revoke_reward": _Needs(_REWARDS),
    "test_unreachable_check_reports_without_raising": _Needs(unreachable=True),
    "test_unreachable_read_raises_unreachable_error": _Needs(_READS, unreachable=True),
    "test_unreachable_write_raises_unreachable_error": _Needs(_WRITES, unreachable=True),
}


def _defining_class(cls: type, name: str) -> type | None:
    return next((klass for klass in cls.__mro__ if name in vars(klass)), None)


class ConnectorConformance(
    ReadConformance, WriteConformance, CreateConformance, RewardConformance,
    UnreachableConformance,
):
    """Subclass as ``Test<Something>`` and provide the ``make_connector`` fixture: a callable
    ``(dataset: ConformanceDataset) -> connector`` serving exactly that data, with a page size
    well below the dataset's sizes (e.g. 10). Optionally override ``make_unreachable_connector``
    (``() -> connector`` whose system cannot be reached) and set the class attributes documented
    on :class:`~shoploop.testing._base.ConformanceBase` (``capabilities``, ``exact_incremental``,
    ``exact_records``, ``empty_pages_allowed``, ``resume_after_pages``, ``reward_kind``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls._declared_capabilities()
        unreachable = _defining_class(cls, "make_unreachable_connector") is not _BASE_FIXTURES
        for name, needs in _NEEDS.items():
            applicable = (
                (not needs.capabilities or declared is None or bool(needs.capabilities & declared))
                and (unreachable or not needs.unreachable)
                and (declared is not None or not needs.declared)
            )
            if not applicable:
                setattr(cls, name, None)  # pytest collects no test from a non-callable
            elif getattr(cls, name) is None:  # removed by a parent, applicable again here
                setattr(cls, name, _ORIGINAL_TESTS[name])

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize ``stream`` with the readable streams that apply (pytest calls this for
        every test function of the class)."""
        if "stream" not in metafunc.fixturenames:
            return
        declared = self._declared_capabilities()
        streams = [name for name, spec in STREAMS.items()
                   if declared is None or spec.capability in declared]
        metafunc.parametrize("stream", streams, ids=streams)


_BASE_FIXTURES = _defining_class(ConnectorConformance, "make_unreachable_connector")
_ORIGINAL_TESTS = {name: getattr(ConnectorConformance, name) for name in _NEEDS}
