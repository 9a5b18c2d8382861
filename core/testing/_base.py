"""What every conformance test shares: the tuning knobs, fixtures, overridable hooks and the
helpers that turn a breach of the connector contract into a failure message that says what was
expected, what happened and what to change."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from shoploop.hooks import (
    CAPABILITY_PROTOCOLS,
    AttributeChange,
    Capability,
    ConnectorError,
    KeepsRecordDigests,
    MemoryRecordDigests,
    RewardSpec,
    WriteResult,
    WriteStatus,
)

from ._dataset import STREAMS, ConformanceDataset, StreamSpec, make_dataset
from ._reading import StreamRead, read_pages

MakeConnector = Callable[[ConformanceDataset], Any]
MakeUnreachable = Callable[[], Any]


def expect_error(call: Callable[[], object], expected: type[ConnectorError], what: str,
                 connection: str) -> ConnectorError:
    """Run ``call``; it must raise ``expected`` naming the connection and the operation.

    Failures are reported outside the ``except`` blocks so the report shows the kit's message,
    not a chained traceback of the connector's exception."""
    raised: Exception | None = None
    try:
        call()
    except Exception as exc:
        raised = exc
    if isinstance(raised, expected):
        if raised.connection != connection or not raised.operation:
            pytest.fail(f"{what} raised {type(raised).__name__} with connection="
                        f"{raised.connection!r}, operation={raised.operation!r}; domain errors "
                        f"must name the connection ({connection!r}) and the operation")
        return raised
    if isinstance(raised, ConnectorError):
        pytest.fail(f"{what} raised {type(raised).__name__} ({raised}); expected "
                    f"{expected.__name__}")
    if raised is not None:
        pytest.fail(f"{what} raised a raw {type(raised).__name__}: {raised!r} — connectors "
                    f"must translate transport failures into shoploop.hooks domain errors "
                    f"({expected.__name__} here) so the core and operators never see raw "
                    "exceptions")
    pytest.fail(f"{what} returned normally; expected {expected.__name__}")


