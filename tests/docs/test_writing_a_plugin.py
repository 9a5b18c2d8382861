"""docs/writing-a-plugin.md stays true: its code compiles, its complete modules work, its links
into the hooks reference resolve, and its entry-point snippet matches the template's."""

from __future__ import annotations

import re
import sys
import tomllib
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from urllib.error import HTTPError, URLError

import pytest

import shoploop
from shoploop._template import render_plugin
from shoploop.hooks import (
    AuthError,
    Capability,
    Customer,
    CustomerProfile,
    HookContext,
    Order,
    RateLimitedError,
    RemoteValidationError,
    UnreachableError,
    WrongEndpointError,
)
from shoploop.testing import HookCallRecorder

from .test_hooks_examples import Block, parse

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-a-plugin.md"
SECTIONS = parse(GUIDE.read_text(encoding="utf-8"))
BLOCKS = [b for s in SECTIONS for b in s.blocks]
PYTHON = [b for b in BLOCKS if b.lang == "python"]
MODULES = {b.module_name: b for b in PYTHON if b.module_name}
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


Loader = Callable[..., types.ModuleType]


def first_line(block: Block) -> str:
    return block.code.splitlines()[0]


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Loader:
    """Execute a guide block as a module (in sys.modules for this test only)."""

    def run(name: str, block: Block | None = None) -> types.ModuleType:
        block = block or MODULES[name]
        module = types.ModuleType(name)
        monkeypatch.setitem(sys.modules, name, module)
        exec(compile(block.code, f"docs/writing-a-plugin.md:{block.line}", "exec"),
             module.__dict__)
        return module

    return run


@pytest.mark.parametrize("block", PYTHON, ids=[first_line(b) for b in PYTHON])
def test_python_blocks_compile(block: Block) -> None:
    compile(block.code, f"docs/writing-a-plugin.md:{block.line}", "exec")


def test_links_into_the_hooks_reference_resolve() -> None:
    hooks = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9_ -]", "", title.lower()).strip().replace(" ", "-")
        for title in re.findall(r"^#{1,4} +(.+?)\s*$", hooks, flags=re.M)
    }
    links = re.findall(r"\]\(hooks\.md#([^)]+)\)", GUIDE.read_text(encoding="utf-8"))
    assert links
    assert sorted(set(links) - anchors) == []


def test_entry_point_snippet_matches_the_template(tmp_path: Path) -> None:
    snippet = next(b for b in BLOCKS if b.lang == "toml" and "entry-points" in b.code)
    documented = tomllib.loads(snippet.code)
    generated = tomllib.loads(
        (render_plugin("acme_erp", tmp_path).root / "pyproject.toml").read_text())
    assert documented["project"]["name"] == generated["project"]["name"]
    assert documented["project"]["entry-points"] == generated["project"]["entry-points"]


def test_config_model_and_secrets(load: Loader, monkeypatch: pytest.MonkeyPatch) -> None:
    config_model = load("shoploop_acme_config").AcmeConfig
    snippet = next(b for b in BLOCKS if b.lang == "toml" and "[connections.acme]" in b.code)
    config = config_model.model_validate(tomllib.loads(snippet.code)["connections"]["acme"])
    monkeypatch.setenv("ACME_TOKEN", "t0ken")
    assert config.secret("api_token") == "t0ken"
    with pytest.raises(ValueError, match="api_token_env"):
        config_model.model_validate({"type": "acme", "url": "https://erp.example.com",
                                     "api_token": "t0ken"})
    with pytest.raises(ValueError, match="attribute_batch_size"):
        config_model.model_validate({"type": "acme", "url": "https://erp.example.com",
                                     "api_token_env": "ACME_TOKEN", "attribute_batch_size": 26})


def http_error(code: int, reason: str, content_type: str = "application/json") -> HTTPError:
    headers = Message()
    headers["Content-Type"] = content_type
    return HTTPError("https://erp.example.com/api/v2/customers", code, reason, headers, None)


@pytest.mark.parametrize(("raised", "expected"), [
    (http_error(401, "Unauthorized"), AuthError),
    (http_error(429, "Too Many Requests"), RateLimitedError),
    (http_error(422, "Unprocessable Entity"), RemoteValidationError),
    (http_error(404, "Not Found"), RemoteValidationError),  # the API's own 404: a record
    (http_error(404, "Not Found", "text/html"), WrongEndpointError),
    (URLError("[Errno 111] Connection refused"), UnreachableError),
    (TimeoutError("timed out"), UnreachableError),
])
def test_error_translation(load: Loader, raised: Exception, expected: type) -> None:
    translated = load("shoploop_acme_errors").translated
    with pytest.raises(expected) as caught, translated("acme", "read_customers"):
        raise raised
    assert (caught.value.connection, caught.value.operation) == ("acme", "read_customers")
    assert caught.value.__cause__ is raised


def test_registering_the_type(load: Loader) -> None:
    load("shoploop_acme_config")
    module = load("shoploop_acme_register")
    host = shoploop.new_host(strict=True)
    host.register(module, name="acme")
    registered = host.connectors.get("acme")
    assert registered.capabilities == frozenset({Capability.READ_CUSTOMERS,
                                                 Capability.WRITE_CUSTOMER_ATTRIBUTES})
    config = registered.config_model.model_validate(
        {"type": "acme", "url": "https://erp.example.com", "api_token_env": "ACME_TOKEN"})
    connector = registered.factory("acme_de", config)
    assert (connector.name, connector.page_size, connector.attribute_batch_size) == (
        "acme_de", 100, 25)


def order(days_ago: int, status: str = "paid") -> Order:
    return Order.model_validate({"id": f"O-{days_ago}-{status}", "customer_id": "C-1",
                                 "placed_at": NOW - timedelta(days=days_ago), "status": status})


@pytest.mark.parametrize(("orders", "segment"), [
    ([], None),
    ([order(10)], "new"),
    ([order(10), order(200)], "promising"),
    ([order(400)], "sleeping"),
    ([order(d) for d in (5, 100, 200, 300, 400)], "champions"),
    ([order(d) for d in (100, 200, 300, 400, 500)], "at_risk"),
    ([order(10, status="cancelled")], None),
])
def test_rfm_attribute(load: Loader, orders: list[Order], segment: str | None) -> None:
    host = shoploop.new_host(strict=True)
    host.register(load("shoploop_rfm"), name="rfm")
    profile = CustomerProfile(customer=Customer(id="C-1"), orders=orders)
    assert host.call("customer_attributes", context=HookContext(now=NOW),
                     profile=profile) == [{"rfm_segment": segment}]


def test_the_hook_test_example_passes(load: Loader) -> None:
    load("shoploop_rfm")
    block = next(b for b in PYTHON if first_line(b) == "# tests/test_rfm.py")
    test_module = load("test_rfm_from_the_guide", block)
    host = shoploop.new_host()
    recorder = HookCallRecorder()
    recorder.attach(host)
    try:
        test_module.test_one_recent_order_is_new(host, host.register, recorder)
    finally:
        recorder.detach()
    assert recorder.names() == ["customer_attributes"]
