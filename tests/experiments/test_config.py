"""``[experiments.NAME]`` is validated once into ``Config.experiments``; every problem names
the key and the fix."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shoploop import load_plugins
from shoploop._config import parse_config
from shoploop.hooks import ConfigError

REGISTRY = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": ""}).connectors



def _parse(text: str):  # type: ignore[no-untyped-def]
    return parse_config(tomllib.loads(text), REGISTRY, file="f.toml", base_dir=Path("."),
                        environ={})


def test_the_table_becomes_typed_settings(k_test_toml: str) -> None:
    experiment = _parse(k_test_toml).experiments["k_test"]
    assert experiment.unit == "customer" and experiment.control.name == "control"
    assert experiment.variants[1].k == 8
    assert experiment.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert experiment.planned_per_arm() == pytest.approx(8155, abs=5)
    assert not experiment.active(datetime(2026, 11, 30, tzinfo=UTC))
    assert experiment.active(datetime(2026, 12, 2, tzinfo=UTC))


@pytest.mark.parametrize(("change", "key", "words"), [
    (("k = 8", "k = 0"), "experiments.k_test.variants.1.k", "greater than or equal to 1"),
    (("k = 8", "kk = 8"), "experiments.k_test.variants.1.kk", "did you mean 'k'"),
    (("share = 0.5\nk", "share = 0.6\nk"), "experiments.k_test", "sum to 1"),
    (('unit = "customer"', 'unit = "session"'), "experiments.k_test.unit", "'visitor'"),
    (("k = 8", 'rules = "strict"'), "experiments.k_test.variants.1.rules",
     "[reco.placements.strict]"),
    (("k_test", "K-Test"), "experiments.K-Test", "lower-case"),
])
def test_a_bad_table_names_the_key_and_the_fix(change: tuple[str, str], key: str,
                                               words: str, k_test_toml: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(k_test_toml.replace(*change))
    assert caught.value.key == key and caught.value.file == "f.toml"
    assert words in str(caught.value)


def test_a_rule_set_may_name_a_configured_placement(k_test_toml: str) -> None:
    text = k_test_toml.replace("k = 8", 'rules = "strict"') + (
        "\n[reco.placements.strict]\nrules = { max_per_category = 1 }\n")
    assert _parse(text).experiments["k_test"].variants[1].rules == "strict"


def test_two_running_experiments_cannot_share_a_placement(k_test_toml: str) -> None:
    other = k_test_toml.replace("k_test", "other")
    with pytest.raises(ConfigError, match="'product_page' is in experiments") as caught:
        _parse(k_test_toml + other)
    assert caught.value.key == "experiments.other.placements"
    assert "non-overlapping" in (caught.value.remedy or "")
    # one after the other is fine
    later = other.replace("start = 2026-12-01T00:00:00Z", "start = 2027-01-01T00:00:00Z")
    first = k_test_toml.replace("start = 2026-12-01T00:00:00Z",
                           "start = 2026-12-01T00:00:00Z\nstop = 2027-01-01T00:00:00Z")
    assert set(_parse(first + later).experiments) == {"k_test", "other"}


REFERRAL_TEST = """
[experiments.thanks]
unit = "customer"
baseline_rate = 0.2
start = 2026-12-01T00:00:00Z
[[experiments.thanks.variants]]
name = "control"
share = 0.5
[[experiments.thanks.variants]]
name = "generous"
share = 0.5
referral_reward = 25
survey_delay_days = 14
"""


def test_a_referral_experiment_defaults_to_the_referral_rate() -> None:
    experiment = _parse(REFERRAL_TEST).experiments["thanks"]
    assert experiment.kind == "referral" and experiment.primary_metric == "referral_rate"
    assert experiment.variants[1].survey_delay_days == 14
    assert str(experiment.variants[1].referral_reward) == "25"
    assert _parse(REFERRAL_TEST.replace(
        'unit = "customer"', 'unit = "customer"\nprimary_metric = "answer_rate"')
    ).experiments["thanks"].primary_metric == "answer_rate"


@pytest.mark.parametrize(("change", "words"), [
    (('unit = "customer"', 'unit = "visitor"'), 'set unit = "customer"'),
    (('unit = "customer"', 'unit = "customer"\nplacements = ["cart"]'), "drop placements"),
    (("survey_delay_days = 14", "survey_delay_days = 14\nk = 4"), "not both"),
    (('unit = "customer"', 'unit = "customer"\nprimary_metric = "ctr"'), "referral_rate"),
])
def test_a_referral_experiment_refuses_what_it_cannot_measure(change: tuple[str, str],
                                                              words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(REFERRAL_TEST.replace(*change))
    assert caught.value.key.startswith("experiments.thanks") and words in str(caught.value)


def test_a_placement_experiment_refuses_a_referral_metric(k_test_toml: str) -> None:
    with pytest.raises(ConfigError, match="no variant sets referral_reward"):
        _parse(k_test_toml.replace('unit = "customer"',
                                   'unit = "customer"\nprimary_metric = "referral_rate"'))


def test_two_referral_experiments_cannot_run_at_once() -> None:
    with pytest.raises(ConfigError, match="both vary the referral loop") as caught:
        _parse(REFERRAL_TEST + REFERRAL_TEST.replace("thanks", "other"))
    assert caught.value.key == "experiments.thanks"  # the later name of the two
