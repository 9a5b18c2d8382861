"""The generated merchant looks like a real one, and contains what its ground truth says.

Statistical checks on one merchant of 2,000 customers (seed 11, generated once per session).
Each threshold sits well inside what the generator produces and well outside what data
without the property would show (noted per test).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

DONE = ("paid", "fulfilled", "partially_refunded")
DACH = ("DE", "AT", "CH")


def placed(order) -> datetime:
    return datetime.fromisoformat(order["placed_at"])


def test_b2b_and_b2c_customers_carry_erp_attributes(demo):
    kinds = Counter(c["kind"] for c in demo.customers)
    assert 0.25 <= kinds["b2b"] / len(demo.customers) <= 0.35
    for c in demo.customers:
        attrs = c["attributes"]
        if c["kind"] == "b2b":
            assert c["company"] and c["vat_id"] and c["customer_number"]
            assert attrs["industry"] and attrs["price_list"] and attrs["sales_rep"]
            assert attrs["customer_group"] in ("trade", "standard", "key_account", "wholesale")
            assert "b2b" in c["tags"]
        else:
            assert c["company"] is None and c["vat_id"] is None
            assert attrs["customer_group"] == "retail"
    b2b = [c for c in demo.customers if c["kind"] == "b2b"]
    assert len({c["attributes"]["industry"] for c in b2b}) >= 6
    assert len({c["attributes"]["customer_group"] for c in b2b}) == 4
    countries = Counter(c["addresses"][0]["country"] for c in demo.customers)
    dach = sum(countries[code] for code in DACH) / len(demo.customers)
    assert 0.8 <= dach < 0.97  # mostly DACH, some neighbours
    assert len(countries) >= 6
    consent = sum(c["accepts_marketing"] for c in demo.customers) / len(demo.customers)
    assert 0.35 <= consent <= 0.7


def test_catalogue_has_categories_bands_premiums_stock_and_statuses(demo):
    products = list(demo.products.values())
    categories = Counter(p["category"] for p in products)
    assert set(categories) == {"machines", "accessories", "consumables", "spare_parts",
                               "services"}
    assert {p["attributes"]["price_band"] for p in products} == {"entry", "mid", "upper",
                                                                 "premium"}
    assert all(p["tags"] for p in products)
    premiums = demo.truth["premium_variants"]
    assert len(premiums) >= 5
    for base_id, premium_id in premiums.items():
        base, premium = demo.products[base_id], demo.products[premium_id]
        assert Decimal(premium["price"]) >= Decimal(base["price"]) * Decimal("1.25")
        assert premium["attributes"]["premium_of"] == base_id
        assert premium["attributes"]["adds"]
        assert "premium" in premium["tags"]
        assert premium["attributes"]["family"] == base["attributes"]["family"]
    stock = [p["stock"] for p in products]
    assert 0 in stock and any(s and s > 0 for s in stock)
    assert all(p["stock"] is None for p in products if p["category"] == "services")
    statuses = Counter(p["status"] for p in products)
    assert statuses["draft"] >= 1 and statuses["archived"] >= 1
    assert statuses["active"] >= 0.9 * len(products)


def test_draft_products_never_sold_archived_ones_not_after_archiving(demo):
    sold_until: dict[str, datetime] = {}
    for o in demo.orders:
        for line in o["lines"]:
            pid = line["product_id"]
            sold_until[pid] = max(sold_until.get(pid, placed(o)), placed(o))
    for pid, p in demo.products.items():
        if p["status"] == "draft":
            assert pid not in sold_until
        elif p["status"] == "archived" and pid in sold_until:
            assert sold_until[pid] <= datetime.fromisoformat(p["updated_at"])


def test_complementary_pairs_are_bought_together(demo):
    """Lift P(Y | X in order) / P(Y in order) is far above 3 for the ground-truth pairs
    (independent products give a lift around 1)."""
    baskets = [{line["product_id"] for line in o["lines"]} for o in demo.orders]
    share = Counter(pid for b in baskets for pid in b)
    checked = 0
    for pair in demo.truth["complementary_pairs"]:
        x, y = pair["product_id"], pair["complement_id"]
        with_x = [b for b in baskets if x in b]
        if len(with_x) < 20:
            continue
        lift = (sum(y in b for b in with_x) / len(with_x)) / (share[y] / len(baskets))
        assert lift > 3, (x, y, lift)
        checked += 1
    assert checked >= 3


def test_premium_variants_are_chosen_sometimes(demo):
    lines = Counter(line["product_id"] for o in demo.orders for line in o["lines"])
    base = sum(lines[b] for b in demo.truth["premium_variants"])
    premium = sum(lines[p] for p in demo.truth["premium_variants"].values())
    assert 0.05 <= premium / (base + premium) <= 0.4


def test_consumables_are_repurchased_on_their_cycle(demo):
    """Median days between a customer's purchases of a consumable ≈ its cycle (± 30 %)."""
    bought: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for o in demo.orders:
        if o["customer_id"] and o["status"] in DONE:
            for line in o["lines"]:
                if line["product_id"] in demo.truth["repurchase_cycle_days"]:
                    bought[o["customer_id"], line["product_id"]].append(placed(o))
    gaps: dict[str, list[float]] = defaultdict(list)
    for (_, pid), times in bought.items():
        times.sort()
        gaps[pid] += [(b - a).total_seconds() / 86400 for a, b in pairwise(times)]
    checked = 0
    for pid, cycle in demo.truth["repurchase_cycle_days"].items():
        if len(gaps[pid]) >= 15:
            assert abs(statistics.median(gaps[pid]) - cycle) <= 0.3 * cycle, (pid, cycle)
            checked += 1
    assert checked >= 5
    assert len({c for c in demo.truth["repurchase_cycle_days"].values()}) >= 3


