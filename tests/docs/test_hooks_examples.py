"""docs/hooks.md stays true: one section per hook, and every example is a working plugin.

Each ```python block of the page is a complete plugin module whose first line names it
(``# shoploop_bundles.py``). The tests execute a block into a module, register it on a fresh
plugin host (``shoploop.new_host()``: no installed plugins), call the hook with realistic
arguments built from the models, and assert what the text says the example does.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import sys
import tomllib
import types
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import shoploop
from shoploop import PluginHost
from shoploop.combine import decide_referral, deliver_message, detect_referrals, reward_key
from shoploop.hooks import (
    HOOK_NAMES,
    AttributeChange,
    BatchLimitError,
    Capability,
    Customer,
    CustomerProfile,
    EmulatorOptions,
    Event,
    HookContext,
    LineItem,
    Message,
    MessageReceipt,
    Order,
    PluginError,
    Product,
    Recommendation,
    RecommendationPatch,
    RecommendationRequest,
    Referral,
    ReferralFinding,
    RewardSpec,
    ShoploopError,
    SyncRun,
    UnreachableError,
    WritesCustomerAttributes,
    WriteStatus,
    specs,
)
from shoploop.reco import ProductTable
from shoploop.testing import ConformanceDataset, ConnectorConformance

DOC = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
HEADING = re.compile(r"^(#{2,4}) +(.+?)\s*$")
HOOK_HEADING = re.compile(r"^`([a-z_]+)`$")
FENCE = re.compile(r"^```(\w*)\s*$")
MODULE_LINE = re.compile(r"^# (shoploop_[a-z0-9_]+)\.py$")
SIGNATURE = re.compile(r"^\*\*Signature:\*\* `([a-z_]+)\(([^)]*)\)")


@dataclass
class Block:
    lang: str
    code: str
    line: int
    section: str  # the heading the block is under

    @property
    def module_name(self) -> str | None:
        first = self.code.splitlines()[0] if self.code else ""
        match = MODULE_LINE.match(first)
        return match.group(1) if match else None


@dataclass
class Section:
    heading: str
    hook: str | None
    lines: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def parse(text: str) -> list[Section]:
    sections = [Section(heading="(top)", hook=None)]
    fence: tuple[str, int, list[str]] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is not None:
            if line.strip() == "```":
                lang, start, body = fence
                sections[-1].blocks.append(Block(lang, "\n".join(body) + "\n", start,
                                                 sections[-1].heading))
                fence = None
            else:
                fence[2].append(line)
            continue
        opening = FENCE.match(line)
        if opening:
            fence = (opening.group(1), number + 1, [])
            continue
        heading = HEADING.match(line)
        if heading:
            title = heading.group(2)
            hook = HOOK_HEADING.match(title)
            sections.append(Section(heading=title, hook=hook.group(1) if hook else None))
            continue
        sections[-1].lines.append(line)
    assert fence is None, f"docs/hooks.md: unclosed code fence opened at line {fence[1]}"
    return sections


SECTIONS = parse(DOC.read_text(encoding="utf-8"))
PYTHON_BLOCKS = [b for s in SECTIONS for b in s.blocks if b.lang == "python"]
BY_MODULE = {b.module_name: b for b in PYTHON_BLOCKS if b.module_name}
HOOK_SECTIONS = {s.hook: s for s in SECTIONS if s.hook}


def section_of(hook: str) -> Section:
    return HOOK_SECTIONS[hook]


def load_module(block: Block, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Execute a block as the module it names (registered in sys.modules for this test only,
    so pydantic and dataclasses can resolve the module's annotations)."""
    name = block.module_name or f"shoploop_doc_example_{block.line}"
    module = types.ModuleType(name)
    module.__file__ = f"{DOC}:{block.line}"
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(block.code, f"docs/hooks.md:{block.line}", "exec"), module.__dict__)
    return module


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], types.ModuleType]:
    """``example("shoploop_bundles")`` → the module of that docs/hooks.md block."""

    def load(name: str) -> types.ModuleType:
        assert name in BY_MODULE, f"docs/hooks.md has no example '# {name}.py'"
        return load_module(BY_MODULE[name], monkeypatch)

    return load


