"""The conformance kit can fail: run it (with pytester) against connectors that each break one
promise, and check that exactly the tests for that promise fail, with a telling message. Also:
a correct connector passes everything, and only applicable tests are generated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from shoploop.testing import ConnectorConformance  # noqa: F401  (kept importable across runs)

MEMORY_CONNECTOR = (Path(__file__).parent / "memory_connector.py").read_text(encoding="utf-8")

TEST_MODULE = '''
import pytest
from shoploop.hooks import Capability
from memory_connector import CAPABILITIES, FLAVOURS, ReadOnly
from shoploop.testing import ConnectorConformance

class TestUnderTest(ConnectorConformance):
    capabilities = {capabilities}
    exact_records = True
{settings}
    @pytest.fixture
    def make_connector(self):
        return lambda dataset: {connector}("mem", dataset)
{unreachable}
'''

UNREACHABLE = '''
    @pytest.fixture
    def make_unreachable_connector(self):
        return lambda: {connector}("mem", None)
'''

READ_ONLY = '''

class ReadOnly:
    """Reads only: no write or reward methods at all."""

    def __init__(self, name, dataset):
        self._inner = MemoryConnector(name, dataset)
        self.name, self.page_size = name, self._inner.page_size

    def check(self):
        return self._inner.check()

    def close(self):
        return None

    def read_customers(self, cursor=None):
        return self._inner.read_customers(cursor)
'''

STREAMS = ("customers", "orders", "products", "installed_base")
READS = {f"{test}[{stream}]" for test in ("test_full_read_returns_every_record_once",
                                          "test_resume_with_stored_cursor_on_new_instance",
                                          "test_incremental_read_from_checkpoint")
         for stream in STREAMS}
ALL_TESTS = READS | {
    "test_check_reports_reachable_and_authorised", "test_declared_capabilities_are_implemented",
    "test_write_exactly_batch_size", "test_write_over_batch_limit_writes_nothing",
    "test_write_is_idempotent", "test_issue_reward_twice_returns_the_same_reward",
    "test_find_reward", "test_revoke_reward", "test_unreachable_check_reports_without_raising",
    "test_unreachable_write_raises_unreachable_error",
} | {f"test_unreachable_read_raises_unreachable_error[{stream}]" for stream in STREAMS}


@dataclass
class KitRun:
    passed: set[str]
    failed: dict[str, str]  # test name → failure text
    skipped: dict[str, str]  # test name → reason

    @property
    def collected(self) -> set[str]:
        return self.passed | set(self.failed) | set(self.skipped)


def run_kit(pytester: pytest.Pytester, flavour: str = "MemoryConnector", *,
            capabilities: str = "CAPABILITIES", unreachable: bool = True,
            settings: str = "") -> KitRun:
    pytester.makepyfile(memory_connector=MEMORY_CONNECTOR + READ_ONLY)
    connector = flavour if flavour == "ReadOnly" else f'FLAVOURS["{flavour}"]'
    pytester.makepyfile(test_kit=TEST_MODULE.format(
        capabilities=capabilities, connector=connector, settings=settings,
        unreachable=UNREACHABLE.format(connector=connector) if unreachable else ""))
    pytester.syspathinsert()
    recorder = pytester.inline_run("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                   "--tb=short")
    passed, skipped, failed = recorder.listoutcomes()

    def name(report: pytest.TestReport | pytest.CollectReport) -> str:
        return report.nodeid.rpartition("::")[2]

    collection_errors = recorder.getfailedcollections()
    assert not collection_errors, collection_errors[0].longreprtext
    return KitRun(
        passed={name(r) for r in passed},
        failed={name(r): r.longreprtext for r in failed},
        skipped={name(r): str(r.longrepr) for r in skipped},
    )


def test_a_correct_connector_passes_every_test(pytester: pytest.Pytester) -> None:
    run = run_kit(pytester)
    assert run.failed == {}
    assert run.skipped == {}
    assert run.passed == ALL_TESTS


@pytest.mark.parametrize(("flavour", "expected_failures", "message"), [
    pytest.param(
        "DuplicatesAtPageBoundary",
        {f"{test}[{stream}]" for stream in STREAMS
         for test in ("test_full_read_returns_every_record_once",
                      "test_resume_with_stored_cursor_on_new_instance")}
        | {"test_incremental_read_from_checkpoint[customers]",
           "test_incremental_read_from_checkpoint[orders]"},
        "returned more than once", id="duplicates-a-record-at-a-page-boundary"),
    pytest.param(
        "LosesAtPageBoundary",
        {f"{test}[{stream}]" for stream in STREAMS
         for test in ("test_full_read_returns_every_record_once",
                      "test_resume_with_stored_cursor_on_new_instance")}
        | {"test_incremental_read_from_checkpoint[customers]",
           "test_incremental_read_from_checkpoint[orders]"},
        "never returned|empty last page", id="skips-a-record-at-a-page-boundary"),
    pytest.param("IgnoresBatchLimit", {"test_write_over_batch_limit_writes_nothing"},
                 "returned normally; expected BatchLimitError", id="ignores-the-batch-limit"),
    pytest.param("NotIdempotent", {"test_write_is_idempotent"},
                 "writing the same batch again", id="writes-unchanged-values-again"),
    pytest.param("RaisesRawOSError",
                 {f"test_unreachable_read_raises_unreachable_error[{s}]" for s in STREAMS}
                 | {"test_unreachable_write_raises_unreachable_error"},
                 "raised a raw ConnectionRefusedError", id="raises-a-raw-oserror"),
    pytest.param("CheckpointRestartsFromScratch",
                 {f"test_incremental_read_from_checkpoint[{s}]" for s in STREAMS},
                 "from the final checkpoint of an unchanged source", id="ignores-checkpoints"),
    pytest.param("ReissuesRewards", {"test_issue_reward_twice_returns_the_same_reward"},
                 "the second call must return the first reward", id="reissues-rewards"),
    pytest.param("RevokesOnlyOnce", {"test_revoke_reward"},
                 "a repeated revoke answered 'redeemed'", id="revokes-only-once"),
    pytest.param("TrailingEmptyPage",
                 {f"test_full_read_returns_every_record_once[{s}]" for s in STREAMS}
                 | {f"test_resume_with_stored_cursor_on_new_instance[{s}]" for s in STREAMS}
                 | {f"test_incremental_read_from_checkpoint[{s}]" for s in STREAMS},
                 "empty last page", id="returns-an-empty-last-page"),
])
def test_a_broken_connector_fails_exactly_the_tests_for_its_defect(
    pytester: pytest.Pytester, flavour: str, expected_failures: set[str], message: str,
) -> None:
    run = run_kit(pytester, flavour)
    assert set(run.failed) == expected_failures
    assert run.skipped == {}
    for name, text in run.failed.items():
        assert re.search(message, text), f"{name} failed without saying {message!r}:\n{text}"
    assert run.passed == ALL_TESTS - expected_failures


def test_empty_pages_can_be_allowed_for_platforms_that_cannot_know_the_end(
    pytester: pytest.Pytester,
) -> None:
    run = run_kit(pytester, "TrailingEmptyPage", settings="    empty_pages_allowed = True\n")
    assert run.failed == {}
    assert run.passed == ALL_TESTS


def test_only_the_declared_capabilities_get_tests(pytester: pytest.Pytester) -> None:
    run = run_kit(pytester, capabilities="{Capability.READ_CUSTOMERS}")
    assert run.skipped == {}
    assert run.failed == {}
    assert run.passed == {
        "test_check_reports_reachable_and_authorised",
        "test_declared_capabilities_are_implemented",
        "test_full_read_returns_every_record_once[customers]",
        "test_resume_with_stored_cursor_on_new_instance[customers]",
        "test_incremental_read_from_checkpoint[customers]",
        "test_unreachable_check_reports_without_raising",
        "test_unreachable_read_raises_unreachable_error[customers]",
    }


def test_without_an_unreachable_connector_no_unreachable_test_is_generated(
    pytester: pytest.Pytester,
) -> None:
    run = run_kit(pytester, unreachable=False)
    assert run.failed == {}
    assert run.passed == {name for name in ALL_TESTS if "unreachable" not in name}


def test_undeclared_missing_capabilities_are_skipped_naming_them(
    pytester: pytest.Pytester,
) -> None:
    run = run_kit(pytester, "ReadOnly", capabilities="None", unreachable=False)
    assert run.failed == {}
    assert "test_declared_capabilities_are_implemented" not in run.collected
    assert run.passed == {
        "test_check_reports_reachable_and_authorised",
        *(f"{test}[customers]" for test in ("test_full_read_returns_every_record_once",
                                            "test_resume_with_stored_cursor_on_new_instance",
                                            "test_incremental_read_from_checkpoint")),
    }
    assert set(run.skipped) == run.collected - run.passed
    for name, reason in run.skipped.items():
        capability = ("write_customer_attributes" if "write" in name
                      else "create_customers" if "create" in name
                      else "issue_rewards" if "reward" in name
                      else "count_records" if "count" in name
                      else f"read_{name.partition('[')[2].rstrip(']')}")
        assert f"does not offer '{capability}'" in reason, (name, reason)


def test_a_declared_but_missing_capability_fails(pytester: pytest.Pytester) -> None:
    run = run_kit(pytester, "ReadOnly", unreachable=False,
                  capabilities="{Capability.READ_CUSTOMERS, Capability.ISSUE_REWARDS}")
    assert set(run.failed) == {"test_declared_capabilities_are_implemented",
                               "test_issue_reward_twice_returns_the_same_reward",
                               "test_find_reward", "test_revoke_reward"}
    assert "declared but not implemented: issue_rewards" in \
        run.failed["test_declared_capabilities_are_implemented"]
    assert "'issue_rewards' is declared but" in run.failed["test_find_reward"]