def test_installed_base_follows_machine_purchases(demo):
    rows = defaultdict(list)
    for e in demo.equipment:
        rows[e["customer_id"], e["product_id"]].append(date.fromisoformat(e["installed_at"]))
        assert e["service_interval_days"] == demo.truth["service_interval_days"][e["product_id"]]
    matched: set[tuple[str, str, date]] = set()
    machine_orders = 0
    for o in demo.orders:
        day = placed(o).date()
        if not o["customer_id"] or o["status"] not in DONE or day > demo.as_of - timedelta(15):
            continue
        for line in o["lines"]:
            if demo.products[line["product_id"]]["category"] != "machines":
                continue
            machine_orders += 1
            key = (o["customer_id"], line["product_id"])
            installs = [d for d in rows[key] if day < d <= day + timedelta(14)]
            assert installs, (o["id"], key)  # installed shortly after the order
            matched.update((*key, d) for d in installs)
    assert machine_orders >= 20
    for e in demo.equipment:  # every other row predates the order history (legacy equipment)
        installed = date.fromisoformat(e["installed_at"])
        key = (e["customer_id"], e["product_id"], installed)
        assert key in matched or installed < demo.window_start \
            or installed > demo.as_of - timedelta(15)
    assert any(date.fromisoformat(e["installed_at"]) < demo.window_start for e in demo.equipment)


def test_spare_parts_and_service_are_ordered_around_due_dates(demo):
    """Orders of an owner for parts that fit their machine fall within ±30 days of the machine's
    next due date (installation or last service + interval). Uniformly random timing would hit
    that window in at most a third of the cases (60 of ≥ 180 days)."""
    fits = demo.truth["spare_parts"]
    owned = defaultdict(list)
    for e in demo.equipment:
        owned[e["customer_id"]].append([date.fromisoformat(e["installed_at"]),
                                        e["service_interval_days"], e["product_id"]])
    near = far = 0
    for o in sorted(demo.orders, key=lambda o: o["placed_at"]):
        if not o["customer_id"] or o["status"] not in DONE:
            continue
        day = placed(o).date()
        parts = [line["product_id"] for line in o["lines"] if line["product_id"] in fits]
        candidates = [m for m in owned[o["customer_id"]]
                      if m[0] < day and any(m[2] in fits[p] for p in parts)]
        if not candidates:
            continue
        best = None
        for machine in candidates:
            due = machine[0] + timedelta(machine[1])
            while due < day - timedelta(30):
                due += timedelta(machine[1])
            if best is None or abs((day - due).days) < best[0]:
                best = (abs((day - due).days), machine)
        assert best is not None
        if best[0] <= 30:
            near += 1
            best[1][0] = day
        else:
            far += 1
    assert near >= 100
    assert near / (near + far) >= 0.7
    # the ERP's last service date matches a real order in the history
    orders_by_day = {(o["customer_id"], placed(o).date()) for o in demo.orders}
    serviced = [e for e in demo.equipment if e["last_service_at"]
                and date.fromisoformat(e["last_service_at"]) >= demo.window_start]
    assert len(serviced) >= 20
    for e in serviced:
        assert (e["customer_id"], date.fromisoformat(e["last_service_at"])) in orders_by_day


