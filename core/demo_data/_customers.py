"""Customers: who they are (B2B master data or a B2C shopper) and how active they will be."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from . import _vocab as v
from ._util import DAY, Picker, Window, below, between, geometric, iso

B2B_SHARE = 0.30
LEAD_SHARE = {"b2b": 0.08, "b2c": 0.18}
"""Share of customers that never order (newsletter sign-ups, prospects in the ERP)."""
CONSENT_SHARE = {"b2b": 0.42, "b2c": 0.58}
TRIP_MEAN = {"b2b": 2.8, "b2c": 1.2}
"""Mean number of spontaneous shopping trips over the whole window, beyond the first."""

_COUNTRY = Picker([c.weight for c in v.COUNTRIES])
_GROUP = Picker([g[1] for g in v.B2B_GROUPS])
_INDUSTRY = Picker(v.INDUSTRY_WEIGHTS)
_LANGUAGE = {"DE": "de", "AT": "de", "CH": "de", "FR": "fr", "IT": "it", "NL": "nl", "BE": "nl",
             "LU": "fr", "PL": "pl", "DK": "da"}


@dataclass(slots=True)
class Profile:
    index: int
    kind: str
    first: str
    last: str
    email: str
    phone: str
    country: str
    city: str
    postal: str
    street: str
    accepts_marketing: bool
    since_ts: int
    trips: int
    company: str | None = None
    industry: str | None = None
    group: str = "retail"
    price_list: str | None = None
    discount_pct: int = 0
    sales_rep: str | None = None
    shipping_street: str | None = None
    vat_id: str | None = None
    updated_ts: int = 0

    @property
    def id(self) -> str:
        return f"C{self.index + 1:06d}"

    @property
    def lead(self) -> bool:
        return self.trips == 0


def _vat_id(rng: random.Random, country: str) -> str:
    digits = f"{below(rng, 10**9):09d}"
    if country == "AT":
        return f"ATU{digits[:8]}"
    if country == "CH":
        return f"CHE-{digits[:3]}.{digits[3:6]}.{digits[6:9]} MWST"
    if country == "NL":
        return f"NL{digits}B01"
    if country in ("FR", "IT"):
        return f"{country}{between(rng, 10, 98)}{digits}"
    return f"{country}{digits}"


def make_profile(rng: random.Random, index: int, window: Window) -> Profile:
    kind = "b2b" if rng.random() < B2B_SHARE else "b2c"
    first = v.FIRST_NAMES[below(rng, len(v.FIRST_NAMES))]
    last = v.LAST_NAMES[below(rng, len(v.LAST_NAMES))]
    country = v.COUNTRIES[_COUNTRY.pick(rng)]
    city, prefix = country.cities[below(rng, len(country.cities))]
    postal = prefix + str(below(rng, 10 ** (country.postal_digits - len(prefix)))).zfill(
        country.postal_digits - len(prefix))
    street = f"{v.STREETS[below(rng, len(v.STREETS))]} {between(rng, 1, 120)}"
    phone = f"{country.phone} {between(rng, 30, 999)} {between(rng, 100000, 9999999)}"
    consent = rng.random() < CONSENT_SHARE[kind]
    lead = rng.random() < LEAD_SHARE[kind]
    existing = rng.random() < (0.55 if kind == "b2b" else 0.3)
    if existing:  # a customer from before the order window
        since = window.start_ts - between(rng, 1, 4 * 365 - 1) * DAY - below(rng, DAY)
    else:
        since = window.start_ts + below(rng, window.days) * DAY + below(rng, DAY)
    span = (window.end_ts - max(since, window.start_ts)) / (window.end_ts - window.start_ts)
    p = Profile(index, kind, first, last, "", phone, country.code, city, postal, street, consent,
                since, 0)
    mean = TRIP_MEAN[kind]
    if kind == "b2b":
        p.industry = v.INDUSTRIES[_INDUSTRY.pick(rng)]
        p.group, _, p.price_list, p.discount_pct = v.B2B_GROUPS[_GROUP.pick(rng)]
        p.sales_rep = v.SALES_REPS[below(rng, len(v.SALES_REPS))]
        p.vat_id = _vat_id(rng, country.code)
        words = v.COMPANY_WORDS[p.industry]
        word = words[below(rng, len(words))]
        suffix = v.COMPANY_SUFFIXES[below(rng, len(v.COMPANY_SUFFIXES))]
        p.company = f"{word} {last} {suffix}" if rng.random() < 0.6 else f"{last} {word} {suffix}"
        domain = f"{v.ascii_slug(word)}-{v.ascii_slug(last)}-{index + 1}.example"
        p.email = f"{v.ascii_slug(first)[0]}.{v.ascii_slug(last)}@{domain}"
        if rng.random() < 0.4:
            p.shipping_street = f"{v.STREETS[below(rng, len(v.STREETS))]} {between(rng, 1, 90)}"
        mean *= {"key_account": 2.0, "wholesale": 1.5}.get(p.group, 1.0)
    else:
        domain = ("example.com", "example.org", "example.net")[below(rng, 3)]
        p.email = f"{v.ascii_slug(first)}.{v.ascii_slug(last)}{index + 1}@{domain}"
    if not lead:
        p.trips = 1 + geometric(rng, mean * (0.35 + 0.65 * span))
    return p


def customer_record(p: Profile) -> dict[str, Any]:
    """The customer as a plain dict in the JSON shape of :class:`shoploop.hooks.Customer`."""
    addresses: list[dict[str, Any]] = [{
        "kind": "billing", "company": p.company, "line1": p.street, "line2": None,
        "postal_code": p.postal, "city": p.city, "country": p.country,
    }]
    if p.shipping_street is not None:
        addresses.append({
            "kind": "shipping", "company": p.company, "line1": p.shipping_street,
            "line2": "Warenannahme", "postal_code": p.postal, "city": p.city,
            "country": p.country,
        })
    attributes: dict[str, Any] = {"customer_group": p.group,
                                  "language": _LANGUAGE.get(p.country, "en")}
    tags: list[str] = []
    if p.kind == "b2b":
        attributes.update(industry=p.industry, price_list=p.price_list, sales_rep=p.sales_rep,
                          payment_terms="net30" if p.group != "standard" else "prepaid")
        tags += ["b2b", f"industry:{p.industry}"]
    if p.accepts_marketing:
        tags.append("newsletter")
    return {
        "id": p.id, "email": p.email, "first_name": p.first, "last_name": p.last,
        "company": p.company, "phone": p.phone, "kind": p.kind,
        "customer_number": f"K{10000 + p.index + 1}" if p.kind == "b2b" else None,
        "vat_id": p.vat_id,
        "accepts_marketing": p.accepts_marketing, "addresses": addresses, "tags": tags,
        "attributes": attributes, "created_at": iso(p.since_ts),
        "updated_at": iso(max(p.updated_ts, p.since_ts)),
    }
