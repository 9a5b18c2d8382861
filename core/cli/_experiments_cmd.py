"""``shoploop experiments list | show NAME | report NAME``: the configured A/B tests, their
plan, and their results with the fixed-horizon verdict (docs/experiments.md).

Exit codes (docs/cli.md): 0 ok · 2 an unknown experiment, a bad ``--now`` or a config error.
Heavy imports stay inside the commands so ``shoploop --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from ._errors import UsageError
from ._referral_cmd import parse_now
from ._state import State, console, print_json

if TYPE_CHECKING:
    from shoploop._config import Config
    from shoploop.experiments import ExperimentSettings


def _experiment(config: Config, name: str) -> ExperimentSettings:
    found = config.experiments.get(name)
    if found is None:
        from shoploop._registry import did_you_mean

        known = sorted(config.experiments)
        raise UsageError(f"no experiment {name!r} in the config" + did_you_mean(name, known),
                         remedy=f"use one of: {', '.join(known)}" if known else
                         "add an [experiments.<name>] table (docs/experiments.md)")
    return found


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _plan(name: str, settings: ExperimentSettings) -> dict[str, Any]:
    return {"experiment": name, "unit": settings.unit, "placements": settings.placements,
            "start": settings.start.isoformat() if settings.start else None,
            "stop": settings.stop.isoformat() if settings.stop else None,
            "kind": settings.kind,
            "primary_metric": settings.primary_metric, "alpha": settings.alpha,
            "power": settings.power,
            "minimum_detectable_effect": settings.minimum_detectable_effect,
            "baseline_rate": settings.baseline_rate,
            "attribution_window_days": settings.attribution_window_days,
            "planned_units_per_arm": settings.planned_per_arm(),
            "variants": [v.model_dump(mode="json", exclude_defaults=True)
                         for v in settings.variants]}


def register(app: typer.Typer) -> None:
    experiments = typer.Typer(help="A/B tests of the recommendations and the referral loop: "
                                   "plan, assignment, results with honest statistics "
                                   "(docs/experiments.md).",
                              no_args_is_help=True)
    app.add_typer(experiments, name="experiments")
    now_option = typer.Option(None, "--now", help="As of this time (ISO; default: now).")

    @experiments.command("list")
    def list_(
        ctx: typer.Context, now: str | None = now_option,
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Every configured experiment: running or not, its placements and units per arm."""
        from shoploop.store import Store, experiment_counts

        state: State = ctx.obj
        config = state.config()
        when = parse_now(now)
        with Store(config.store_url) as store, store.session() as session:
            counts = experiment_counts(session)
        rows: list[dict[str, Any]] = [
            {"experiment": name, "running": settings.active(when), "unit": settings.unit,
             "placements": settings.placements, "primary_metric": settings.primary_metric,
             "units": {v.name: counts.get(name, {}).get(v.name, 0)
                       for v in settings.variants}}
            for name, settings in sorted(config.experiments.items())]
        if as_json:
            print_json({"experiments": rows})
            return
        if not rows:
            console.print("no experiments configured (docs/experiments.md)")
        for row in rows:
            units = ", ".join(f"{k} {v}" for k, v in row["units"].items())
            console.print(f"[bold]{row['experiment']}[/] "
                          f"{'running' if row['running'] else 'not running'} · "
                          f"{row['unit']} · {', '.join(row['placements']) or '-'} · {units}",
                          highlight=False)

    @experiments.command("show")
    def show(
        ctx: typer.Context, name: str = typer.Argument(..., help="The experiment's name."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """The experiment's design: variants, shares, what varies, and the planned sample
        size per arm (the horizon before which no winner is declared)."""
        state: State = ctx.obj
        plan = _plan(name, _experiment(state.config(), name))
        if as_json:
            print_json(plan)
            return
        for key, value in plan.items():
            if key != "variants":
                console.print(f"{key:>26}  {value if value is not None else '-'}",
                              highlight=False)
        for variant in plan["variants"]:
            console.print(f"{'variant':>26}  {variant}", highlight=False)
        if plan["planned_units_per_arm"] is None:
            console.print("[yellow]no sample size planned:[/] set baseline_rate (or "
                          "baseline_revenue_mean and baseline_revenue_sd); without it no "
                          "winner is ever declared", highlight=False)

    @experiments.command("report")
    def report(
        ctx: typer.Context, name: str = typer.Argument(..., help="The experiment's name."),
        now: str | None = now_option,
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Per arm: exposed units, events, CTR and conversion per unit, attributed revenue
        per exposure (per currency); each arm against the control with confidence intervals
        and p-values; the fixed-horizon verdict."""
        from shoploop.experiments import experiment_report, referral_experiment_report
        from shoploop.store import Store

        state: State = ctx.obj
        config = state.config()
        settings = _experiment(config, name)
        when = parse_now(now)
        with Store(config.store_url) as store, store.session() as session:
            found = (referral_experiment_report(session, name, settings, config.referral, when)
                     if settings.kind == "referral"
                     else experiment_report(session, name, settings, when))
        if as_json:
            print_json(found)
            return
        console.print(f"[bold]{name}[/] as of {when:%Y-%m-%d %H:%M} UTC · primary metric "
                      f"{found['primary_metric']} · planned "
                      f"{found['planned_units_per_arm'] or '-'} units per arm", highlight=False)
        for arm in found["arms"]:
            if settings.kind == "referral":
                rewards = ", ".join(f"{v} {c}" for c, v in arm["reward_value"].items()) or "-"
                console.print(f"  {arm['variant']:<16} units {arm['units']:>7} (mature "
                              f"{arm['mature_units']})  answered "
                              f"{_percent(arm['answer_rate']):>7}  satisfied "
                              f"{_percent(arm['satisfied_rate']):>7}  referring "
                              f"{_percent(arm['referral_rate']):>7}  rewards {rewards}",
                              highlight=False)
                continue
            revenue = ", ".join(f"{v:.2f} {c}" for c, v in arm["revenue_per_exposure"].items()
                                if v is not None) or "-"
            console.print(f"  {arm['variant']:<16} units {arm['units']:>7}  "
                          f"ctr {_percent(arm['ctr']):>7}  conversion "
                          f"{_percent(arm['conversion']):>7}  revenue/exposure {revenue}",
                          highlight=False)
        for compared in found["comparisons"]:
            for metric in compared["metrics"]:
                if metric["p_value"] is None:
                    continue
                label = metric["metric"] + (f" {metric['currency']}"
                                            if "currency" in metric else "")
                console.print(f"  {compared['variant']} vs {compared['against']} {label}: "
                              f"{metric['difference']:+.4g} [{metric['low']:+.4g}, "
                              f"{metric['high']:+.4g}] p = {metric['p_value']:.4f}",
                              highlight=False)
        for reading in found["verdicts"]:
            console.print(f"[bold]{reading['status']}[/] {reading['message']}",
                          highlight=False)

    _ = list_, show, report  # registered by the decorators
