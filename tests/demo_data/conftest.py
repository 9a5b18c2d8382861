"""One generated merchant shared by the demo-data tests (generated once per session)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from shoploop.demo_data import DemoMerchant, DemoSummary, generate

SEED = 11
CUSTOMERS = 2000
DONE = ("paid", "fulfilled", "partially_refunded")


@dataclass
class Demo:
    summary: DemoSummary
    out: Path
    manifest: dict[str, Any]
    customers: list[dict[str, Any]]
    products: dict[str, dict[str, Any]]
    orders: list[dict[str, Any]]
    equipment: list[dict[str, Any]]

    @property
    def truth(self) -> dict[str, Any]:
        return self.manifest["ground_truth"]

    @property
    def as_of(self) -> date:
        return date.fromisoformat(self.manifest["parameters"]["as_of"])

    @property
    def window_start(self) -> date:
        return date.fromisoformat(self.manifest["parameters"]["window_start"])


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo-data")
    summary = generate(out, seed=SEED, customers=CUSTOMERS)
    return Demo(
        summary=summary,
        out=out,
        manifest=json.loads((out / "manifest.json").read_text(encoding="utf-8")),
        customers=read_jsonl(out / "customers.jsonl"),
        products={p["id"]: p for p in read_jsonl(out / "products.jsonl")},
        orders=read_jsonl(out / "orders.jsonl"),
        equipment=read_jsonl(out / "installed_base.jsonl"),
    )


@pytest.fixture(scope="session")
def merchant() -> DemoMerchant:
    """The same merchant as ``demo``, in memory."""
    return DemoMerchant(seed=SEED, customers=CUSTOMERS)
