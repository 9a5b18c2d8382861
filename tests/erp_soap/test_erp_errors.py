"""Failures arrive as distinct domain errors naming connection and operation: a SOAP fault, an
HTML 500, a timeout, refused credentials, throttling; the zeep client is built once."""

from __future__ import annotations

import pytest

from shoploop.hooks import AuthError, ConnectorError, RemoteValidationError, UnreachableError
from shoploop.plugins.erp_soap import (
    HtmlErrorPageError,
    SoapAuthError,
    SoapFaultError,
    SoapThrottledError,
    SoapTimeoutError,
)
from shoploop.plugins.erp_soap import _client as client_module
from shoploop.testing import make_dataset


@pytest.fixture
def erp(emulator, make_erp):
    dataset = make_dataset(customers=30, orders=20, products=10, installed_base=5)
    emulator.load(customers=dataset.customers, orders=dataset.orders,
                  products=dataset.products, installed_base=dataset.installed_base)
    connector = make_erp(page_size=10)
    connector.read_customers()  # the WSDL is loaded before faults are queued
    return connector


def test_soap_fault_names_connection_operation_code_and_text(erp, emulator):
    emulator.force("fault")
    with pytest.raises(SoapFaultError) as caught:
        erp.read_customers()
    error = caught.value
    assert isinstance(error, RemoteValidationError)
    assert error.connection == "erp-test" and error.operation == "Customer_Service.ReadMultiple"
    assert error.code == "a:Microsoft.Dynamics.Nav.Types.Exceptions"
    assert "cannot be found in the related table" in error.fault
    assert str(error).startswith("[erp-test] Customer_Service.ReadMultiple: SOAP fault a:")


def test_html_error_page_is_not_mistaken_for_a_fault(erp, emulator):
    emulator.force("html500")
    assert erp.read_products().items  # reads retry a failing service tier (retries=2)
    emulator.force("html500", 3)
    with pytest.raises(HtmlErrorPageError) as caught:
        erp.read_products()
    assert isinstance(caught.value, UnreachableError)
    assert not isinstance(caught.value, SoapFaultError)
    assert "HTTP 500 with an HTML error page" in str(caught.value)
    assert "500 - Internal server error." in str(caught.value)  # the page title
    assert caught.value.operation == "Item_Service.ReadMultiple"


def test_timeout_has_its_own_error(emulator, make_erp):
    erp = make_erp(operation_timeout=0.3, retries=0)
    erp.read_customers()
    emulator.force("slow")  # the emulator answers after 1 s
    with pytest.raises(SoapTimeoutError) as caught:
        erp.read_customers()
    assert "operation_timeout" in str(caught.value)
    assert caught.value.connection == "erp-test"


def test_refused_credentials_are_an_auth_error(emulator, make_erp, monkeypatch):
    erp = make_erp()
    monkeypatch.setenv("SHOPLOOP_TEST_ERP_PASSWORD", "wrong")
    with pytest.raises(SoapAuthError) as caught:
        erp.read_customers()
    assert isinstance(caught.value, AuthError)
    assert "HTTP 401" in str(caught.value) and "wrong" not in str(caught.value)
    # Basic auth has a user and a password, no scopes (those are Shopify's).
    assert "scope" not in str(caught.value)
    assert "`username`" in caught.value.remedy and "`password_env`" in caught.value.remedy
    check = erp.check()
    assert check.reachable and not check.authorised
    assert "scope" not in check.detail


def test_ws_security_username_token(monkeypatch):
    from shoploop.hooks import EmulatorOptions
    from shoploop.plugins.erp_soap import ErpSoapConfig, connector
    from shoploop.plugins.erp_soap.emulator import ErpEmulator

    server = ErpEmulator(EmulatorOptions(customers=12, extra={"auth": "wsse"})).start()
    try:
        monkeypatch.setenv("WSSE_PASSWORD", server.password)

        def make(user: str) -> ConnectorError | int:
            erp = connector("wsse", ErpSoapConfig(
                type="erp_soap", wsdl=server.wsdl_url, preset="nav_page", auth="wsse",
                username=user, password_env="WSSE_PASSWORD", operation_timeout=5))
            try:
                return len(erp.read_customers().items)
            except ConnectorError as exc:
                return exc
            finally:
                erp.close()

        assert make(server.username) == 12
        refused = make("intruder")
        assert isinstance(refused, SoapAuthError), refused
        assert "FailedAuthentication" in str(refused)
    finally:
        server.stop()


def test_throttling_is_retried_then_reported(erp, emulator):
    emulator.force("throttle")
    assert len(erp.read_customers().items) == 10  # one 429, retried
    assert emulator.stats.snapshot()["throttled"] == 1
    emulator.force("throttle", 3)  # retries=2: three answers of 429 exhaust them
    with pytest.raises(SoapThrottledError):
        erp.read_customers()


def test_each_retry_is_announced_with_the_wait_and_the_attempt(erp, emulator, caplog):
    emulator.force("html500", 2)  # retries=2: the third answer is a good one
    with caplog.at_level("WARNING", logger="shoploop.retry"):
        assert erp.read_products().items
    notices = [r.getMessage() for r in caplog.records if r.name == "shoploop.retry"]
    assert len(notices) == 2
    for notice, tail in zip(notices, ["in 0.2 s (attempt 2 of 3)", "in 0.4 s (attempt 3 of 3)"],
                            strict=True):
        assert notice.startswith("erp-test: Item_Service.ReadMultiple failed (HTTP 500 with "
                                 "an HTML error page")
        assert notice.endswith(f"); retrying {tail}")


