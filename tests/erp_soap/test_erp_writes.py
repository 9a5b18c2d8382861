"""Attribute writes with NAV's Key (concurrency fault → re-read → one retry → conflict) and
rewards as credit notes / gift orders, idempotent by the external document number."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop.hooks import AttributeChange, BatchLimitError, RewardSpec, WriteStatus
from shoploop.plugins.erp_soap._rewards import external_number
from shoploop.testing import make_dataset


@pytest.fixture
def erp(emulator, make_erp):
    dataset = make_dataset(customers=20, orders=5, products=5, installed_base=3)
    emulator.load(customers=dataset.customers, orders=dataset.orders,
                  products=dataset.products, installed_base=dataset.installed_base)
    return make_erp(page_size=10)


def _row(emulator, number):
    table = emulator.tables["Customer"]
    return table.read({"No": number})[1]


def test_stale_key_is_retried_once_with_a_fresh_read(erp, emulator):
    emulator.force("concurrency")  # another user saves C00001 just before our update
    results = erp.write_customer_attributes(
        [AttributeChange(customer_id="C00001", key="lifecycle_stage", new="retention")])
    assert results[0].status == WriteStatus.WRITTEN, results[0].message
    assert _row(emulator, "C00001")["Shoploop_Lifecycle_Stage"] == "retention"
    assert emulator.stats.snapshot()["faulted"] == 1
    assert emulator.stats.snapshot()["concurrency_faults"] == 1


def test_batch_is_one_update_multiple_call(erp, emulator):
    assert erp.client is not None  # the WSDL is loaded before counting
    before = emulator.stats.snapshot()
    results = erp.write_customer_attributes(
        [AttributeChange(customer_id=f"C0000{n}", key="industry", new="bakery")
         for n in range(5)])
    assert {r.status for r in results} == {WriteStatus.WRITTEN}
    after = emulator.stats.snapshot()
    assert after["requests"] - before["requests"] == 2  # one ReadMultiple, one UpdateMultiple
    assert after["writes"] - before["writes"] == 5


def test_second_concurrency_fault_is_reported_as_conflict(erp, emulator):
    # the batch's UpdateMultiple (all or nothing), then C00002's update and its one retry
    emulator.force("concurrency", 3)
    results = erp.write_customer_attributes(
        [AttributeChange(customer_id="C00002", key="lifecycle_stage", new="advocacy"),
         AttributeChange(customer_id="C00003", key="lifecycle_stage", new="advocacy")])
    assert results[0].status == WriteStatus.CONFLICT
    assert "Other user has modified" in results[0].message
    assert "Shoploop_Lifecycle_Stage" not in _row(emulator, "C00002")
    assert results[1].status == WriteStatus.WRITTEN  # one record's conflict is its own


def test_a_field_changed_by_another_user_is_never_overwritten(erp, emulator, monkeypatch):
    table = emulator.tables["Customer"]
    original = emulator._before_update

    def other_user_edits_the_same_field(page_table, key):
        pk, _ = page_table.decode_key(key)
        page_table.touch(pk, {"Shoploop_Satisfaction": "2"})
    monkeypatch.setattr(emulator.dispatcher, "before_update", other_user_edits_the_same_field)
    results = erp.write_customer_attributes(
        [AttributeChange(customer_id="C00004", key="satisfaction", new="5")])
    monkeypatch.setattr(emulator.dispatcher, "before_update", original)
    assert results[0].status == WriteStatus.CONFLICT
    assert "another user changed Shoploop_Satisfaction" in results[0].message
    assert table.read({"No": "C00004"})[1]["Shoploop_Satisfaction"] == "2"


def test_unmapped_attribute_and_unknown_customer_fail_per_item(erp):
    results = erp.write_customer_attributes([
        AttributeChange(customer_id="C00001", key="not_a_field", new="x"),
        AttributeChange(customer_id="NOPE", key="industry", new="food"),
        AttributeChange(customer_id="C00001", key="referral_count", new=3),
    ])
    assert [r.status for r in results] == [WriteStatus.FAILED, WriteStatus.FAILED,
                                           WriteStatus.WRITTEN]
    assert "not_a_field" in results[0].message and "NOPE" in results[1].message
    again = erp.write_customer_attributes(
        [AttributeChange(customer_id="C00001", key="referral_count", new=3)])
    assert again[0].status == WriteStatus.UNCHANGED


def test_a_record_the_erp_refuses_fails_alone(erp, emulator, monkeypatch):
    from shoploop.plugins.erp_soap.emulator._pages import PageError

    def refuse_c00006(table, key):  # the ERP's validation refuses C00006 (in any call)
        if table.decode_key(key)[0] == ("C00006",):
            raise PageError("The field Industry Code of table Customer contains a value (food) "
                            "that cannot be found in the related table.")
    monkeypatch.setattr(emulator.dispatcher, "before_update", refuse_c00006)
    results = erp.write_customer_attributes(
        [AttributeChange(customer_id="C00006", key="industry", new="food"),
         AttributeChange(customer_id="C00007", key="industry", new="food")])
    assert [r.status for r in results] == [WriteStatus.FAILED, WriteStatus.WRITTEN]
    assert "cannot be found in the related table" in results[0].message
    assert "Industry_Code" not in _row(emulator, "C00006")


def test_batch_over_limit_writes_nothing(erp, emulator):
    changes = [AttributeChange(customer_id=f"C{n:05d}", key="industry", new="food")
               for n in range(erp.attribute_batch_size + 1)]
    with pytest.raises(BatchLimitError):
        erp.write_customer_attributes(changes)
    assert emulator.stats.snapshot()["writes"] == 0


@pytest.mark.parametrize("kind, page", [("credit_note", "SalesCreditMemo"),
                                        ("gift_order", "SalesOrder")])
def test_rewards_are_documents_found_by_external_number(erp, emulator, kind, page):
    spec = RewardSpec(kind=kind, idempotency_key="referral-reward-0001-" + "x" * 40,
                      recipient_customer_id="C00005", amount=Decimal("25.00"),
                      product_id="P00001", note="Thank you for recommending us")
    first = erp.issue_reward(spec)
    assert erp.issue_reward(spec).reference == first.reference
    assert erp.find_reward(spec.idempotency_key).reference == first.reference
    documents = list(emulator.tables[page].rows())
    assert len(documents) == 1
    row = documents[0][1]
    assert row["External_Document_No"] == external_number(spec.idempotency_key, 35)
    assert len(row["External_Document_No"]) == 35  # NAV's Code[35]
    assert row["Sell_to_Customer_No"] == "C00005"
    if kind == "gift_order":
        assert (row["Item_No"], row["Unit_Price"]) == ("P00001", "0")  # free of charge
    else:
        assert row["Amount"] == "25.00"
    assert first.kind == kind and first.reference == row["No"]


def test_other_reward_kinds_use_the_configured_document(erp, emulator):
    reward = erp.issue_reward(RewardSpec(kind="discount_code", idempotency_key="code-000001",
                                         recipient_customer_id="C00001", amount=Decimal(5)))
    assert reward.kind == "credit_note" and reward.reference.startswith("CM")
    assert erp.find_reward("code-000002") is None


def test_record_saved_behind_the_bookmark_during_a_pass_is_not_lost(erp, emulator):
    """A saved during a pass (behind the bookmark), then B (ahead of it): B's newer stamp is
    read in this pass; the next pass still returns A, and only A."""
    first = erp.read_customers()
    assert first.has_more and first.items[0].id == "C00000"
    for customer in ("C00000", "C00015"):  # A (already read), then B (not yet read)
        written = erp.write_customer_attributes(
            [AttributeChange(customer_id=customer, key="rfm_segment", new="champions")])
        assert written[0].status == WriteStatus.WRITTEN
    cursor = first.cursor
    while True:
        page = erp.read_customers(cursor)
        cursor = page.cursor
        if not page.has_more:
            break
    delta = erp.read_customers(cursor)
    assert [c.id for c in delta.items] == ["C00000"]
    assert delta.items[0].attributes["rfm_segment"] == "champions"
    assert erp.read_customers(delta.cursor).items == []


def test_orders_without_modified_field_are_found_by_hash(emulator, make_erp):
    dataset = make_dataset(customers=5, orders=23, products=5, installed_base=0)
    emulator.load(customers=dataset.customers, orders=dataset.orders, products=dataset.products)
    erp = make_erp(page_size=5, mapping={"orders": {"modified_field": None}})

    def read_all(cursor=None):
        found = []
        while True:
            page = erp.read_orders(cursor)
            found += [order.id for order in page.items]
            cursor = page.cursor
            if not page.has_more:
                return found, cursor

    everything, checkpoint = read_all()
    assert sorted(everything) == sorted(dataset.ids("orders"))
    assert read_all(checkpoint)[0] == []
    lines = emulator.tables["SalesLines"]
    target = dataset.orders[7]
    key = next(k for k, row in lines.rows() if row["Document_No"] == target.id)
    lines.touch(lines.decode_key(key)[0], {"Quantity": "99"})
    changed, checkpoint = read_all(checkpoint)
    assert changed == [target.id]
    assert read_all(checkpoint)[0] == []


@pytest.fixture(scope="module")
def racing():
    """One emulator and connector for the interleaving property (module scope: hypothesis)."""
    from shoploop.hooks import EmulatorOptions
    from shoploop.plugins.erp_soap import ErpSoapConfig, connector
    from shoploop.plugins.erp_soap.emulator import ErpEmulator

    server = ErpEmulator(EmulatorOptions(customers=0, extra={"auth": "none"})).start()
    server.load(customers=make_dataset(customers=5).customers)
    erp = connector("race", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": server.wsdl_url, "preset": "nav_page",
        "operation_timeout": 5}))
    yield server, erp
    erp.close()
    server.stop()


edits = st.lists(st.sampled_from(["nothing", "other_field", "same_field"]), min_size=2,
                 max_size=2)


@settings(max_examples=25, deadline=None)
@given(edits=edits, value=st.text(st.characters(min_codepoint=48, max_codepoint=122),
                                  min_size=1, max_size=6))
def test_interleaved_edits_are_never_overwritten(racing, edits, value):
    """Another user saves (or not) before each of our two update attempts. Invariant: a value
    another user wrote into the field we write survives; we write only on a clean attempt."""
    server, erp = racing
    table = server.tables["Customer"]
    pk = ("C00002",)
    table.touch(pk, {"Shoploop_Satisfaction": "start", "Shoploop_RFM_Segment": "start"})
    plan = list(edits)

    def other_user(page_table, key):
        edit = plan.pop(0) if plan else "nothing"
        if edit == "other_field":
            page_table.touch(pk, {"Shoploop_RFM_Segment": f"theirs-{len(plan)}"})
        elif edit == "same_field":
            page_table.touch(pk, {"Shoploop_Satisfaction": "theirs"})

    server.dispatcher.before_update = other_user
    try:
        result = erp.write_customer_attributes(
            [AttributeChange(customer_id="C00002", key="satisfaction", new=f"v{value}")])[0]
    finally:
        server.dispatcher.before_update = server._before_update
    final = table.read({"No": "C00002"})[1]["Shoploop_Satisfaction"]
    first, second = edits
    if first == "nothing":
        expected = (WriteStatus.WRITTEN, f"v{value}")
    elif first == "same_field":
        expected = (WriteStatus.CONFLICT, "theirs")
    elif second == "nothing":
        expected = (WriteStatus.WRITTEN, f"v{value}")
    else:
        expected = (WriteStatus.CONFLICT, "theirs" if second == "same_field" else "start")
    assert (result.status, final) == expected, (edits, result.message)


def test_a_field_changed_between_import_and_write_is_a_conflict(erp, emulator):
    """The batch's fresh read carries the new ``Key``, so only a comparison with what the import
    read can see an edit saved after the import: not overwritten, the other field written."""
    cursor, imported = None, {}
    while True:
        page = erp.read_customers(cursor)
        imported.update((c.id, c) for c in page.items)
        if not page.has_more:
            break
        cursor = page.cursor
    assert "C00004" in imported
    emulator.tables["Customer"].touch(("C00004",), {"Shoploop_Satisfaction": "theirs"})
    results = erp.write_customer_attributes(
        [AttributeChange(customer_id="C00004", key="satisfaction", new="ours"),
         AttributeChange(customer_id="C00004", key="rfm_segment", new="champions"),
         AttributeChange(customer_id="C00005", key="satisfaction", new="ours")])
    assert [r.status for r in results] == [WriteStatus.CONFLICT, WriteStatus.WRITTEN,
                                           WriteStatus.WRITTEN]
    assert "after the import" in results[0].message
    assert _row(emulator, "C00004")["Shoploop_Satisfaction"] == "theirs"
    assert _row(emulator, "C00004")["Shoploop_RFM_Segment"] == "champions"
    assert _row(emulator, "C00005")["Shoploop_Satisfaction"] == "ours"
