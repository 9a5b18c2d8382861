"""The built-in *spare parts and services due* strategy (on ``recommendation_candidates``).

For a request naming a customer: their installed equipment (the ERP's installed base, through
the sync's identity bindings for their shop accounts) whose service is due — the days since
the last service (else the installation) reached ``(1 - service_window)`` of its service
interval, and not yet ``service_lapsed_after`` intervals — and the spare parts and services
that fit it (``_installed``). Score: ``service_weight`` times the share of the interval passed
(at most 1). The time is ``context.now``.
"""

from __future__ import annotations

from typing import Any

from shoploop.hooks import HookContext, Recommendation, RecommendationRequest, hookimpl

from ._days import day_of

STRATEGY = "service_due"


@hookimpl
def recommendation_candidates(context: HookContext, request: RecommendationRequest,
                              model: Any) -> list[Recommendation] | None:
    # Imported here: loading plugins (every `shoploop` call) must not import numpy.
    from ._installed import reasons
    from ._model import Model

    if not isinstance(model, Model) or model.installed_base is None or \
            request.customer_id is None:
        return None
    base = model.installed_base
    owned = base.by_external.get(request.connection, {}).get(request.customer_id, ())
    settings = model.settings
    window = float(settings.get("service_window", 0.1))
    lapsed = float(settings.get("service_lapsed_after", 3.0))
    weight = float(settings.get("service_weight", 0.9))
    today = day_of(context.now)
    best: dict[str, Recommendation] = {}
    for number in owned:
        machine, interval = int(base.product[number]), int(base.interval_days[number])
        since = today - int(base.since_day[number])
        if machine < 0 or interval <= 0 or not (
                (1 - window) * interval <= since <= lapsed * interval):
            continue
        score = weight * min(since / interval, 1.0)
        serviced = bool(base.serviced[number])
        texts = reasons(model.product_name(machine, request.connection), since, interval,
                        serviced=serviced)
        for part in base.parts[base.parts_of(machine)].tolist():
            product_id = model.product_id(part, request.connection)
            if product_id is None or (product_id in best and best[product_id].score >= score):
                continue
            best[product_id] = Recommendation(
                product_id=product_id, score=score,
                kind="service" if base.part_is_service[part] else "spare_part",
                strategy=STRATEGY, reason=texts["en"], reasons=texts,
                evidence={"equipment_product": model.product_keys[machine],
                          "days_since": since, "since": "service" if serviced else "install",
                          "service_interval_days": interval})
    return sorted(best.values(), key=lambda r: (-r.score, r.product_id))
