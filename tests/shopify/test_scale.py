"""5,000 customers, a small bucket and 5 % faults: the exact end state, few throttled answers,
and ceil(changes / 25) metafieldsSet calls."""

from __future__ import annotations

import math

from shoploop.demo_data import DemoMerchant
from shoploop.hooks import AttributeChange, WriteStatus
from shoploop.plugins.shopify.emulator import numeric_id

CUSTOMERS = 5000


def test_5000_customers_with_small_bucket_and_faults(start_emulator, connect):
    # 400-point bucket (a fifth of Plus), 5 % of requests fail (500/503/429/drop).
    emulator = start_emulator(faults=0.05, seed=7, bucket=400, restore_rate=4000)
    emulator.faults.retry_after = 0.05
    emulator.data.load(customers=DemoMerchant(seed=3, customers=CUSTOMERS).iter_customers())
    connector = connect(emulator, max_retries=10)
    ids = [str(numeric_id("Customer", f"C{n:06d}")) for n in range(1, CUSTOMERS + 1)]
    changes = [AttributeChange(customer_id=i, key=key, new=f"{key}-{i}")
               for i in ids for key in ("rfm_segment", "lifecycle")]
    size = connector.attribute_batch_size
    results = []
    for start in range(0, len(changes), size):
        results.extend(connector.write_customer_attributes(changes[start:start + size]))
    assert {r.status for r in results} == {WriteStatus.WRITTEN}
    stats = emulator.stats.snapshot()
    assert stats["calls.metafieldsSet"] == math.ceil(len(changes) / 25)
    # The bucket's own THROTTLED answers are the adapter's doing: under 1 % of requests.
    assert stats.get("graphql_throttled", 0) < 0.01 * stats["requests"], stats
    # All rate-limit answers together — the bucket's plus the fault plan's injected 429s (a
    # quarter of the 5 % faults, so about 1.25 % of draws) — stay under 1 % for this seed.
    assert stats["throttled"] < 0.01 * stats["requests"], stats
    assert stats["faulted"] > 0, stats  # faults really happened and were survived
    for customer_id in ids:
        metafields = emulator.data.customers[f"gid://shopify/Customer/{customer_id}"][
            "_metafields"]
        for key in ("rfm_segment", "lifecycle"):
            assert metafields[("shoploop", key)]["value"] == f"{key}-{customer_id}"
    # Writing the same again changes nothing and sends no metafieldsSet.
    again = connector.write_customer_attributes(changes[:size])
    assert {r.status for r in again} == {WriteStatus.UNCHANGED}
    assert emulator.stats.get("calls.metafieldsSet") == stats["calls.metafieldsSet"]