@pytest.fixture
def host_with(example: Callable[[str], types.ModuleType]) -> Callable[..., PluginHost]:
    """``host_with("a", "b")`` → a strict fresh host with those examples registered in order."""

    def make(*names: str) -> PluginHost:
        host = shoploop.new_host(strict=True)
        for name in names:
            host.register(example(name), name=name)
        assert host.failures == []
        return host

    return make


NOW = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)


def context(**fields: Any) -> HookContext:
    return HookContext(now=fields.pop("now", NOW), **fields)


# -- the page's structure ------------------------------------------------------------------


def test_every_hook_has_exactly_one_section() -> None:
    hooks = [s.hook for s in SECTIONS if s.hook]
    wrong = sorted(h for h in hooks if h not in HOOK_NAMES or hooks.count(h) > 1)
    assert sorted(hooks) == sorted(HOOK_NAMES), (
        "docs/hooks.md needs one '### `hook_name`' section per hook in HOOK_NAMES; "
        f"missing: {sorted(set(HOOK_NAMES) - set(hooks))}, unknown or repeated: {wrong}"
    )


def test_overview_table_links_every_hook() -> None:
    text = DOC.read_text(encoding="utf-8")
    for hook in HOOK_NAMES:
        assert f"| [`{hook}`](#{hook}) |" in text, f"the overview table lacks {hook}"


def _top_level_split(args: str) -> list[str]:
    """Split on commas outside brackets: ``Mapping[str, Product]`` is one argument."""
    parts, depth, current = [], 0, ""
    for char in args:
        depth += char == "["
        depth -= char == "]"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_section_states_signature_rule_and_example(hook: str) -> None:
    section = section_of(hook)
    body = "\n".join(section.lines)
    signatures = [m for m in map(SIGNATURE.match, section.lines) if m]
    assert len(signatures) == 1, f"{hook}: expected one '**Signature:** `{hook}(…)`' line"
    name, args = signatures[0].groups()
    documented = [arg.split(":")[0].strip() for arg in _top_level_split(args) if arg.strip()]
    actual = list(inspect.signature(getattr(specs, hook)).parameters)
    assert (name, documented) == (hook, actual), f"{hook}: the documented signature is stale"
    assert "**Fires**" in body, f"{hook}: say when the hook fires"
    assert "**Several plugins:**" in body, f"{hook}: say how several plugins' results combine"
    examples = [b for b in section.blocks if b.lang == "python"]
    assert examples, f"{hook}: the section needs at least one python example"