def test_popularity_is_zipf_like(demo):
    lines = Counter(line["product_id"] for o in demo.orders for line in o["lines"])
    counts = sorted(lines.values(), reverse=True)
    top = counts[: len(demo.products) // 10]
    # Zipf within each category gives 0.5-0.6 here; equal popularity within categories would
    # still give about 0.36 (category mix and repurchases), fully uniform about 0.1
    assert sum(top) / sum(counts) >= 0.45


def test_repeat_buyers_and_leads(demo):
    per_customer = Counter(o["customer_id"] for o in demo.orders if o["customer_id"])
    buyers = len(per_customer)
    repeat = sum(n >= 2 for n in per_customer.values())
    assert repeat / buyers >= 0.4
    leads = len(demo.customers) - buyers
    assert 0.05 <= leads / len(demo.customers) <= 0.3
    assert 7 <= demo.manifest["counts"]["order_lines"] / len(demo.customers) <= 14


def test_order_history_statuses_channels_guests_discounts(demo):
    orders = demo.orders
    start, end = demo.window_start, demo.as_of
    statuses = Counter(o["status"] for o in orders)
    assert (statuses["paid"] + statuses["fulfilled"]) / len(orders) >= 0.8
    assert statuses["refunded"] and statuses["cancelled"] and statuses["partially_refunded"]
    channels = Counter(o["channel"] for o in orders)
    assert channels["web"] / len(orders) >= 0.5 and channels["erp"] and channels["phone"]
    kinds = {c["id"]: c["kind"] for c in demo.customers}
    indirect = [o for o in orders if o["channel"] != "web"]
    assert sum(kinds.get(o["customer_id"]) == "b2b" for o in indirect) / len(indirect) >= 0.8
    guests = [o for o in orders if o["customer_id"] is None]
    assert 0.02 <= len(guests) / len(orders) <= 0.1
    assert all(o["email"] and o["channel"] == "web" for o in guests)
    known = {c["email"] for c in demo.customers}
    assert any(o["email"] in known for o in guests)  # registered customers checking out as guests
    with_codes = sum(bool(o["discount_codes"]) for o in orders) / len(orders)
    assert 0.01 <= with_codes <= 0.15
    for o in orders:
        p, u = placed(o), datetime.fromisoformat(o["updated_at"])
        assert start <= p.date() < end and p <= u and u.date() <= end
        total = sum(Decimal(line["unit_price"]) * line["quantity"] for line in o["lines"])
        refunded = Decimal(o["refunded_total"])
        if o["status"] == "refunded":
            assert refunded == total
        elif o["status"] == "partially_refunded":
            assert 0 < refunded < total
        else:
            assert refunded == 0


def test_b2b_price_lists_lower_unit_prices(demo):
    lists = {c["id"]: c["attributes"].get("price_list") for c in demo.customers}
    below = Counter()
    for o in demo.orders:
        for line in o["lines"]:
            price = Decimal(demo.products[line["product_id"]]["price"])
            unit = Decimal(line["unit_price"])
            price_list = lists.get(o["customer_id"]) if o["customer_id"] else None
            if price_list in (None, "PL-STANDARD"):
                assert unit == price
            else:
                assert unit < price
                below[price_list] += 1
    assert set(below) == {"PL-TRADE", "PL-KEY", "PL-WHOLESALE"}


def test_customer_timestamps_agree_with_their_orders(demo):
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    for o in demo.orders:
        if cid := o["customer_id"]:
            first[cid] = min(first.get(cid, placed(o)), placed(o))
            last[cid] = max(last.get(cid, placed(o)), placed(o))
    for c in demo.customers:
        created, updated = (datetime.fromisoformat(c["created_at"]),
                            datetime.fromisoformat(c["updated_at"]))
        assert created <= updated and updated.date() <= demo.as_of
        if c["id"] in first:
            assert created <= first[c["id"]] and updated >= last[c["id"]]
    assert any(datetime.fromisoformat(c["created_at"]).date() < demo.window_start
               for c in demo.customers)  # some customers predate the order history
