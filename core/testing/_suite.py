"""The conformance tests themselves, grouped by the part of the contract they check.

The groups are mixins of :class:`~shoploop.testing.ConnectorConformance`; their names do not
start with ``Test`` so pytest never collects them on their own.
"""

from __future__ import annotations

from typing import Any

import pytest

from shoploop.hooks import (
    CAPABILITY_PROTOCOLS,
    BatchLimitError,
    Capability,
    ConnectionCheck,
    CountsRecords,
    CustomerDraft,
    RevokesRewards,
    UnreachableError,
    WriteResult,
    WriteStatus,
)

from ._base import ConformanceBase, MakeConnector, MakeUnreachable, expect_error
from ._dataset import ConformanceDataset
from ._reading import assert_exactly_once, assert_same_records, roundtrip


class ReadConformance(ConformanceBase):
    """``check()`` on a working system, declared capabilities, and paged, resumable reads."""

    def test_check_reports_reachable_and_authorised(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """A connector over a working system says so, and has the basic Connector shape."""
        connector = self._make(_opened, make_connector, conformance_dataset)
        if not isinstance(getattr(connector, "name", None), str) or not connector.name:
            pytest.fail("a connector must have a non-empty `name` (its connection's name)")
        check = connector.check()
        if not isinstance(check, ConnectionCheck):
            pytest.fail(f"check() returned {type(check).__name__}, not ConnectionCheck")
        assert check.reachable and check.authorised, (
            f"check() on a working connection says reachable={check.reachable}, "
            f"authorised={check.authorised}: {check.detail} {check.warnings}")

    def test_declared_capabilities_are_implemented(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """Every declared capability's protocol is implemented (the core checks this too)."""
        connector = self._make(_opened, make_connector, conformance_dataset)
        declared = self._declared_capabilities() or frozenset()
        missing = sorted(c.value for c in declared
                         if not isinstance(connector, CAPABILITY_PROTOCOLS[c]))
        assert not missing, f"declared but not implemented: {', '.join(missing)}"

    def test_full_read_returns_every_record_once(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any], stream: str,
    ) -> None:
        """Reading every page from no cursor yields each record exactly once, pages are at
        most ``page_size`` long and ``has_more`` is false exactly on the last page."""
        connector = self._make(_opened, make_connector, conformance_dataset)
        spec = self._stream(connector, stream)
        expected = [self.record_key(stream, r) for r in conformance_dataset.records(stream)]
        read = self._read(connector, spec, expected=len(expected))
        assert_exactly_once(read, expected, self.record_key, what="a full read")
        if self.exact_records:
            assert_same_records(read, conformance_dataset.records(stream), self.record_key)

    def test_resume_with_stored_cursor_on_new_instance(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any], stream: str,
    ) -> None:
        """Stop after a few pages, store the cursor as JSON, continue with a *new* connector
        instance: together both parts hold every record exactly once."""
        first = self._make(_opened, make_connector, conformance_dataset)
        spec = self._stream(first, stream)
        expected = [self.record_key(stream, r) for r in conformance_dataset.records(stream)]
        if not expected:
            pytest.skip(f"the dataset has no {stream} to page through")
        full_pages = -(-len(expected) // first.page_size)  # ceil
        pages = max(1, min(self.resume_after_pages, full_pages - 1))
        read = self._read(first, spec, expected=len(expected), stop_after=pages)
        if read.finished:
            pytest.fail(f"{stream}: the whole stream fitted into {len(read.page_sizes)} page(s) "
                        f"of page_size={first.page_size}; make_connector must configure a page "
                        f"size well below {len(expected)} so that reads can be resumed")
        first.close()
        _opened.remove(first)
        assert read.cursor is not None
        second = self._make(_opened, make_connector, conformance_dataset)
        read.extend(self._read(second, spec, roundtrip(read.cursor), expected=len(expected)))
        assert_exactly_once(read, expected, self.record_key,
                            what=f"a read resumed after {pages} page(s) on a new instance")

    def test_incremental_read_from_checkpoint(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any], stream: str,
    ) -> None:
        """From the final cursor of a full read: nothing while the source is unchanged; after
        it changed, the updated and new records (exactly them if ``exact_incremental``)."""
        connector = self._make(_opened, make_connector, conformance_dataset)
        spec = self._stream(connector, stream)
        size = len(conformance_dataset.records(stream))
        checkpoint = self._read(connector, spec, expected=size).cursor
        again = self._read(connector, spec, checkpoint, expected=size)
        assert not again.records, (
            f"reading {stream} again from the final checkpoint of an unchanged source returned "
            f"{len(again.records)} record(s), e.g. {again.keys(self.record_key)[:5]}; a "
            "checkpoint must only return what changed after it")

        changed = conformance_dataset.changed()
        expected = sorted(changed.changes[stream])
        later = self._make(_opened, make_connector, changed)
        delta = self._read(later, spec, checkpoint, expected=len(changed.records(stream)))
        if self.exact_incremental:
            assert_exactly_once(delta, expected, self.record_key,
                                what="an incremental read after the source changed")
        else:
            missing = sorted(set(expected) - set(delta.keys(self.record_key)))
            assert not missing, (f"an incremental read missed {len(missing)} changed or new "
                                 f"{stream}, e.g. {missing[:5]}")
        if self.exact_records:
            assert_same_records(delta, changed.records(stream), self.record_key)
        settled = self._read(later, spec, delta.cursor, expected=len(expected))
        assert not settled.records, (
            f"after the incremental read, its own checkpoint returned {len(settled.records)} "
            f"{stream} again; the checkpoint must move past what was returned")


    def test_count_matches_a_full_read(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any], stream: str,
    ) -> None:
        """``count_records(stream)`` before a full read is the number of records it returns
        (or None: unknown), and the count of a stream the connector does not read is None."""
        connector = self._make(_opened, make_connector, conformance_dataset)
        self._require(connector, Capability.COUNT_RECORDS)
        self._stream(connector, stream)
        counter: CountsRecords = connector
        counted = counter.count_records(stream, None)
        size = len(conformance_dataset.records(stream))
        assert counted is None or counted == size, (
            f"count_records({stream!r}) said {counted} before a full read of {size} records")
        assert counter.count_records("no_such_stream", None) is None


