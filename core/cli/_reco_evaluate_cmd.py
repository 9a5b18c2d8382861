"""``shoploop reco evaluate``: the offline evaluation of the recommendation engine
(``shoploop.reco.evaluate``; docs/recommendations.md, "Evaluation").

Reads the store, writes nothing. A table per protocol on the terminal, or one JSON document
with ``--json``. Exit code 0 whether or not the engine beats the baselines: the figures are
the answer, not a pass/fail.
"""

from __future__ import annotations

from typing import Any

import typer

from ._state import State, console, print_json
from ._tables import ReadableTable

_METRICS = {
    "next_basket": (("recall", "Recall"), ("ndcg", "NDCG"), ("hit_rate", "HR"),
                    ("repeat_recall", "repeat R"), ("explore_recall", "explore R")),
    "in_basket": (("hit_rate", "HR"), ("recall", "Recall"), ("ndcg", "NDCG")),
}
_TITLES = {"next_basket": "next basket (the customer's last basket held out)",
           "in_basket": "in basket (one anchor, the rest of its basket as truth)"}


def print_evaluation(report: dict[str, Any]) -> None:
    """The evaluation's tables and its verdict on the two goals (also in ``shoploop demo``)."""
    k = report["k"]
    split = report["split"]
    console.print(f"reco evaluate · {split['orders']:,} orders, {split['customers']:,} "
                  f"customers, {split['products']:,} products · model fitted on "
                  f"{split['training_orders']:,} orders · seed {report['seed']}",
                  soft_wrap=True)
    for protocol, metrics in _METRICS.items():
        part = report[protocol]
        table = ReadableTable(
            f"{_TITLES[protocol]} · {part['evaluated']:,} of {part['cases']:,} baskets",
            [("recommender", "left"), ("kind", "left"),
             *((f"{label}@{k}", "right") for _, label in metrics), ("answered", "right")])
        for row in part["results"]:
            table.add_row(row["recommender"], row["kind"],
                          *(f"{row[name]:.4f}" if name in row else "-" for name, _ in metrics),
                          f"{row['answered']:,}")
        console.print(table)
    def verdict(met: bool | None) -> str:
        return "no held-out baskets" if met is None else "met" if met else "NOT met"

    goals = report["goals"]
    nb, ib = goals["next_basket_recall"], goals["in_basket_hit_rate"]
    console.print(f"next basket: blend Recall@{k} {nb['blend']:.4f} (without rules "
                  f"{nb['blend_without_rules']:.4f}) vs purchase frequency "
                  f"{nb['purchase_frequency']:.4f} — {verdict(nb['met'])}",
                  soft_wrap=True)
    console.print(f"in basket: blend HR@{k} {ib['blend']:.4f} (without rules "
                  f"{ib['blend_without_rules']:.4f}) vs best baseline "
                  f"({ib['best_baseline']}) {ib['baseline']:.4f} — "
                  f"{verdict(ib['met'])}", soft_wrap=True)


def register_evaluate(reco: typer.Typer) -> None:
    @reco.command("evaluate")
    def evaluate(
        ctx: typer.Context,
        k: int = typer.Option(10, "--k", min=1, max=1000, help="Cut-off of the metrics."),
        sample: int = typer.Option(2000, "--sample", min=1,
                                   help="Held-out baskets evaluated per protocol at most (a "
                                        "seeded sample when there are more)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the sample and the anchors."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """Evaluate the strategies and their blend offline against baselines: each
        customer's last basket held out (next basket), one product of a basket as the
        anchor for the rest (in basket). Reads the store; writes nothing."""
        from datetime import UTC, datetime

        from shoploop.reco import evaluate as run_evaluation
        from shoploop.store import Store

        state: State = ctx.obj
        config = state.config()
        with Store(config.store_url) as store:
            report = run_evaluation(state.host, store, config.reco,
                                    lambda: datetime.now(UTC), k=k, sample=sample, seed=seed)
        if as_json:
            print_json(report)
        else:
            print_evaluation(report)
