"""The order simulation: shopping trips with Zipf popularity, complementary add-ons, premium
upgrades, consumable repurchase chains, installed equipment with service visits, guest checkouts.

Orders are kept as compact tuples (:data:`OrderPlan`) and turned into dicts only when written,
so 100k customers / 1M lines fit comfortably in memory.
"""

from __future__ import annotations

import random

from . import _vocab as v
from ._catalogue import ATTACH_RATE, Catalogue
from ._customers import Profile
from ._util import DAY, Picker, Window, below, between, geometric

STATUSES = ("pending", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded")
PENDING, PAID, FULFILLED, CANCELLED, REFUNDED, PARTIAL = range(6)
DONE = (PAID, FULFILLED, PARTIAL)
"""Statuses after which the goods reached the customer (install, consume, service)."""
CHANNELS = ("web", "erp", "phone")
TRIP, REPURCHASE, SERVICE, GUEST = range(4)

# (web, erp) thresholds; the rest is phone. B2B orders arrive through indirect channels too.
_CHANNEL = {
    ("b2b", TRIP): (0.50, 0.88), ("b2b", REPURCHASE): (0.55, 0.90), ("b2b", SERVICE): (0.20, 0.90),
    ("b2c", TRIP): (0.96, 0.96), ("b2c", REPURCHASE): (0.96, 0.96), ("b2c", SERVICE): (0.80, 0.80),
    ("b2c", GUEST): (1.0, 1.0),
}
# web orders by hour of day (UTC): quiet at night, peaks at lunch and in the evening
_WEB_HOURS = Picker([1, 1, 1, 1, 1, 2, 4, 6, 7, 8, 9, 10, 11, 9, 8, 8, 9, 11, 14, 15, 13, 9, 5, 2])
_PREMIUM_RATE = {"b2c": 0.15, "b2b": 0.22, "key_account": 0.38}
_EXTRA_ITEMS = {"b2c": 0.8, "b2b": 1.6}
REGULAR_SHARE = 0.55
"""Share of first-time consumable buyers who then reorder on a cycle."""
CHURN = 0.18
"""Probability that a regular stops reordering after each repurchase."""
SERVICE_RATE = {"b2b": 0.8, "b2c": 0.55}

OrderPlan = tuple[int, int, int, int, int, int, int, tuple[int, ...]]
"""(placed_ts, who, channel, status, discount code or -1, updated_ts, refunded cents,
(product, quantity, unit cents)*). ``who`` ≥ 0 is a customer index, < 0 is guest ``-who-1``."""
Head = tuple[int, int, int, int, int]
"""(placed_ts, status, channel, discount code or -1, updated_ts) of an order being built."""
EquipmentPlan = tuple[int, int, int, int, int]
"""(installed day ts, customer index, product, service interval days, last service day ts or 0)."""


class Simulator:
    def __init__(self, catalogue: Catalogue, window: Window) -> None:
        self.cat = catalogue
        self.w = window
        self.orders: list[OrderPlan] = []
        self.equipment: list[EquipmentPlan] = []
        self._first = 0
        self._last = 0
        self._open: list[tuple[Head, list[tuple[int, int]], list[int]]] = []

    # --- one customer ----------------------------------------------------------------------------

    def customer(self, p: Profile, rng: random.Random) -> None:
        w, cat = self.w, self.cat
        end = w.end_ts
        self._first, self._last = end, 0
        if p.kind == "b2b" and p.since_ts < w.start_ts and cat.pro_machines \
                and rng.random() < 0.35:
            for _ in range(1 if rng.random() < 0.7 else 2):  # equipment from before the window
                pid = cat.pro_machines[below(rng, len(cat.pro_machines))]
                installed = p.since_ts + below(rng, max(DAY, w.start_ts - p.since_ts))
                installed -= installed % DAY
                self.equipment.append((installed, p.index, pid, cat.interval[pid],
                                       self._service_visits(rng, p, pid, installed)))
        if p.trips:
            self._trips(p, rng)
        self._flush(p.index, p.discount_pct)
        if self._last:
            p.since_ts = min(p.since_ts, self._first)
            p.updated_ts = min(end, self._last + below(rng, 3 * DAY))
        else:
            p.updated_ts = min(end, p.since_ts + below(rng, 30 * DAY))

    def _trips(self, p: Profile, rng: random.Random) -> None:
        w, cat = self.w, self.cat
        end = w.end_ts
        start = max(p.since_ts, w.start_ts)
        times = sorted(start + below(rng, end - start) for _ in range(p.trips))
        if p.since_ts >= w.start_ts:  # a new customer's account is created with the first order
            times[0] = min(end - 1, p.since_ts + below(rng, 2 * DAY))
            times.sort()
        picker = cat.picker(p.kind, p.industry)
        premium_rate = _PREMIUM_RATE.get(p.group, _PREMIUM_RATE[p.kind])
        active: dict[int, int] = {}
        first = True
        for t in times:
            lines = self._basket(rng, p.kind, t, picker, active, premium_rate)
            if not lines:
                continue
            status, ts = self._order(rng, p.kind, p.discount_pct, p.index, t, lines, TRIP, first)
            first = False
            if status not in DONE:
                continue
            for pid, qty in lines:
                if cat.cycle[pid] and active.get(pid, 0) <= ts:
                    self._repurchases(rng, p, pid, qty, ts, active)
                elif cat.interval[pid]:
                    for _ in range(min(qty, 3)):
                        self._install(rng, p, pid, ts)

    def _basket(self, rng: random.Random, kind: str, t: int, picker: Picker,
                active: dict[int, int], premium_rate: float) -> list[tuple[int, int]]:
        cat = self.cat
        chosen: list[int] = []
        for _ in range(1 + geometric(rng, _EXTRA_ITEMS[kind])):
            i = self._pick(rng, picker, t, active, chosen)
            if i < 0:
                continue
            premium = cat.premium[i]
            if premium >= 0 and premium not in chosen and rng.random() < premium_rate:
                i = premium
            chosen.append(i)
            for y in cat.complement_of[cat.base_of[i]]:
                if y not in chosen and rng.random() < ATTACH_RATE:
                    chosen.append(y)
        return [(i, self._quantity(rng, kind, cat.category[i])) for i in chosen]

    def _pick(self, rng: random.Random, picker: Picker, t: int, active: dict[int, int],
              chosen: list[int]) -> int:
        cat = self.cat
        for _ in range(6):
            i = picker.pick(rng)
            archived = cat.archived_after[i]
            if (archived and t > archived) or (cat.cycle[i] and active.get(i, 0) > t) \
                    or i in chosen:
                continue
            return i
        return -1

    @staticmethod
    def _quantity(rng: random.Random, kind: str, category: str) -> int:
        if kind == "b2c":
            if category == "consumables":
                return between(rng, 1, 3)
            return 2 if category == "accessories" and rng.random() < 0.1 else 1
        if category == "consumables":
            return between(rng, 2, 10)
        if category == "accessories":
            return between(rng, 1, 4)
        if category == "machines":
            return 1 if rng.random() < 0.85 else between(rng, 2, 3)
        return between(rng, 1, 2) if category == "spare_parts" else 1

    def _repurchases(self, rng: random.Random, p: Profile, pid: int, qty: int, t: int,
                     active: dict[int, int]) -> None:
        """A consumable bought for the first time: a regular reorders it every cycle."""
        cycle = self.cat.cycle[pid] * DAY
        if rng.random() < REGULAR_SHARE:
            personal = cycle * (0.9 + 0.2 * rng.random())
            while True:
                t += int(personal * max(0.5, rng.gauss(1.0, 0.1)))
                if t >= self.w.end_ts:
                    break
                q = qty if rng.random() < 0.8 else max(1, qty + (1 if rng.random() < 0.5 else -1))
                _, t = self._repurchase_order(rng, p.kind, t, pid, q)
                if rng.random() < CHURN:
                    break
        active[pid] = t + cycle

    def _install(self, rng: random.Random, p: Profile, pid: int, ts: int) -> None:
        installed = ts - ts % DAY + between(rng, 1, 14 if p.kind == "b2b" else 7) * DAY
        if installed >= self.w.end_ts:
            return  # not installed yet
        last = self._service_visits(rng, p, pid, installed)
        self.equipment.append((installed, p.index, pid, self.cat.interval[pid], last))

    def _service_visits(self, rng: random.Random, p: Profile, pid: int, installed: int) -> int:
        """Spare parts (and a maintenance visit) ordered around each due date; the last one."""
        cat, w = self.cat, self.w
        interval = cat.interval[pid] * DAY
        parts = cat.parts_for[pid]
        rate = SERVICE_RATE[p.kind]
        last = 0
        due = installed + interval
        while due < w.end_ts:
            if rng.random() >= rate:
                due += interval
                continue
            t = max(installed + DAY, due + int(rng.gauss(0.0, 6.0) * DAY))
            if t >= w.end_ts:
                break
            if t < w.start_ts:  # before the order history: the ERP only knows the date
                last = t - t % DAY
                due = t + interval
                continue
            lines = [(part, 1) for part in rng.sample(parts, min(len(parts), between(rng, 1, 2)))]
            if cat.maintenance and rng.random() < (0.6 if p.kind == "b2b" else 0.35):
                lines.append((cat.maintenance[below(rng, len(cat.maintenance))], 1))
            if not lines:
                due += interval
                continue
            status, ts = self._order(rng, p.kind, p.discount_pct, p.index, t, lines, SERVICE,
                                     False)
            if status in DONE:
                last = ts - ts % DAY
            due = ts + interval
        return last

    # --- guests ----------------------------------------------------------------------------------

    def guests(self, rng: random.Random, count: int, known_emails: list[str]) -> list[str]:
        """Guest checkouts (no customer id); some use the e-mail of a registered customer."""
        picker = self.cat.picker("b2c", None)
        span = self.w.end_ts - self.w.start_ts
        emails: list[str] = []
        for g in range(count):
            if known_emails and rng.random() < 0.3:
                emails.append(known_emails[below(rng, len(known_emails))])
            else:
                first = v.ascii_slug(v.FIRST_NAMES[below(rng, len(v.FIRST_NAMES))])
                last = v.ascii_slug(v.LAST_NAMES[below(rng, len(v.LAST_NAMES))])
                emails.append(f"{first}.{last}.g{g + 1}@example.net")
            t = self.w.start_ts + below(rng, span)
            lines = self._basket(rng, "b2c", t, picker, {}, _PREMIUM_RATE["b2c"])
            if lines:  # a third are first-time shoppers, who may use the welcome code
                self._order(rng, "b2c", 0, -g - 1, t, lines, GUEST, g % 3 == 0)
        return emails

    # --- one order -------------------------------------------------------------------------------

    def _order(self, rng: random.Random, kind: str, discount_pct: int, who: int, t: int,
               lines: list[tuple[int, int]], origin: int, first: bool) -> tuple[int, int]:
        """Place an order now; return its status and time."""
        head = self._header(rng, kind, t, origin, first)
        self._emit(head, who, discount_pct, lines)
        return head[1], head[0]

    def _repurchase_order(self, rng: random.Random, kind: str, t: int, pid: int,
                          qty: int) -> tuple[int, int]:
        """A reorder joins another reorder of the customer that is due at about the same time
        (a fifth of the cycle, 2 to 6 days), else opens one; all are placed when the customer
        is done (:meth:`_flush`)."""
        slack = max(2, min(6, self.cat.cycle[pid] // 5)) * DAY
        for head, lines, pids in self._open:
            if -slack <= head[0] - t <= slack and pid not in pids:
                lines.append((pid, qty))
                pids.append(pid)
                return head[1], head[0]
        head = self._header(rng, kind, t, REPURCHASE, False)
        self._open.append((head, [(pid, qty)], [pid]))
        return head[1], head[0]

    def _flush(self, who: int, discount_pct: int) -> None:
        for head, lines, _ in self._open:
            self._emit(head, who, discount_pct, lines)
        self._open.clear()

    def _header(self, rng: random.Random, kind: str, t: int, origin: int,
                first: bool) -> Head:
        """(placed_ts, status, channel, discount code or -1, updated_ts) of a new order."""
        end = self.w.end_ts
        web_until, erp_until = _CHANNEL[kind, origin]
        r = rng.random()
        channel = 0 if r < web_until else (1 if r < erp_until else 2)
        day = t - t % DAY
        if channel:  # ERP and phone orders are entered on working days, in office hours
            weekday = (day // DAY + 3) % 7
            if weekday >= 5:
                day += (7 - weekday) * DAY
            ts = day + (8 + below(rng, 9)) * 3600 + below(rng, 3600)
        else:
            ts = day + _WEB_HOURS.pick(rng) * 3600 + below(rng, 3600)
        if ts >= end:
            ts = end - 1 - below(rng, 4 * 3600)
        status = self._status(rng, end - ts)
        discount = -1
        if channel == 0:
            if first and rng.random() < 0.25:
                discount = 0
            elif rng.random() < 0.05:
                discount = 1 + below(rng, 5)
        if ts < self._first:
            self._first = ts
        if ts > self._last:
            self._last = ts
        return ts, status, channel, discount, min(end, ts + self._delay(rng, status))

    def _emit(self, head: Head, who: int, discount_pct: int,
              lines: list[tuple[int, int]]) -> None:
        ts, status, channel, discount, updated = head
        flat: list[int] = []
        total = 0
        factor = 100 - discount_pct
        price = self.cat.price
        for pid, qty in lines:
            unit = price[pid] * factor // 100
            flat += (pid, qty, unit)
            total += unit * qty
        refunded = 0
        if status == REFUNDED:
            refunded = total
        elif status == PARTIAL:  # one unit of the first line; half of it for a single item
            refunded = flat[2] if total > flat[2] else flat[2] // 2
        self.orders.append((ts, who, channel, status, discount, updated, refunded, tuple(flat)))

    @staticmethod
    def _status(rng: random.Random, age: int) -> int:
        r = rng.random()
        if age < 3 * DAY:
            return PENDING if r < 0.3 else (PAID if r < 0.93 else CANCELLED)
        if age < 10 * DAY:
            return PAID if r < 0.45 else FULFILLED if r < 0.95 else CANCELLED if r < 0.98 \
                else REFUNDED
        return FULFILLED if r < 0.86 else PAID if r < 0.89 else CANCELLED if r < 0.93 \
            else REFUNDED if r < 0.97 else PARTIAL

    @staticmethod
    def _delay(rng: random.Random, status: int) -> int:
        if status == FULFILLED:
            return int(DAY * (1 + 4 * rng.random()))
        if status in (REFUNDED, PARTIAL):
            return int(DAY * (5 + 35 * rng.random()))
        if status == CANCELLED:
            return int(2 * DAY * rng.random())
        return int(4 * 3600 * rng.random())