def test_every_python_block_names_its_module_once() -> None:
    names = [b.module_name for b in PYTHON_BLOCKS]
    assert None not in names, [b.line for b in PYTHON_BLOCKS if b.module_name is None]
    assert len(set(names)) == len(names), f"module names repeat: {names}"


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[b.module_name or "?" for b in PYTHON_BLOCKS])
def test_every_example_registers_cleanly(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each example is a plugin a strict host accepts, implementing its section's hook."""
    module = load_module(block, monkeypatch)
    host = shoploop.new_host(strict=True)
    name = host.register(module, name=block.module_name)
    assert host.failures == []
    implemented = host.hooks_of(name)
    assert implemented, f"{block.module_name} implements no hook"
    hook = next((s.hook for s in SECTIONS if s.heading == block.section), None)
    if hook is not None:
        assert implemented == [hook], (
            f"the example under `{hook}` should implement exactly that hook, not {implemented}")


# -- intro -------------------------------------------------------------------------------------


def order(number: int, placed_at: datetime, status: str = "paid", total: str = "49.90") -> Order:
    return Order(
        id=f"O-{number}", number=str(number), customer_id="C-1", placed_at=placed_at,
        status=status,  # type: ignore[arg-type]
        lines=[LineItem(product_id="DESC-500", sku="DESC-500", name="Descaler 500 ml",
                        quantity=1, unit_price=Decimal(total))],
    )


def test_vip_example_declares_only_profile(host_with: Callable[..., PluginHost]) -> None:
    host = host_with("shoploop_vip")
    customer = Customer(id="C-1", email="einkauf@baeckerei-huber.de", kind="b2b")
    loyal = CustomerProfile(customer=customer,
                            orders=[order(n, NOW - timedelta(days=30 * n)) for n in range(10)])
    assert host.call("customer_attributes", context=context(), profile=loyal) == [{"vip": True}]
    new = CustomerProfile(customer=customer, orders=[order(1, NOW)])
    assert host.call("customer_attributes", context=context(), profile=new) == [{"vip": False}]


# -- registration --------------------------------------------------------------------------


def test_register_connectors_changelog(host_with: Callable[..., PluginHost],
                                       tmp_path: Path) -> None:
    host = host_with("shoploop_changelog")
    registered = host.connectors.get("changelog")
    assert registered.capabilities == frozenset({Capability.WRITE_CUSTOMER_ATTRIBUTES})
    assert registered.plugin == "shoploop_changelog"

    # The TOML snippet of the section is a valid connection of this type.
    toml_blocks = [b for b in section_of("register_connectors").blocks if b.lang == "toml"]
    assert toml_blocks, "the register_connectors section shows the connection's config"
    table = tomllib.loads(toml_blocks[0].code)["connections"]["changes"]
    assert registered.config_model.model_validate(table).type == "changelog"

    path = tmp_path / "attribute-changes.jsonl"
    config = registered.config_model.model_validate({"type": "changelog", "path": str(path)})
    connector = registered.factory("changes", config)
    assert isinstance(connector, WritesCustomerAttributes)
    assert connector.check().reachable

    changes = [AttributeChange(customer_id="C-1", key="lifecycle_stage", new="retention"),
               AttributeChange(customer_id="C-2", key="vip", new=True)]
    statuses = [r.status for r in connector.write_customer_attributes(changes)]
    assert statuses == [WriteStatus.WRITTEN, WriteStatus.WRITTEN]
    statuses = [r.status for r in connector.write_customer_attributes(changes)]
    assert statuses == [WriteStatus.UNCHANGED, WriteStatus.UNCHANGED]
    back = AttributeChange(customer_id="C-1", key="lifecycle_stage", new="advocacy")
    assert connector.write_customer_attributes([back])[0].status == WriteStatus.WRITTEN
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [
        {"customer_id": "C-1", "key": "lifecycle_stage", "new": "retention"},
        {"customer_id": "C-2", "key": "vip", "new": True},
        {"customer_id": "C-1", "key": "lifecycle_stage", "new": "advocacy"},
    ]

    small = registered.factory("changes", registered.config_model.model_validate(
        {"type": "changelog", "path": str(path), "attribute_batch_size": 1}))
    with pytest.raises(BatchLimitError):
        small.write_customer_attributes(changes)
    assert len(path.read_text().splitlines()) == 3  # nothing written

    gone = registered.factory("changes", registered.config_model.model_validate(
        {"type": "changelog", "path": str(tmp_path / "missing" / "x.jsonl")}))
    assert not gone.check().reachable
    with pytest.raises(UnreachableError) as raised:
        gone.write_customer_attributes(changes[:1])
    assert raised.value.connection == "changes"


def test_register_commands_segments(host_with: Callable[..., PluginHost]) -> None:
    from shoploop.cli._app import build_app

    app = build_app(host_with("shoploop_segments"))  # the real CLI, built-ins included
    runner = CliRunner()
    result = runner.invoke(app, ["segments", "explain", "champions"])
    assert result.exit_code == 0, result.output
    bash = next(b for b in section_of("register_commands").blocks if b.lang == "bash")
    assert result.output.strip() == bash.code.strip().splitlines()[-1]
    result = runner.invoke(app, ["segments", "explain", "sleepers"])
    assert result.exit_code == 2
    assert "unknown segment 'sleepers'" in result.output


def test_register_transforms_phone(host_with: Callable[..., PluginHost]) -> None:
    host = host_with("shoploop_phone")
    registered = host.transforms.transforms["phone_e164"]
    assert registered.plugin == "shoploop_phone"
    phone = registered.transform
    assert phone("0171 234 5678") == "+491712345678"
    assert phone("(0)1 234-567", country_code="43") == "+431234567"
    assert phone("+41 44 668 18 00") == "+41446681800"
    assert phone("0043 1 234567") == "+431234567"
    assert phone(None) is None
    assert phone("") is None


def test_register_emulators_acme(host_with: Callable[..., PluginHost]) -> None:
    host = host_with("shoploop_acme_emulator")
    registered = host.emulators.emulators["acme"]
    assert registered.plugin == "shoploop_acme_emulator"
    emulator = registered.factory(EmulatorOptions(customers=120))
    with emulator:
        with urllib.request.urlopen(emulator.url + "/customers?page=3") as reply:
            assert reply.headers["X-Total"] == "120"
            assert [c["id"] for c in json.loads(reply.read())] == [str(i) for i in range(100, 120)]
        assert emulator.stats.get("requests") == 1
    assert emulator.connection_block("acme_demo").startswith("[connections.acme_demo]")
    assert emulator.environment() == {"ACME_KEY": "emulator-key"}


# -- recommendations -----------------------------------------------------------------------


SHOP_PRODUCTS = ProductTable("shop", [
    Product(id=pid, name=pid, price=Decimal(price), stock=0 if pid == "MILK-JUG-600" else 5,
            status="draft" if pid == "OLD-1" else "active")
    for pid, price in (("ESP-PRO-2", "899.00"), ("ESP-PRO-3", "1149.00"), ("DESC-500", "12.90"),
                       ("MILK-JUG-600", "24.90"), ("GRINDER-S", "199.00"), ("OLD-1", "5.00"))])


def test_recommendation_candidates_from_two_strategies(
    host_with: Callable[..., PluginHost], caplog: pytest.LogCaptureFixture,
) -> None:
    host = host_with("shoploop_bundles", "shoploop_upgrades")
    caplog.set_level(logging.DEBUG, logger="shoploop.plugin")
    request = RecommendationRequest(connection="shop", product_id="ESP-PRO-2",
                                    placement="product_page")
    arguments = {"context": context(), "products": SHOP_PRODUCTS, "profile": None,
                 "model": None}
    results = host.call_with_names("recommendation_candidates", request=request, **arguments)
    # One list per strategy, last registered first; the core merges and ranks them.
    assert [plugin for plugin, _ in results] == ["shoploop_upgrades", "shoploop_bundles"]
    candidates = [c for _, found in results for c in found]
    assert all(isinstance(c, Recommendation) and c.reason for c in candidates)
    assert {(c.product_id, c.strategy, c.kind) for c in candidates} == {
        ("DESC-500", "bundles", "complementary"),
        ("MILK-JUG-600", "bundles", "complementary"),
        ("ESP-PRO-3", "upgrades", "upsell"),
    }
    descaler = next(c for c in candidates if c.product_id == "DESC-500")
    assert descaler.reason == "Bought together in 34% of the orders with this product"
    assert descaler.reason_in("de") == "In 34% der Bestellungen mit diesem Produkt mitgekauft"
    assert descaler.evidence == {"share": 0.34, "anchor": "ESP-PRO-2"}
    premium = next(c for c in candidates if c.product_id == "ESP-PRO-3")
    assert premium.reason.startswith("For 250.00 € more: dual boiler")
    assert premium.reason_in("de") == premium.reason  # no German text: the default
    assert "upsell ESP-PRO-2 → ESP-PRO-3" in caplog.text

    cart = request.model_copy(update={"placement": "cart"})
    in_cart = host.call_with_names("recommendation_candidates", request=cart, **arguments)
    assert [plugin for plugin, _ in in_cart] == ["shoploop_bundles"]

    # The premium model missing from this connection: no upsell, nothing made up.
    elsewhere = ProductTable("other_shop", [p for p in SHOP_PRODUCTS.many(["ESP-PRO-2"]).values()])
    assert host.call_with_names("recommendation_candidates", request=request,
                                **{**arguments, "products": elsewhere})[0][0] == \
        "shoploop_bundles"

    # A customer-only request is not for either strategy.
    assert host.call("recommendation_candidates",
                     request=RecommendationRequest(connection="shop", customer_id="C-1"),
                     **arguments) == []


def test_recommendation_candidates_merge_in_the_core(
    host_with: Callable[..., PluginHost],
) -> None:
    from shoploop.combine import recommend

    host = host_with("shoploop_bundles", "shoploop_upgrades", "shoploop_merchandising")
    request = RecommendationRequest(connection="shop", product_id="ESP-PRO-2", k=5)
    ranked = recommend(host, context(), request, products=SHOP_PRODUCTS)
    # MILK-JUG-600 is out of stock (vetoed by the rule); the upsell's 0.5 beats 0.34.
    assert [r.product_id for r in ranked.recommendations] == ["ESP-PRO-3", "DESC-500"]
    assert ranked.vetoed == {"MILK-JUG-600": ["shoploop_merchandising: not available to buy "
                                              "right now"]}
    strategies = ranked.recommendations[1].evidence["strategies"]
    assert strategies["bundles"]["evidence"] == {"share": 0.34, "anchor": "ESP-PRO-2"}


def test_recommendation_patches(host_with: Callable[..., PluginHost]) -> None:
    host = host_with("shoploop_merchandising")
    candidates = [
        Recommendation(product_id="DESC-500", score=0.34, kind="complementary",
                       strategy="bundles", reason="Bought together by 34% of buyers"),
        Recommendation(product_id="MILK-JUG-600", score=0.21, kind="complementary",
                       strategy="bundles", reason="Bought together by 21% of buyers"),
        Recommendation(product_id="GRINDER-S", score=0.9, strategy="bestsellers",
                       reason="Popular this month"),
        Recommendation(product_id="ESP-PRO-3", score=0.5, kind="upsell", strategy="upgrades",
                       reason="Dual boiler"),
        Recommendation(product_id="OLD-1", score=0.5, strategy="bestsellers", reason="Old"),
        Recommendation(product_id="GONE-9", score=0.5, strategy="bundles", reason="Gone"),
    ]
    before = [c.model_copy() for c in candidates]
    cart = RecommendationRequest(connection="shop", product_id="ESP-PRO-2", placement="cart")
    arguments = {"context": context(), "candidates": candidates, "products": SHOP_PRODUCTS,
                 "profile": None, "model": None}
    [patches] = host.call("recommendation_patches", request=cart, **arguments)
    assert all(isinstance(p, RecommendationPatch) and p.reason for p in patches)
    assert [(p.product_id, p.action, p.factor) for p in patches] == [
        ("DESC-500", "pin", 1.0),
        ("MILK-JUG-600", "veto", 1.0),
        ("GRINDER-S", "boost", 0.5),
        ("OLD-1", "veto", 1.0),
        ("GONE-9", "veto", 1.0),
    ]
    assert candidates == before  # patches, not mutations

    page = cart.model_copy(update={"placement": "product_page"})
    [patches] = host.call("recommendation_patches", request=page, **arguments)
    assert [(p.product_id, p.action) for p in patches] == [
        ("MILK-JUG-600", "veto"), ("GRINDER-S", "boost"), ("OLD-1", "veto"), ("GONE-9", "veto")]


# -- referrals -----------------------------------------------------------------------------


def referral(total: str | None, **fields: Any) -> Referral:
    values: dict[str, Any] = {
        "id": "R-0042", "advocate_customer_id": "C-1", "advocate_email": "anna@example.org",
        "code": "ANNA-7K2Q", "referred_order_id": "O-9001", "referred_customer_id": "C-77",
        "referred_email": "ben@example.net", "connection": "shop_de",
        "order_total": Decimal(total) if total is not None else None,
    }
    values.update(fields)
    return Referral(**values)


@pytest.mark.parametrize("order", [
    ("shoploop_reward_default", "shoploop_reward_large_orders"),
    ("shoploop_reward_large_orders", "shoploop_reward_default"),
], ids=["default-registered-first", "large-orders-registered-first"])
def test_referral_reward_first_result_wins(host_with: Callable[..., PluginHost],
                                           order: tuple[str, str]) -> None:
    host = host_with(*order)

    def reward(total: str | None) -> list[tuple[str, RewardSpec]]:
        return host.call_with_names("referral_reward", context=context(),
                                    referral=referral(total))

    [(plugin, small)] = reward("120.00")  # first result: exactly one answer
    assert plugin == "shoploop_reward_default"
    assert (small.kind, small.amount) == ("discount_code", Decimal("10.00"))
    assert small.recipient_customer_id == "C-1"
    assert small.idempotency_key == ""  # the policy leaves the key to the core

    [(plugin, large)] = reward("800.00")
    assert plugin == "shoploop_reward_large_orders"
    assert (large.kind, large.amount) == ("gift_card", Decimal("40.00"))
    # Through the core, both policies' rewards of one referral share the core's key.
    verdict = decide_referral(host, context(), referral("800.00"))
    assert verdict.reward is not None and verdict.reward.amount == Decimal("40.00")
    assert verdict.reward.idempotency_key == reward_key("R-0042") == "referral-R-0042"

    [(_, capped)] = reward("2000.00")
    assert capped.amount == Decimal("50.00")
    [(plugin, _)] = reward(None)
    assert plugin == "shoploop_reward_default"
    assert host.call_first("referral_reward", context=context(),
                           referral=referral("800.00")) == large


def test_referral_detection_partner_attribute(host_with: Callable[..., PluginHost]) -> None:
    host = host_with("shoploop_partner_attribute")
    placed = datetime(2025, 3, 1, tzinfo=UTC)
    tagged = Order(id="O-1", placed_at=placed, attributes={"partner": " ANNA-7K2Q "})
    [found] = detect_referrals(host, context(), tagged, "shop_de")
    assert (found.code, found.via) == ("ANNA-7K2Q", "landing")
    assert "shop_de" in found.evidence
    assert detect_referrals(host, context(), Order(id="O-2", placed_at=placed), "shop_de") == []


def test_message_delivery_mail_api(host_with: Callable[..., PluginHost],
                                   example: Callable[[str], types.ModuleType]) -> None:
    """The example posts to a real HTTP server on loopback and returns its id as receipt."""
    import http.server
    import threading

    received: list[dict[str, Any]] = []

    class Api(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps({"id": f"msg-{len(received)}"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host = host_with("shoploop_mail_api")
        module = host.pm.get_plugin("shoploop_mail_api")
        module.API = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
        message = Message(kind="survey", to="ben@example.net", subject="How did we do?",
                          text="Tell us: 1 to 5", idempotency_key="survey-S-1-2025")
        assert deliver_message(host, context(), message) == (
            "shoploop_mail_api", MessageReceipt(channel="mail_api", reference="msg-1"))
        assert received == [{"to": "ben@example.net", "subject": "How did we do?",
                             "text": "Tell us: 1 to 5", "html": None,
                             "dedupe": "survey-S-1-2025"}]
        internal = message.model_copy(update={"to": "ops@example.com"})
        assert deliver_message(host, context(), internal) is None  # left to the next channel
        assert len(received) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_check_referral_findings(host_with: Callable[..., PluginHost]) -> None:
    host = host_with("shoploop_referral_checks")

    def findings(**fields: Any) -> list[ReferralFinding]:
        results = host.call("check_referral", context=context(),
                            referral=referral("120.00", **fields))
        return [finding for found in results for finding in found]

    assert findings() == []  # a clean referral
    [self_by_id] = findings(referred_customer_id="C-1")
    assert (self_by_id.rule, self_by_id.rejects) == ("self_referral", True)
    [self_by_email] = findings(referred_email="Anna@Example.org", referred_customer_id=None)
    assert (self_by_email.rule, self_by_email.rejects) == ("self_referral", True)
    [colleague] = findings(advocate_email="anna@huber-bau.de",
                           referred_email="ben@huber-bau.de")
    assert (colleague.rule, colleague.rejects) == ("same_company", False)
    assert "huber-bau.de" in colleague.reason
    assert findings(advocate_email="anna@gmail.com", referred_email="ben@gmail.com") == []
    assert findings(advocate_email=None, referred_email=None, referred_customer_id=None) == []


# -- customer attributes -------------------------------------------------------------------


def test_customer_attributes_lifecycle(host_with: Callable[..., PluginHost]) -> None:
    host = host_with("shoploop_lifecycle")
    customer = Customer(id="C-1", email="anna@example.org", kind="b2c")

    def attributes(orders: list[Order], **stored: Any) -> dict[str, Any]:
        profile = CustomerProfile(customer=customer, orders=orders, attributes=stored)
        [result] = host.call("customer_attributes", context=context(), profile=profile)
        return dict(result)

    assert attributes([]) == {"lifecycle_stage": "interest", "orders_last_12_months": 0}
    old = order(1, NOW - timedelta(days=400))
    assert attributes([old]) == {"lifecycle_stage": "action", "orders_last_12_months": 0}
    recent = order(2, NOW - timedelta(days=20))
    assert attributes([old, recent]) == {"lifecycle_stage": "retention",
                                         "orders_last_12_months": 1}
    cancelled = order(3, NOW - timedelta(days=5), status="cancelled")
    assert attributes([old, cancelled]) == {"lifecycle_stage": "action",
                                            "orders_last_12_months": 0}
    assert attributes([old, recent], referral_count=2)["lifecycle_stage"] == "advocacy"


def test_customer_attributes_from_two_plugins(host_with: Callable[..., PluginHost]) -> None:
    host = host_with("shoploop_vip", "shoploop_lifecycle")
    profile = CustomerProfile(customer=Customer(id="C-1"), orders=[order(1, NOW)])
    results = host.call_with_names("customer_attributes", context=context(), profile=profile)
    assert results == [
        ("shoploop_lifecycle", {"lifecycle_stage": "action", "orders_last_12_months": 1}),
        ("shoploop_vip", {"vip": False}),
    ]


# -- events and sync lifecycle -------------------------------------------------------------


def test_on_event_audit_log(host_with: Callable[..., PluginHost], tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    host = host_with("shoploop_event_log")
    event = Event(type="order.paid", connection="shop_de", topic="orders/paid",
                  dedupe_key="shop_de:orders/paid:5002", occurred_at=NOW - timedelta(seconds=3),
                  payload={"id": 5002})
    monkeypatch.delenv("SHOPLOOP_EVENT_LOG", raising=False)
    assert host.call("on_event", context=context(), event=event) == []
    log = tmp_path / "events.jsonl"
    monkeypatch.setenv("SHOPLOOP_EVENT_LOG", str(log))
    assert host.call("on_event", context=context(), event=event) == []  # returns are ignored
    assert [json.loads(line) for line in log.read_text().splitlines()] == [{
        "type": "order.paid", "connection": "shop_de", "dedupe_key": "shop_de:orders/paid:5002",
        "occurred_at": "2025-03-14T10:29:57+00:00", "logged_at": "2025-03-14T10:30:00+00:00",
    }]


def sync_run(**fields: Any) -> SyncRun:
    values: dict[str, Any] = {"run_id": "run-20250314-0130", "job": "customers",
                              "source": "erp", "targets": ["shop_de", "shop_at"]}
    values.update(fields)
    return SyncRun(**values)


def test_before_sync_aborts_in_the_maintenance_window(
    host_with: Callable[..., PluginHost],
) -> None:
    host = host_with("shoploop_maintenance_window")
    at_night = context(now=datetime(2025, 3, 14, 1, 30, tzinfo=UTC))
    # Raising aborts the run: pluggy's own call propagates the exception to the sync engine.
    with pytest.raises(ShoploopError, match="maintenance window") as raised:
        host.pm.hook.before_sync(context=at_night, run=sync_run())
    assert "03:00 UTC" in raised.value.remedy
    with pytest.raises(ShoploopError):  # the ERP as a target counts too
        host.pm.hook.before_sync(context=at_night, run=sync_run(source="shop_de",
                                                                 targets=["erp"]))
    # Dry runs, other hours and syncs that do not touch the ERP go ahead.
    assert host.pm.hook.before_sync(context=at_night, run=sync_run(dry_run=True)) == []
    assert host.pm.hook.before_sync(context=context(), run=sync_run()) == []
    assert host.pm.hook.before_sync(context=at_night, run=sync_run(
        source="shop_de", targets=["shop_at"])) == []
    # Through the isolated call in strict mode, the abort names the plugin and the hook.
    with pytest.raises(PluginError, match=r"shoploop_maintenance_window.*before_sync"):
        host.call("before_sync", context=at_night, run=sync_run())


def test_after_sync_textfile_metrics(host_with: Callable[..., PluginHost], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    host = host_with("shoploop_textfile_metrics")
    monkeypatch.setenv("SHOPLOOP_TEXTFILE_DIR", str(tmp_path))
    summary = {"read": 1200, "written": 37, "unchanged": 1160, "failed": 3,
               "complete": True, "cursor": "2025-03-14T10:00:00Z"}
    assert host.call("after_sync", context=context(), run=sync_run(summary=summary)) == []
    labels = 'job="customers",source="erp"'
    assert (tmp_path / "shoploop_customers.prom").read_text().splitlines() == [
        f"shoploop_sync_last_success_seconds{{{labels}}} {int(NOW.timestamp())}",
        f'shoploop_sync_records{{{labels},count="failed"}} 3',
        f'shoploop_sync_records{{{labels},count="read"}} 1200',
        f'shoploop_sync_records{{{labels},count="unchanged"}} 1160',
        f'shoploop_sync_records{{{labels},count="written"}} 37',
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shoploop_customers.prom"]
    host.call("after_sync", context=context(), run=sync_run(job="orders", dry_run=True))
    assert not (tmp_path / "shoploop_orders.prom").exists()  # dry runs are not reported


def test_on_sync_error_alert(host_with: Callable[..., PluginHost],
                             caplog: pytest.LogCaptureFixture) -> None:
    host = host_with("shoploop_sync_alerts")
    logger = logging.getLogger("shoploop.plugin.alerts")
    caplog.set_level(logging.ERROR, logger="shoploop.plugin.alerts")
    error = UnreachableError("connection refused", connection="erp", operation="read_customers")
    assert host.call("on_sync_error", context=context(logger=logger), run=sync_run(),
                     error=error) == []
    host.call("on_sync_error", context=context(logger=logger), run=sync_run(job="orders"),
              error=KeyError("customer_number"))
    first, second = caplog.records
    assert first.getMessage() == (
        f"sync run-20250314-0130 (customers) failed: [erp] UnreachableError — {error.remedy}")
    assert (first.run_id, first.alert) == ("run-20250314-0130", "shoploop_sync_failed")  # type: ignore[attr-defined]
    assert second.getMessage() == (
        "sync run-20250314-0130 (orders) failed: KeyError — see the traceback in the log")


# -- the connector example passes the conformance kit ----------------------------------------


class TestChangelogExampleConformance(ConnectorConformance):
    """The `register_connectors` example is a real connector: the kit's write tests pass."""

    capabilities = (Capability.WRITE_CUSTOMER_ATTRIBUTES,)

    @pytest.fixture
    def changelog(self, monkeypatch: pytest.MonkeyPatch) -> Any:
        host = shoploop.new_host(strict=True)
        host.register(load_module(BY_MODULE["shoploop_changelog"], monkeypatch),
                      name="shoploop_changelog")
        return host.connectors.get("changelog")

    @pytest.fixture
    def make_connector(self, changelog: Any, tmp_path: Path) -> Callable[..., Any]:
        def make(dataset: ConformanceDataset) -> Any:
            config = changelog.config_model.model_validate(
                {"type": "changelog", "path": str(tmp_path / "changes.jsonl")})
            return changelog.factory("changes", config)

        return make

    @pytest.fixture
    def make_unreachable_connector(self, changelog: Any, tmp_path: Path) -> Callable[[], Any]:
        def make() -> Any:
            config = changelog.config_model.model_validate(
                {"type": "changelog", "path": str(tmp_path / "missing" / "changes.jsonl")})
            return changelog.factory("changes", config)

        return make
