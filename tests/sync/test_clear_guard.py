"""No silent data loss from a mapping (issue 13, item 1): a mapped master field no master
customer has is refused as a misspelling (dry run too) unless ``allow_clear = true``; clears
are counted apart in every summary; a run that would clear a large share of a target's values
writes nothing unless ``--allow-mass-clear``. Real emulators, real sockets."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop.hooks import ConfigError

MISSPELT = """\
[sync]
match_keys = ["email", "vat_id"]

[sync.attributes.customer_group]
master = "erp"
field = "customer_grup"
targets = ["shop", "woo"]
{extra}
[sync.attributes.sales_rep]
master = "erp"
transform = "lower"
targets = {{ shop = {{}}, woo = {{ key = "rep" }} }}
"""


def _held(env: Any) -> dict[str, dict[str, Any]]:
    """What both shops hold under the mapped keys (target/key → customer → value)."""
    return {f"shop/{key}": env.shop_values(key) for key in
            ("customer_group", "sales_rep", "customer_number")} | {
        f"woo/{key}": env.woo_values(key) for key in ("customer_group", "rep",
                                                       "customer_number")}


def _cleared(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> int:
    return sum(1 for where, values in before.items() for customer, value in values.items()
               if value not in (None, "") and after[where].get(customer) in (None, ""))


def test_a_misspelt_master_field_is_refused_naming_attribute_master_field_and_suggestion(
        make_env: Callable[..., Any]) -> None:
    env = make_env(customers=60)
    env.write_config(MISSPELT.format(extra=""))
    before, writes = _held(env), env.writes()

    for args in (("--dry-run",), ()):
        done = env.cli("sync", "customers", *args)
        assert done.returncode == 2, done.stdout + done.stderr
        message = " ".join(done.stderr.split())  # rich wraps long lines
        for part in ("sync.attributes.customer_group.field", "attribute 'customer_group'",
                     "'erp'", "'customer_grup'", "did you mean 'customer_group'",
                     "allow_clear = true"):
            assert part in message, (part, message)

    with pytest.raises(ConfigError, match="customer_grup"):
        env.run()
    assert env.writes() == writes and env.batch_count() == 0
    assert _held(env) == before
    done = env.cli("sync", "history", "--json")
    assert [r["status"] for r in json.loads(done.stdout)["runs"]] == ["failed"] * 3


def test_allow_clear_lets_an_absent_field_clear_and_the_clears_are_counted_apart(
        make_env: Callable[..., Any]) -> None:
    env = make_env(customers=60)
    env.write_config(MISSPELT.format(extra="allow_clear = true\n"))
    groups = {k: v for k, v in env.shop_values("customer_group").items() if v}
    assert len(groups) > 30, "the seed must give the shop customer groups to clear"

    dry = env.cli("sync", "customers", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert f"would clear {len(groups)} values in shop" in dry.stdout
    summary = env.run()

    assert summary["ok"], summary["errors"]
    shop = summary["targets"]["shop"]
    assert shop["to_clear"] == shop["cleared"] == len(groups)
    assert summary["cleared"] == shop["cleared"] + summary["targets"]["woo"]["cleared"]
    assert summary["clears"] == {}  # allow_clear: not counted by the mass-clear guard
    assert not any(env.shop_values("customer_group").values())
    history = json.loads(env.cli("sync", "history", "--json").stdout)["runs"][0]
    assert history["targets"]["shop"]["cleared"] == len(groups)
    shown = env.cli("sync", "show", summary["run_id"][:8])
    assert f"{summary['cleared']} cleared" in shown.stdout


def _empty_groups(env: Any, how_many: int) -> list[str]:
    numbers = sorted(n for n, v in env.erp_values("customer_group").items() if v)[:how_many]
    for number in numbers:
        env.edit_erp(number, {"Customer_Posting_Group": ""})
    return numbers


def test_a_mass_clear_clears_nothing_unless_allowed_and_the_other_changes_go_out(
        make_env: Callable[..., Any]) -> None:
    env = make_env(customers=120)
    assert env.run()["ok"]  # in sync: both shops hold the ERP's groups and numbers
    emptied = _empty_groups(env, 100)
    # Something else to write, too: the refusal holds back the clears, not this change.
    moved = next(n for n in env.erp_rows() if n not in emptied)
    env.edit_erp(moved, {"Salesperson_Code": "NEW REP"})
    before, batches = _held(env), env.batch_count()

    dry = env.cli("sync", "customers", "--dry-run", "--json")
    assert dry.returncode == 2, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["targets"]["shop"]["to_clear"] == 100
    assert planned["clears"]["shop"] == {"customer_group": 100}
    assert "a real run would be refused" in planned["errors"][0]["error"]

    done = env.cli("sync", "customers", "--json")
    assert done.returncode == 2, done.stderr
    refused = json.loads(done.stdout)
    assert {e["kind"] for e in refused["errors"]} == {"refused"}
    message = next(e["error"] for e in refused["errors"] if e["connection"] == "shop")
    for part in ("'shop'", "clear 100 of the", "customer_group 100", "max_clear_share = 0.1",
                 "--allow-mass-clear", "allow_clear = true", "no value was cleared"):
        assert part in message, (part, message)
    assert refused["cleared"] == 0 and _cleared(before, _held(env)) == 0
    # The one replaced value went out in each shop, in one batch each; nothing else changed.
    assert refused["written"] == 2 and env.batch_count() == batches + 2
    after = _held(env)
    assert env.shop_values("sales_rep")[moved] == "new rep"
    assert {where: {c: v for c, v in values.items() if before[where].get(c) != v}
            for where, values in after.items()} == {
        "shop/customer_group": {}, "shop/sales_rep": {moved: "new rep"},
        "shop/customer_number": {}, "woo/customer_group": {}, "woo/rep": {moved: "new rep"},
        "woo/customer_number": {}}

    allowed = env.cli("sync", "customers", "--json", "--allow-mass-clear")
    assert allowed.returncode == 0, allowed.stderr
    report = json.loads(allowed.stdout)
    assert report["targets"]["shop"]["cleared"] == report["targets"]["woo"]["cleared"] == 100
    assert _cleared(before, _held(env)) == 200
    # The replaced value went out with the refused run, and is not written again.
    assert report["targets"]["shop"]["written"] == report["targets"]["shop"]["cleared"]


def test_a_few_clears_are_not_a_mass_clear(make_env: Callable[..., Any]) -> None:
    env = make_env(customers=60)
    assert env.run()["ok"]
    _empty_groups(env, 3)  # below sync.min_mass_clear (10)

    done = env.cli("sync", "customers")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "cleared 3 values in shop" in done.stdout and "cleared 3 values in woo" in done.stdout


def test_the_guard_settings_are_validated_with_the_config(
        make_env: Callable[..., Any]) -> None:
    env = make_env(customers=5)
    for setting, ok in (("max_clear_share = 0.5\nmin_mass_clear = 3", True),
                        ("max_clear_share = 2", False), ("min_mass_clear = 0", False)):
        env.write_config(env.erp_to_shops.replace("[sync]\n", f"[sync]\n{setting}\n")
                         .replace('transform = "lower"', 'transform = "lower"\n'
                                  "allow_clear = true"))
        done = env.cli("config", "check", "--offline")
        assert (done.returncode == 0) is ok, (setting, done.stdout + done.stderr)
        if not ok:
            assert setting.split(" ")[0] in done.stderr + done.stdout


# -- the property: a misspelt field never clears anything without the explicit opt-in ------------

FIELDS = ("customer_group", "sales_rep")


@st.composite
def _typo(draw: st.DrawFn, word: str) -> str:
    """``word`` with one random edit: a letter dropped, doubled, swapped or replaced."""
    at = draw(st.integers(0, len(word) - 1))
    letter = draw(st.sampled_from(string.ascii_lowercase + "_"))
    kind = draw(st.sampled_from(("drop", "double", "swap", "replace", "insert")))
    if kind == "drop":
        return word[:at] + word[at + 1:]
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    if kind == "swap" and at + 1 < len(word):
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    if kind == "insert":
        return word[:at] + letter + word[at:]
    return word[:at] + letter + word[at + 1:]


@st.composite
def _mapping(draw: st.DrawFn) -> tuple[str, bool]:
    """A [sync] mapping of both ERP fields into random targets, at least one field misspelt;
    and whether the run passes --allow-mass-clear (which is not allow_clear)."""
    misspelt = draw(st.sets(st.sampled_from(FIELDS), min_size=1))
    lines = ["[sync]", 'match_keys = ["email", "vat_id"]']
    for name in FIELDS:
        field = draw(_typo(name).filter(lambda t, n=name: t != n and t not in FIELDS)) \
            if name in misspelt else name
        targets = draw(st.sets(st.sampled_from(("shop", "woo")), min_size=1))
        lines += [f"[sync.attributes.{name}]", 'master = "erp"', f'field = "{field}"',
                  f"targets = {sorted(targets)!r}".replace("'", '"')]
        if draw(st.booleans()):
            lines.append('policy = "' + draw(st.sampled_from(
                ("master_wins", "newest_wins", "keep_non_empty"))) + '"')
    return "\n".join(lines) + "\n", draw(st.booleans())


def test_no_misspelt_field_clears_a_value_without_the_opt_in(
        make_env: Callable[..., Any]) -> None:
    env = make_env(customers=25)  # shared by the examples: a refused run changes nothing

    @settings(max_examples=12, deadline=None)
    @given(case=_mapping())
    def check(case: tuple[str, bool]) -> None:
        mapping, allow_mass_clear = case
        env.write_config(mapping)
        before, writes = _held(env), env.writes()
        with pytest.raises(ConfigError, match="did you mean"):
            env.run(allow_mass_clear=allow_mass_clear)
        assert _cleared(before, _held(env)) == 0 and env.writes() == writes

    check()