class WriteConformance(ConformanceBase):
    """Batched, idempotent attribute writes."""

    def test_write_exactly_batch_size(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """A batch of exactly ``attribute_batch_size`` new values is accepted and written, one
        ``WriteResult`` per change."""
        connector, limit = self._writer(make_connector, conformance_dataset, _opened)
        changes = self.make_attribute_changes(conformance_dataset, limit, "full")
        results = self._check_results(changes, connector.write_customer_attributes(changes))
        self._statuses(results, WriteStatus.WRITTEN, f"a first write of {limit} new values")

    def test_write_over_batch_limit_writes_nothing(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """One change more than ``attribute_batch_size`` raises ``BatchLimitError`` before
        anything is written: afterwards, the same values still count as new."""
        connector, limit = self._writer(make_connector, conformance_dataset, _opened)
        changes = self.make_attribute_changes(conformance_dataset, limit + 1, "over")
        expect_error(lambda: connector.write_customer_attributes(changes), BatchLimitError,
                     f"writing {limit + 1} changes (attribute_batch_size={limit})",
                     connector.name)
        results = self._check_results(changes[:limit],
                                      connector.write_customer_attributes(changes[:limit]))
        self._statuses(results, WriteStatus.WRITTEN,
                       "after BatchLimitError the rejected values must not have been written")

    def test_write_is_idempotent(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """Writing the same batch twice: the second time every change is ``unchanged``; a
        batch with some values changed writes exactly those."""
        connector, limit = self._writer(make_connector, conformance_dataset, _opened)
        changes = self.make_attribute_changes(conformance_dataset, min(limit, 60), "idem")
        first = self._check_results(changes, connector.write_customer_attributes(changes))
        self._statuses(first, WriteStatus.WRITTEN, "the first write")
        second = self._check_results(changes, connector.write_customer_attributes(changes))
        self._statuses(second, WriteStatus.UNCHANGED, "writing the same batch again")
        edited = [c.model_copy(update={"new": f"{c.new}-edited"}) if i % 2 else c
                  for i, c in enumerate(changes)]
        third = self._check_results(edited, connector.write_customer_attributes(edited))
        self._statuses(third[1::2], WriteStatus.WRITTEN, "writing edited values")
        self._statuses(third[0::2], WriteStatus.UNCHANGED,
                       "writing unedited values next to edited ones")


class CreateConformance(ConformanceBase):
    """Customers created once per e-mail, and readable afterwards."""

    def _creator(self, make_connector: MakeConnector, dataset: ConformanceDataset,
                 opened: list[Any]) -> tuple[Any, int]:
        return self._batcher(make_connector, dataset, opened, Capability.CREATE_CUSTOMERS,
                             "customer_batch_size")

    @staticmethod
    def _drafts(count: int, tag: str) -> list[CustomerDraft]:
        return [CustomerDraft(email=f"conformance-{tag}-{i}@example.com", first_name="Conf",
                              last_name=f"{tag.title()} {i}", company=f"Company {i}",
                              source=f"kit/{tag}-{i}") for i in range(count)]

    def _created(self, drafts: list[CustomerDraft], results: object) -> list[WriteResult]:
        return self._one_result_each("create_customers", "draft", len(drafts), results)

    def test_create_customers_once_per_email(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """New e-mails are ``written`` with distinct ids; creating them again creates nothing
        and answers ``unchanged`` with the same ids (a lost answer or a crash between create
        and bind must not make a second customer)."""
        connector, limit = self._creator(make_connector, conformance_dataset, _opened)
        drafts = self._drafts(min(limit, 3), "once")
        first = self._created(drafts, connector.create_customers(drafts))
        self._statuses(first, WriteStatus.WRITTEN, "creating customers with new e-mails")
        ids = [r.customer_id for r in first]
        assert all(ids) and len(set(ids)) == len(ids), (
            f"created customers must have distinct, non-empty ids; got {ids}")
        again = self._created(drafts, connector.create_customers(drafts))
        self._statuses(again, WriteStatus.UNCHANGED, "creating the same e-mails again")
        assert [r.customer_id for r in again] == ids, (
            "creating an existing e-mail must answer the existing customer's id: "
            f"first {ids}, then {[r.customer_id for r in again]}")

    def test_created_customers_are_read_back(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """A created customer is returned by a full read, with its id and e-mail."""
        connector, _limit = self._creator(make_connector, conformance_dataset, _opened)
        self._require(connector, Capability.READ_CUSTOMERS)
        drafts = self._drafts(2, "read")
        created = self._created(drafts, connector.create_customers(drafts))
        self._statuses(created, WriteStatus.WRITTEN, "creating customers with new e-mails")
        spec = self._stream(connector, "customers")
        read = self._read(connector, spec, expected=len(conformance_dataset.customers) + 2)
        emails = {str(getattr(c, "id", "")): getattr(c, "email", None) for c in read.records}
        for draft, result in zip(drafts, created, strict=True):
            assert emails.get(result.customer_id) == draft.email, (
                f"customer {result.customer_id!r} created for {draft.email!r} was read back "
                f"as {emails.get(result.customer_id, '(missing)')!r}")

    def test_create_over_batch_limit_creates_nothing(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """One draft more than ``customer_batch_size`` raises ``BatchLimitError`` before
        anything is created: afterwards, the same e-mails are still new."""
        connector, limit = self._creator(make_connector, conformance_dataset, _opened)
        drafts = self._drafts(limit + 1, "over")
        expect_error(lambda: connector.create_customers(drafts), BatchLimitError,
                     f"creating {limit + 1} customers (customer_batch_size={limit})",
                     connector.name)
        results = self._created(drafts[:1], connector.create_customers(drafts[:1]))
        self._statuses(results, WriteStatus.WRITTEN,
                       "after BatchLimitError the rejected drafts must not have been created")


class RewardConformance(ConformanceBase):
    """Rewards issued once per idempotency key and found again."""

    def test_issue_reward_twice_returns_the_same_reward(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """The same idempotency key gives the same reward; another key gives another one."""
        connector = self._make(_opened, make_connector, conformance_dataset)
        self._require(connector, Capability.ISSUE_REWARDS)
        spec = self.make_reward_spec(conformance_dataset, "conformance-reward-0001")
        first, second = connector.issue_reward(spec), connector.issue_reward(spec)
        assert (first.reference, first.idempotency_key) == (second.reference,
                                                            second.idempotency_key), (
            f"issuing twice with one idempotency key gave {first.reference!r} and "
            f"{second.reference!r}; the second call must return the first reward")
        assert first.idempotency_key == spec.idempotency_key
        other = connector.issue_reward(
            self.make_reward_spec(conformance_dataset, "conformance-reward-0002"))
        assert other.reference != first.reference, "two idempotency keys gave one reward"

    def test_find_reward(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """``find_reward`` finds an issued reward by its key and answers None for unknown keys."""
        connector = self._make(_opened, make_connector, conformance_dataset)
        self._require(connector, Capability.ISSUE_REWARDS)
        issued = connector.issue_reward(
            self.make_reward_spec(conformance_dataset, "conformance-reward-find"))
        found = connector.find_reward("conformance-reward-find")
        assert found is not None, "find_reward did not find a reward just issued"
        assert found.reference == issued.reference
        assert connector.find_reward("conformance-reward-unknown-key") is None

    def test_revoke_reward(
        self, make_connector: MakeConnector, conformance_dataset: ConformanceDataset,
        _opened: list[Any],
    ) -> None:
        """``revoke_reward`` (optional, ``RevokesRewards``) takes back an unused reward, answers
        ``revoked`` (or ``gone``, where the target keeps no trace of it) when repeated, and
        ``gone`` for a key it never issued."""
        connector = self._make(_opened, make_connector, conformance_dataset)
        self._require(connector, Capability.ISSUE_REWARDS)
        if not isinstance(connector, RevokesRewards):
            pytest.skip("connector does not implement RevokesRewards (optional): rewards of "
                        "refunded referrals are reversed in the ledger only")
        revoker: Any = connector
        issued = revoker.issue_reward(
            self.make_reward_spec(conformance_dataset, "conformance-reward-revoke"))
        first = connector.revoke_reward("conformance-reward-revoke")
        assert (first.outcome, first.idempotency_key) == ("revoked",
                                                          "conformance-reward-revoke"), (
            f"revoking the unused reward {issued.reference!r} answered {first.outcome!r} "
            f"({first.reason}); expected 'revoked'")
        again = connector.revoke_reward("conformance-reward-revoke")
        assert again.outcome in ("revoked", "gone"), (
            f"a repeated revoke answered {again.outcome!r} ({again.reason}); it must answer "
            "'revoked' (or 'gone': an ERP deletes the document) again, without a second write")
        unknown = connector.revoke_reward("conformance-reward-never-issued")
        assert unknown.outcome == "gone", (
            f"revoking a key never issued answered {unknown.outcome!r}; expected 'gone'")


class UnreachableConformance(ConformanceBase):
    """An unreachable system gives domain errors, never raw exceptions."""

    def test_unreachable_check_reports_without_raising(
        self, make_unreachable_connector: MakeUnreachable | None, _opened: list[Any],
    ) -> None:
        """``check()`` on an unreachable system returns reachable=False instead of raising."""
        connector = self._unreachable(make_unreachable_connector, _opened)
        check: object = None
        try:
            check = connector.check()
        except Exception as exc:
            check = exc
        if isinstance(check, Exception):
            pytest.fail(f"check() raised {type(check).__name__}: {check}; it must never raise, "
                        "but return ConnectionCheck(reachable=False, detail=...)")
        assert isinstance(check, ConnectionCheck), f"check() returned {type(check).__name__}"
        assert not check.reachable, "check() says reachable=True for an unreachable system"
        assert check.detail, "check() should explain in `detail` why the system is unreachable"

    def test_unreachable_read_raises_unreachable_error(
        self, make_unreachable_connector: MakeUnreachable | None, _opened: list[Any],
        stream: str,
    ) -> None:
        """Reads from an unreachable system raise ``UnreachableError`` naming the connection
        and operation — never a raw exception."""
        connector = self._unreachable(make_unreachable_connector, _opened)
        spec = self._stream(connector, stream)
        expect_error(lambda: getattr(connector, spec.method)(None), UnreachableError,
                     f"{spec.method}() on an unreachable system", connector.name)

    def test_unreachable_write_raises_unreachable_error(
        self, make_unreachable_connector: MakeUnreachable | None, _opened: list[Any],
        conformance_dataset: ConformanceDataset,
    ) -> None:
        """Writes to an unreachable system raise ``UnreachableError``, never a raw exception."""
        connector = self._unreachable(make_unreachable_connector, _opened)
        self._require(connector, Capability.WRITE_CUSTOMER_ATTRIBUTES)
        changes = self.make_attribute_changes(conformance_dataset, 1, "unreachable")
        expect_error(lambda: connector.write_customer_attributes(changes), UnreachableError,
                     "write_customer_attributes() on an unreachable system", connector.name)