class ConformanceBase:
    """Settings, fixtures and helpers shared by the conformance tests.

    Class attributes tune the suite:

    ``capabilities``
        The capabilities the connector type declares (``Capability`` members or their string
        values). Declared: only applicable tests are generated, and a declared capability the
        connector does not implement fails. ``None``: every test is generated and those for
        missing protocols are skipped, naming the capability.
    ``exact_incremental``
        An incremental read from a checkpoint must return *exactly* the changed and new records
        (``True``), or at least them (``False``, for sources that can only filter coarsely).
    ``exact_records``
        Records read must equal the dataset's field by field (for connectors that store
        every field, like ``files``); otherwise only ids are compared.
    ``empty_pages_allowed``
        Whether an empty page may appear before ``has_more`` turns false (platforms whose paging
        cannot know the end in advance, e.g. NAV ``ReadMultiple``).
    ``resume_after_pages``
        How many pages the resume test reads before storing the cursor.
    ``reward_kind``
        The ``RewardSpec.kind`` the reward tests issue.
    """

    capabilities: ClassVar[Collection[Capability | str] | None] = None
    exact_incremental: ClassVar[bool] = True
    exact_records: ClassVar[bool] = False
    empty_pages_allowed: ClassVar[bool] = False
    resume_after_pages: ClassVar[int] = 2
    reward_kind: ClassVar[str] = "discount_code"


    @classmethod
    def _declared_capabilities(cls) -> frozenset[Capability] | None:
        if cls.capabilities is None:
            return None
        return frozenset(Capability(c) for c in cls.capabilities)

    # -- fixtures a subclass may override -----------------------------------------------------

    @pytest.fixture
    def conformance_dataset(self) -> ConformanceDataset:
        """The data the connector under test serves. Override for other sizes or seeds."""
        return make_dataset()

    @pytest.fixture
    def make_unreachable_connector(self) -> MakeUnreachable | None:
        """Override to return ``() -> connector`` whose system cannot be reached."""
        return None

    @pytest.fixture
    def _opened(self) -> Iterator[list[Any]]:
        """Connectors made during the test, closed at teardown (``close()`` must not raise)."""
        opened: list[Any] = []
        yield opened
        errors = []
        for connector in opened:
            try:
                connector.close()
            except Exception as exc:  # close the others before reporting
                errors.append(f"{type(exc).__name__}: {exc}")
        if errors:
            pytest.fail(f"close() must not raise, but raised {errors[0]}")

    # -- hooks a subclass may override --------------------------------------------------------

    def record_key(self, stream: str, record: BaseModel) -> str:
        """How records read are matched with the dataset's (default: ``id``). Override when the
        platform assigns its own ids, e.g. to map them back through an external id."""
        return str(getattr(record, "id"))  # noqa: B009

    def make_attribute_changes(self, dataset: ConformanceDataset, count: int,
                               tag: str) -> list[AttributeChange]:
        """``count`` changes with distinct (customer, key) pairs over the dataset's customers;
        ``tag`` makes keys and values distinct between tests."""
        ids = dataset.ids("customers")
        if not ids:
            pytest.fail("the dataset has no customers to write attributes for")
        return [AttributeChange(customer_id=ids[i % len(ids)],
                                key=f"shoploop_conformance_{tag}_{i // len(ids)}",
                                new=f"{tag}-{i}", source="conformance")
                for i in range(count)]

    def make_reward_spec(self, dataset: ConformanceDataset, idempotency_key: str) -> RewardSpec:
        customer = dataset.customers[0] if dataset.customers else None
        return RewardSpec(kind=self.reward_kind,
                          idempotency_key=idempotency_key,
                          recipient_customer_id=customer.id if customer else None,
                          recipient_email=customer.email if customer else None,
                          amount=Decimal("10.00"), note="shoploop conformance test")

    # -- helpers ------------------------------------------------------------------------------

    def _make(self, opened: list[Any], factory: Callable[..., Any], *args: Any) -> Any:
        connector = factory(*args)
        if connector is None:
            pytest.fail("the connector factory fixture returned None")
        if isinstance(connector, KeepsRecordDigests):
            # One test's connectors share digests, as imports into one store do (pytest makes
            # a new instance of the class per test).
            connector.use_record_digests(
                self.__dict__.setdefault("_record_digests", MemoryRecordDigests()))
        opened.append(connector)
        return connector

    def _require(self, connector: Any, capability: Capability) -> None:
        protocol = CAPABILITY_PROTOCOLS[capability]
        if isinstance(connector, protocol):
            return
        declared = self._declared_capabilities()
        if declared is not None and capability in declared:
            pytest.fail(f"capability {capability.value!r} is declared but the connector does "
                        f"not implement {protocol.__name__}")
        pytest.skip(f"connector does not offer {capability.value!r} ({protocol.__name__} not "
                    "implemented); declare `capabilities` on the test class to generate only "
                    "applicable tests")

    def _stream(self, connector: Any, stream: str) -> StreamSpec:
        spec = STREAMS[stream]
        self._require(connector, spec.capability)
        return spec

    def _read(self, connector: Any, spec: StreamSpec, cursor: Any = None, *,
              expected: int, stop_after: int | None = None) -> StreamRead:
        page_size = int(getattr(connector, "page_size", 1) or 1)
        return read_pages(connector, spec, cursor, max_pages=expected // page_size + expected + 3,
                          empty_pages_allowed=self.empty_pages_allowed, stop_after=stop_after)

    def _batcher(self, make_connector: MakeConnector, dataset: ConformanceDataset,
                 opened: list[Any], capability: Capability, size: str) -> tuple[Any, int]:
        """A connector offering ``capability``, and its batch size (attribute ``size``)."""
        connector = self._make(opened, make_connector, dataset)
        self._require(connector, capability)
        limit = getattr(connector, size, None)
        if not isinstance(limit, int) or limit < 1:
            pytest.fail(f"{size} must be a positive int, got {limit!r}")
        return connector, limit

    def _writer(self, make_connector: MakeConnector, dataset: ConformanceDataset,
                opened: list[Any]) -> tuple[Any, int]:
        return self._batcher(make_connector, dataset, opened,
                             Capability.WRITE_CUSTOMER_ATTRIBUTES, "attribute_batch_size")

    @staticmethod
    def _one_result_each(method: str, item: str, count: int,
                         results: object) -> list[WriteResult]:
        """``results`` of ``method`` for ``count`` items: a list of exactly that many
        ``WriteResult``s."""
        if not isinstance(results, list) or not all(isinstance(r, WriteResult) for r in results):
            pytest.fail(f"{method} must return list[WriteResult], got {type(results).__name__}")
        if len(results) != count:
            pytest.fail(f"{count} {item}s gave {len(results)} results; expected exactly one "
                        f"WriteResult per {item}, in the {item}s' order")
        return results

    @staticmethod
    def _check_results(changes: list[AttributeChange], results: object) -> list[WriteResult]:
        results = ConformanceBase._one_result_each("write_customer_attributes", "change",
                                                   len(changes), results)
        for index, (change, result) in enumerate(zip(changes, results, strict=True)):
            if result.customer_id != change.customer_id or result.key not in (None, change.key):
                pytest.fail(f"result {index} is for {result.customer_id}/{result.key}, change "
                            f"{index} for {change.customer_id}/{change.key}; results must come "
                            "in the order of the changes")
        return results

    @staticmethod
    def _statuses(results: list[WriteResult], expected: WriteStatus, what: str) -> None:
        wrong = [r for r in results if r.status != expected]
        if wrong:
            shown = "; ".join(f"{r.customer_id}/{r.key}: {r.status.value} {r.message}".strip()
                              for r in wrong[:3])
            pytest.fail(f"{what}: {len(wrong)} of {len(results)} results are not "
                        f"{expected.value!r}, e.g. {shown}")

    def _unreachable(self, make: MakeUnreachable | None, opened: list[Any]) -> Any:
        if make is None:
            pytest.skip("make_unreachable_connector returned None")
        return self._make(opened, make)