def test_unreachable_and_missing_wsdl_file(tmp_path):
    from shoploop.plugins.erp_soap import ErpSoapConfig, connector

    erp = connector("gone", ErpSoapConfig(type="erp_soap", wsdl=str(tmp_path / "none.wsdl"),
                                          preset="nav_page"))
    with pytest.raises(UnreachableError, match="cannot read the WSDL file"):
        erp.read_customers()
    check = erp.check()
    assert not check.reachable and "none.wsdl" in check.detail


def test_one_zeep_client_per_connection(erp, emulator):
    """Every stream, writes and rewards reuse the client built for the first call."""
    before = client_module.WSDL_LOADS
    for read in (erp.read_customers, erp.read_orders, erp.read_products,
                 erp.read_installed_base):
        read()
    erp.check()
    erp.find_reward("never-issued-key")
    assert before == client_module.WSDL_LOADS
    assert emulator.stats.snapshot()["wsdl_loads"] == 1


def test_one_wsdl_per_nav_page_is_one_client_per_page(emulator, make_erp):
    """NAV publishes a WSDL per page: ``wsdl = ".../Page/{page}"`` builds one client per page,
    each once, and check() reports a page the ERP does not publish."""
    dataset = make_dataset(customers=25, orders=12, products=4, installed_base=3)
    emulator.load(customers=dataset.customers, orders=dataset.orders,
                  products=dataset.products, installed_base=dataset.installed_base)
    erp = make_erp(wsdl=emulator.page_wsdl_url)
    before = client_module.WSDL_LOADS
    for _ in range(2):
        assert len(erp.read_customers().items) == 10
        assert erp.read_orders().items
    assert client_module.WSDL_LOADS - before == 2
    assert emulator.stats.snapshot()["wsdl_loads"] == 2
    check = make_erp(wsdl=emulator.page_wsdl_url,
                     mapping={"installed_base": {"page": "Equipment"}}).check()
    assert check.reachable and check.authorised
    assert any("Equipment_Service.ReadMultiple" in w and "HTTP 404" in w
               for w in check.warnings), check.warnings
    assert "ServiceItem" not in " ".join(check.warnings)


def test_fast_read_path_equals_zeeps_objects(erp, make_erp, monkeypatch):
    """Reads parse replies with lxml by the WSDL's types; zeep's own objects give the same
    records (the fallback for operations whose records have nested types)."""
    from shoploop.plugins.erp_soap import _connector

    def read_all(connector):
        pages = [connector.read_customers(), connector.read_orders(),
                 connector.read_installed_base(), connector.read_products()]
        return [item.model_dump() for page in pages for item in page.items]

    fast = read_all(erp)
    monkeypatch.setattr(_connector, "record_shape", lambda *args: None)
    slow = read_all(make_erp(page_size=10))
    assert fast == slow and len(fast) == 10 + 10 + 5 + 10


def test_reads_survive_a_faulty_erp():
    """`--faults 0.3 --option fault_kinds=…`: throttling, 503, HTML 500 pages and dropped
    connections; reads retry them and still return every record exactly once."""
    from shoploop.hooks import EmulatorOptions
    from shoploop.plugins.erp_soap import ErpSoapConfig, connector
    from shoploop.plugins.erp_soap.emulator import ErpEmulator

    with pytest.raises(ValueError, match="fault_kinds: unknown teapot"):
        ErpEmulator(EmulatorOptions(customers=0, extra={"fault_kinds": "429,teapot"}))
    server = ErpEmulator(EmulatorOptions(
        customers=0, faults=0.3, seed=3,
        extra={"auth": "none", "fault_kinds": "429,503,html500,drop"}))
    server.load(customers=make_dataset(customers=57).customers)
    server.start()
    erp = connector("flaky", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": server.wsdl_url, "preset": "nav_page", "retries": 8,
        "operation_timeout": 5, "mapping": {"customers": {"page_size": 10}}}))
    try:
        seen, cursor = [], None
        while True:
            page = erp.read_customers(cursor)
            seen += [c.id for c in page.items]
            cursor = page.cursor
            if not page.has_more:
                break
        assert sorted(seen) == sorted(set(seen)) and len(seen) == 57
        stats = server.stats.snapshot()
        assert stats["faulted"] + stats["throttled"] > 0, stats
    finally:
        erp.close()
        server.stop()


def test_a_web_page_where_the_wsdl_belongs_is_the_wrong_endpoint(tmp_path):
    import http.server
    import threading

    from shoploop.hooks import WrongEndpointError
    from shoploop.plugins.erp_soap import ErpSoapConfig, connector

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)  # an HTML error page: a web server, no SOAP service

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        erp = connector("erp-web", ErpSoapConfig(
            type="erp_soap", wsdl=f"http://127.0.0.1:{server.server_address[1]}/WS/{{page}}",
            preset="nav_page", operation_timeout=5, retries=0))
        with pytest.raises(WrongEndpointError) as caught:
            erp.read_customers()
        assert "HTTP 404 with an HTML page instead of a SOAP answer" in caught.value.message
        assert "check `wsdl`" in caught.value.remedy
        erp.close()
    finally:
        server.shutdown()
        server.server_close()
