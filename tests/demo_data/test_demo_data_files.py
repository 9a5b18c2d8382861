"""The files ``generate()`` writes: shape, formats, ids, references, manifest, determinism."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from shoploop.demo_data import DEFAULT_AS_OF, FILES, DemoMerchant, dumps, generate
from shoploop.hooks import Customer, InstalledEquipment, Order, Product

MODELS = {"customers": Customer, "products": Product, "orders": Order,
          "installed_base": InstalledEquipment}
MONEY = re.compile(r"^\d+\.\d\d$")


def test_default_as_of_is_a_fixed_date_not_today():
    assert date(2026, 11, 1) == DEFAULT_AS_OF
    assert DemoMerchant().as_of == DEFAULT_AS_OF


def test_files_and_manifest(demo):
    names = sorted(p.name for p in demo.out.iterdir())
    assert names == sorted([*FILES.values(), "manifest.json"])
    m = demo.manifest
    assert m["seed"] == 11 and m["parameters"]["customers"] == 2000
    assert m["parameters"]["products"] == 100  # default: one product per 20 customers
    for info in m["files"].values():
        data = (demo.out / info["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"]
        assert data.count(b"\n") == info["lines"]
    counts = m["counts"]
    assert counts == demo.summary.counts
    assert counts["customers"] == len(demo.customers) == m["files"]["customers"]["lines"]
    assert counts["products"] == len(demo.products)
    assert counts["orders"] == len(demo.orders)
    assert counts["order_lines"] == sum(len(o["lines"]) for o in demo.orders)
    assert counts["installed_base"] == len(demo.equipment)
    assert counts["guest_orders"] == sum(o["customer_id"] is None for o in demo.orders)
    assert set(m["ground_truth"]) == {"complementary_pairs", "premium_variants",
                                      "repurchase_cycle_days", "spare_parts",
                                      "service_interval_days"}


@pytest.mark.parametrize("stream", list(MODELS))
def test_every_line_validates_as_its_hook_model(demo, stream):
    model = MODELS[stream]
    with (demo.out / FILES[stream]).open(encoding="utf-8") as fh:
        validated = [model.model_validate_json(line) for line in fh]
    assert len(validated) == demo.manifest["counts"][stream]
    if stream == "orders":  # pydantic parsed the money strings exactly
        assert all(isinstance(line.unit_price, Decimal) for o in validated for line in o.lines)


def test_streaming_api_yields_exactly_the_file_lines(demo, merchant):
    streams = {"customers": merchant.iter_customers(), "products": merchant.iter_products(),
               "orders": merchant.iter_orders(), "installed_base": merchant.iter_installed_base()}
    for stream, records in streams.items():
        lines = (demo.out / FILES[stream]).read_text(encoding="utf-8").splitlines()
        assert [dumps(r) for r in records] == lines, stream
    assert list(merchant.iter_orders_json()) == [dumps(o) for o in merchant.iter_orders()]
    assert merchant.ground_truth() == demo.manifest["ground_truth"]


def test_money_and_time_formats(demo):
    for p in demo.products.values():
        assert MONEY.match(p["price"])
        assert p["compare_at_price"] is None or MONEY.match(p["compare_at_price"])
    stamps = [c["created_at"] for c in demo.customers] + [c["updated_at"] for c in demo.customers]
    for o in demo.orders:
        assert MONEY.match(o["refunded_total"])
        assert all(MONEY.match(line["unit_price"]) for line in o["lines"])
        stamps += [o["placed_at"], o["updated_at"]]
    for stamp in stamps:
        assert stamp.endswith("+00:00")
        assert datetime.fromisoformat(stamp).utcoffset() == UTC.utcoffset(None)
    for e in demo.equipment:
        date.fromisoformat(e["installed_at"])
        assert e["updated_at"].endswith("+00:00")


def test_ids_are_unique_and_well_formed(demo):
    patterns = [("C", 6, [c["id"] for c in demo.customers]),
                ("P", 4, list(demo.products)),
                ("O", 7, [o["id"] for o in demo.orders]),
                ("E", 6, [e["id"] for e in demo.equipment])]
    for prefix, digits, ids in patterns:
        assert ids, prefix
        assert len(set(ids)) == len(ids), prefix
        assert all(re.fullmatch(rf"{prefix}\d{{{digits}}}", i) for i in ids), prefix
    skus = [p["sku"] for p in demo.products.values()]
    assert len(set(skus)) == len(skus)
    emails = [c["email"] for c in demo.customers]
    assert len(set(emails)) == len(emails)
    numbers = [o["number"] for o in demo.orders]
    assert len(set(numbers)) == len(numbers)
    serials = [e["serial_number"] for e in demo.equipment]
    assert len(set(serials)) == len(serials)


def test_references_resolve(demo):
    customers = {c["id"]: c for c in demo.customers}
    for o in demo.orders:
        if o["customer_id"] is None:
            assert o["email"]
        else:
            assert o["email"] == customers[o["customer_id"]]["email"]
        for line in o["lines"]:
            product = demo.products[line["product_id"]]
            assert (line["sku"], line["name"]) == (product["sku"], product["name"])
    for e in demo.equipment:
        assert e["customer_id"] in customers
        assert demo.products[e["product_id"]]["category"] == "machines"
    truth = demo.truth
    cat = {pid: p["category"] for pid, p in demo.products.items()}
    for pair in truth["complementary_pairs"]:
        assert cat[pair["product_id"]] in ("machines", "accessories")
        assert cat[pair["complement_id"]] in ("accessories", "services")
    for base, premium in truth["premium_variants"].items():
        assert cat[base] == cat[premium]
    assert all(cat[c] == "consumables" for c in truth["repurchase_cycle_days"])
    for part, machines in truth["spare_parts"].items():
        assert cat[part] == "spare_parts" and machines
        assert all(cat[m] == "machines" for m in machines)
        assert demo.products[part]["attributes"]["fits"] == machines
    assert set(truth["service_interval_days"]) == {p for p, c in cat.items() if c == "machines"}


def test_same_parameters_give_identical_bytes(tmp_path: Path):
    kwargs = {"seed": 5, "customers": 300, "years": 1, "as_of": date(2025, 3, 1)}
    first = generate(tmp_path / "a", **kwargs)
    second = generate(tmp_path / "b", **kwargs)
    for name in [*FILES.values(), "manifest.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first.counts == second.counts and first.counts["orders"] > 0
    other = generate(tmp_path / "c", **{**kwargs, "seed": 6})
    for name in FILES.values():
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert other.parameters["seed"] == 6


def test_history_window_follows_as_of_and_years(tmp_path: Path):
    as_of = date(2021, 3, 1)
    generate(tmp_path, seed=3, customers=200, years=3, as_of=as_of)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["parameters"]["window_start"] == "2018-03-01"
    lines = (tmp_path / "orders.jsonl").read_text().splitlines()
    placed = [datetime.fromisoformat(json.loads(line)["placed_at"]) for line in lines]
    assert min(placed).date() >= date(2018, 3, 1) and max(placed).date() < as_of
    assert max(placed).date() > date(2020, 12, 1)  # the history reaches up to as_of


def test_invalid_parameters_are_rejected(tmp_path: Path):
    with pytest.raises(ValueError, match="products"):
        DemoMerchant(products=19)
    with pytest.raises(ValueError, match="customers"):
        generate(tmp_path, customers=-1)
    with pytest.raises(ValueError, match="years"):
        DemoMerchant(years=0)
