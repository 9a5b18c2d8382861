"""Against the emulator's NAV-shaped WSDL (ReadMultiple's filter required, Field an enumeration):
full and incremental reads succeed, a request zeep refuses is a client-side error naming the
operation and the element, and the page operations the WSDL declares behave as NAV documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import zeep
import zeep.transports

from shoploop.hooks import AttributeChange, RemoteValidationError, WriteStatus
from shoploop.plugins.erp_soap import SoapFaultError, SoapRequestRejectedError
from shoploop.testing import make_dataset


def _read_all(read, cursor=None):
    items = []
    while True:
        page = read(cursor)
        items += page.items
        cursor = page.cursor
        if not page.has_more:
            return items, cursor


def _proxy(emulator, page="Customer"):
    session = requests.Session()
    session.auth = (emulator.username, emulator.password)
    client = zeep.Client(emulator.page_wsdl_url.format(page=page), transport=zeep.transports.
                         Transport(session=session, timeout=5, operation_timeout=5))
    return client.bind(f"{page}_Service", f"{page}_Port")


def test_the_wsdl_requires_a_filter(emulator):
    proxy = _proxy(emulator)
    element = dict(proxy._binding._operations["ReadMultiple"].input.body.type.elements)["filter"]
    assert (element.min_occurs, element.max_occurs) == (1, "unbounded")
    with pytest.raises(zeep.exceptions.ValidationError):
        proxy.ReadMultiple(setSize=5)


def test_full_and_incremental_reads_succeed(emulator, make_erp):
    dataset = make_dataset(customers=23, orders=12, products=7, installed_base=5)
    emulator.load(customers=dataset.customers, orders=dataset.orders,
                  products=dataset.products, installed_base=dataset.installed_base)
    erp = make_erp(page_size=5)
    customers, checkpoint = _read_all(erp.read_customers)
    assert sorted(c.id for c in customers) == sorted(c.id for c in dataset.customers)
    for read, expected in ((erp.read_products, dataset.products),
                           (erp.read_installed_base, dataset.installed_base),
                           (erp.read_orders, dataset.orders)):
        items, _ = _read_all(read)
        assert sorted(i.id for i in items) == sorted(e.id for e in expected)
    changed = sorted(c.id for c in dataset.customers)[7]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    emulator.touch("Customer", changed, {"Name": "Renamed GmbH",
                                         "Last_Modified_Date_Time": later})
    again, _ = _read_all(erp.read_customers, checkpoint)
    assert [(c.id, c.company) for c in again] == [(changed, "Renamed GmbH")]


def _rejected(make_erp, emulator, mapping):
    erp = make_erp(mapping={"customers": mapping})
    erp.client  # noqa: B018  (the WSDL is loaded: what follows would be the read itself)
    before = emulator.stats.snapshot()["requests"]
    assert before >= 1  # the WSDL load
    with pytest.raises(SoapRequestRejectedError) as caught:
        erp.read_customers()
    assert emulator.stats.snapshot()["requests"] == before  # nothing was sent
    return caught.value


def test_a_missing_required_filter_is_a_client_side_error(emulator, make_erp):
    """The original failure: ReadMultiple without filter. Named as zeep's refusal, never as an
    ERP fault, with a remedy about the mapping and the WSDL."""
    error = _rejected(make_erp, emulator, {"read": {"filter_param": None}})
    assert not isinstance(error, SoapFaultError | RemoteValidationError)
    assert error.operation == "Customer_Service.ReadMultiple"
    assert error.element == "ReadMultiple.filter"
    text = str(error)
    assert "Customer_Service.ReadMultiple" in text
    assert "zeep refused the request before sending it" in text
    assert "'ReadMultiple.filter' missing" in text and "the WSDL requires it" in text
    assert "this is not an ERP fault" in text
    assert "ERP's own message" not in text and "WSDL" in error.remedy


def test_a_wrongly_named_filter_element_is_a_client_side_error(emulator, make_erp):
    error = _rejected(make_erp, emulator, {"read": {"filter_field": "FieldName"}})
    assert error.element == "FieldName"
    assert "element 'FieldName' is not declared in" in str(error)
    assert "Customer_Filter" in str(error) and "Field:" in str(error)


def test_a_field_outside_the_enumeration_reaches_the_erp_and_is_its_fault(emulator, make_erp):
    """zeep does not check enumerations: a wrong Field is sent, and the ERP's fault says so."""
    erp = make_erp(mapping={"customers": {"read": {"match_all_field": "Not_A_Field"}}})
    with pytest.raises(SoapFaultError, match="Not_A_Field"):
        erp.read_customers()


def test_set_size_zero_reads_all_and_a_negative_size_reads_backwards(emulator):
    emulator.load(customers=make_dataset(customers=12).customers)
    proxy = _proxy(emulator)
    every = [{"Field": "No", "Criteria": ""}]
    numbers = [c.No for c in proxy.ReadMultiple(filter=every, setSize=0)]
    assert numbers == sorted(numbers) and len(numbers) == 12
    last_three = proxy.ReadMultiple(filter=every, setSize=-3)
    assert [c.No for c in last_three] == numbers[::-1][:3]
    before = proxy.ReadMultiple(filter=every, bookmarkKey=last_three[-1].Key, setSize=-2)
    assert [c.No for c in before] == numbers[::-1][3:5]


def test_is_updated_delete_and_create_multiple(emulator):
    emulator.load(customers=make_dataset(customers=3).customers)
    proxy = _proxy(emulator)
    first = proxy.ReadMultiple(filter=[{"Field": "No", "Criteria": ""}], setSize=1)[0]
    assert proxy.IsUpdated(Key=first.Key) is False
    emulator.touch("Customer", first.No)
    assert proxy.IsUpdated(Key=first.Key) is True
    with pytest.raises(zeep.exceptions.Fault, match="Other user has modified"):
        proxy.Delete(Key=first.Key)
    fresh = proxy.Read(No=first.No)
    assert proxy.Delete(Key=fresh.Key) is True
    assert proxy.Read(No=first.No) is None
    created = proxy.CreateMultiple(Customer_List={"Customer": [
        {"No": "N-1", "Name": "One"}, {"No": "N-2", "Name": "Two"}]})
    assert [c.No for c in created] == ["N-1", "N-2"]
    with pytest.raises(zeep.exceptions.Fault, match="already exists"):
        proxy.CreateMultiple(Customer_List={"Customer": [{"No": "N-3"}, {"No": "N-1"}]})
    assert proxy.Read(No="N-3") is None  # one transaction: the first one was rolled back


def test_a_refused_update_fails_its_records_and_writes_nothing(emulator, make_erp):
    """A write zeep refuses (here: a misnamed record element) fails each record with the
    reason instead of aborting the batch, and nothing reaches the ERP."""
    emulator.load(customers=make_dataset(customers=3).customers)
    numbers = sorted(row["No"] for _, row in emulator.tables["Customer"].rows())
    erp = make_erp(mapping={"customers": {"update_element": "Customr",
                                          "update_multiple_operation": None}})
    results = erp.write_customer_attributes(
        [AttributeChange(customer_id=number, key="industry", new="bakery")
         for number in numbers[:2]])
    assert [r.status for r in results] == [WriteStatus.FAILED, WriteStatus.FAILED]
    assert all("zeep refused the request before sending it" in r.message
               and "'Customr'" in r.message for r in results)
    assert emulator.stats.snapshot()["writes"] == 0
