"""Reasons a customer understands, in English and German, from the evidence numbers.

One function per strategy; each returns ``{language: text}``. The numbers are the evidence's
(rounded for reading), so a reason never says more than the data does.
"""

from __future__ import annotations

LANGUAGES = ("en", "de")


def _percent(share: float) -> int:
    return max(1, round(share * 100))


def bought_together(anchor: str, together: int, orders_with: int) -> dict[str, str]:
    """"bought together with X in 34 % of the orders with it (41 of 120)"."""
    share = _percent(together / orders_with)
    return {
        "en": f"Bought together with {anchor} in {share} % of the orders with it "
              f"({together} of {orders_with})",
        "de": f"In {share} % der Bestellungen mit {anchor} zusammen gekauft "
              f"({together} von {orders_with})",
    }


def _days_en(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def buy_again(median_days: float, since_days: int, orders: int) -> dict[str, str]:
    """"you order this about every 30 days; last order 28 days ago"."""
    every = max(1, round(median_days))
    ago_en = "today" if since_days == 0 else f"{_days_en(since_days)} ago"
    ago_de = "heute" if since_days == 0 else (
        "vor 1 Tag" if since_days == 1 else f"vor {since_days} Tagen")
    every_de = "jeden Tag" if every == 1 else f"alle {every} Tage"
    return {
        "en": f"You order this about every {_days_en(every) if every > 1 else 'day'}; "
              f"last order {ago_en} ({orders} orders)",
        "de": f"Sie bestellen das etwa {every_de}; letzte Bestellung {ago_de} "
              f"({orders} Bestellungen)",
    }


def bought_before(orders_with: int, orders: int, since_days: int) -> dict[str, str]:
    """"you bought this in 7 of your 10 orders; last order 28 days ago"."""
    ago_en = "today" if since_days == 0 else f"{_days_en(since_days)} ago"
    ago_de = "heute" if since_days == 0 else (
        "vor 1 Tag" if since_days == 1 else f"vor {since_days} Tagen")
    of_en = "your order" if orders == 1 else f"{orders_with} of your {orders} orders"
    of_de = "Ihrer Bestellung" if orders == 1 else f"{orders_with} von {orders} Ihrer " \
                                                   "Bestellungen"
    return {"en": f"You bought this in {of_en}; last order {ago_en}",
            "de": f"Sie haben das in {of_de} gekauft; letzte Bestellung {ago_de}"}
