"""A Shopify emulator: a real HTTP server on loopback that executes real GraphQL (graphql-core
over an SDL of the Admin API subset shoploop uses) against data from the demo generator or from
the contract's models, with Shopify's cost model and leaky bucket, ``THROTTLED`` answers inside
HTTP 200, faults on demand (429 with ``Retry-After``, 5xx, slow answers, dropped connections)
and webhook delivery signed with the app secret.

    shoploop emulate shopify --port 8701 --seed 1 --customers 1000 --faults 0.05 \\
        --option bucket=200 --option restore_rate=50

In-process (tests, benchmarks)::

    with ShopifyEmulator(EmulatorOptions(customers=0)) as emulator:
        emulator.data.load(customers=[...])
        emulator.url, emulator.stats.snapshot()

``--option`` keys: ``bucket`` (points, default 1000), ``restore_rate`` (points/s, default 100),
``access_token``, ``api_secret`` (signs webhooks), ``shop``, ``scopes`` (comma-separated),
``webhook_url`` (deliveries are POSTed there), ``webhook_repeats`` (extra copies of each
delivery, as Shopify's retries produce), ``bulk_polls`` (how often a bulk operation reports
``RUNNING`` before ``COMPLETED``, default 1), ``today`` (``YYYY-MM-DD``: the day the version
calendar is judged by, default today in UTC).

API versions as Shopify serves them: a request for a stable version past its 12 months of
support is answered by the oldest supported version, and every answer names the version that
served it in ``X-Shopify-API-Version`` (shopify.dev/docs/api/usage/versioning; the header:
help.shopify.com/en/api/versioning/migration-guide). :attr:`ShopifyEmulator.versions` records
``(requested, served)`` per GraphQL request, and ``stats`` counts ``version_fallbacks``.

Faults on demand while it runs: ``POST /_emulator/control?force=429&times=3`` (also 500, 502,
503, slow, drop), ``POST /_emulator/control?drain=1`` (empty bucket: ``THROTTLED`` next) and
``POST /_emulator/control?lose=1`` (the next request is executed — its writes happen — but
answered 502: a lost answer, which a retry must not turn into a second write).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import date
from importlib import resources
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    execute,
    parse,
    validate,
)

from shoploop.emulation import ALL_KINDS, EmulatorServer, FaultPlan, Request, Response
from shoploop.hooks import EmulatorOptions

from .._config import DEFAULT_API_VERSION
from .._versions import served_version, today_utc
from ._bulk import BulkOperations
from ._cost import MAX_QUERY_COST, CostCalculator, LeakyBucket
from ._paging import BULK, SearchError
from ._resolvers import Resolvers
from ._store import ShopData, numeric_id
from ._webhooks import WebhookSender

__all__ = ["ShopifyEmulator", "numeric_id"]

_PATH = re.compile(r"^/admin/api/(\d{4}-(?:01|04|07|10)|unstable)/graphql\.json$")
TOKEN = "shpat_emulator_token"
SECRET = "shpss_emulator_secret"
DEFAULT_SCOPES = "read_customers,write_customers,read_orders,read_all_orders,read_products," \
                 "write_products,read_discounts,write_discounts,read_gift_cards,write_gift_cards"


def load_schema() -> GraphQLSchema:
    sdl = resources.files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8")
    return build_schema(sdl)


class ShopifyEmulator(EmulatorServer):
    """The emulator; an :class:`~shoploop.emulation.EmulatorServer` with a GraphQL handler."""

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        options = options or EmulatorOptions()
        extra = dict(options.extra)
        super().__init__(self._answer, host=options.host, port=options.port,
                         faults=FaultPlan(rate=options.faults, seed=options.seed))
        self.access_token = extra.get("access_token", TOKEN)
        self.api_secret = extra.get("api_secret", SECRET)
        # The shop is reached at host:port — what the connection's `shop` says — so the
        # X-Shopify-Shop-Domain of its webhooks names the same shop (receivers compare them).
        self.shop = extra.get("shop") or f"{self.host}:{self.port}"
        self.today = date.fromisoformat(extra["today"]) if extra.get("today") else None
        self.versions: Counter[tuple[str, str]] = Counter()
        """``(requested, served)`` API versions, one count per GraphQL request."""
        self._versions_lock = threading.Lock()
        self.bucket = LeakyBucket(float(extra.get("bucket", 1000)),
                                  float(extra.get("restore_rate", 100)))
        self.data = ShopData()
        self.webhooks = WebhookSender(self.api_secret, self.shop, extra.get("webhook_url"),
                                      int(extra.get("webhook_repeats", 0)), self.stats)
        self.schema = load_schema()
        self.bulk = BulkOperations(self._bulk_query, lambda: self.url,
                                   polls=int(extra.get("bulk_polls", 1)))
        Resolvers(self.data, self.shop, extra.get("scopes", DEFAULT_SCOPES).split(","),
                  self.webhooks.on_write, self.bulk, self.webhooks).bind(self.schema)
        if options.customers:
            from shoploop.demo_data import DemoMerchant

            merchant = DemoMerchant(seed=options.seed, customers=options.customers)
            self.data.load(products=merchant.iter_products(),
                           customers=merchant.iter_customers(), orders=merchant.iter_orders())

    # -- the Emulator protocol ----------------------------------------------------------------

    def connection_block(self, name: str) -> str:
        return (f'[connections.{name}]\ntype = "shopify"\nshop = "{self.host}:{self.port}"\n'
                'scheme = "http"  # the emulator speaks plain HTTP on loopback\n'
                f'api_version = "{DEFAULT_API_VERSION}"\n'
                'access_token_env = "SHOPLOOP_SHOPIFY_TOKEN"\n'
                'client_secret_env = "SHOPLOOP_SHOPIFY_SECRET"\n')

    def environment(self) -> dict[str, str]:
        return {"SHOPLOOP_SHOPIFY_TOKEN": self.access_token,
                "SHOPLOOP_SHOPIFY_SECRET": self.api_secret}

    def stop(self) -> None:
        self.webhooks.close()
        super().stop()

    def redeem_code(self, code: str) -> None:
        """A checkout that applied the discount ``code``: its ``asyncUsageCount`` goes up
        (the emulator's stand-in for an order using it)."""
        with self.data.lock:
            discount = self.data.discounts[self.data.codes[code.upper()]]["codeDiscount"]
            discount["asyncUsageCount"] = int(discount.get("asyncUsageCount") or 0) + 1

    def spend_gift_card(self, code: str, amount: str) -> None:
        """A checkout that paid ``amount`` with the gift card ``code``: its balance goes down
        (the storefront is not emulated)."""
        from decimal import Decimal

        with self.data.lock:
            card = self.data.gift_cards[self.data.gift_card_codes[code.upper()]]
            left = Decimal(card["balance"]["amount"]) - Decimal(amount)
            card["balance"] = {**card["balance"], "amount": str(max(left, Decimal(0)))}

    def lose_answers(self, times: int = 1) -> None:
        """The next ``times`` GraphQL requests are executed — a mutation's writes happen — and
        then answered with HTTP 502 instead of their result, as when a proxy or the network
        loses the answer (the shared fault plan's lost answers). Clients retry a 502; the retry
        must not write twice."""
        self.faults.lose(times)

    # -- HTTP ---------------------------------------------------------------------------------

    def _answer(self, request: Request) -> Response:
        if request.path == "/admin/oauth/access_token" and request.method == "POST":
            return self._token(request)
        if request.path == "/_emulator/control" and request.method == "POST":
            return self._control(request)
        if request.path.startswith("/_bulk/") and request.method == "GET":
            # Shopify serves results from a signed storage URL: no access token there.
            body = self.bulk.files.get(request.path.rsplit("/", 1)[-1])
            if body is None:
                return Response.json({"errors": "Not Found"}, 404)
            return Response(200, body, {"Content-Type": "application/jsonl"})
        match = _PATH.match(request.path)
        if match is None or request.method != "POST":
            return Response.json({"errors": "Not Found"}, 404)
        if request.headers.get("x-shopify-access-token") != self.access_token:
            return Response.json({"errors": "[API] Invalid API key or access token "
                                            "(unrecognized login or wrong password)"}, 401)
        served = self._serve_version(match.group(1))
        header = {"X-Shopify-API-Version": served}
        try:
            body = request.json()
            query, variables = body["query"], body.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return Response.json({"errors": "Bad Request: body must be JSON with a query"}, 400,
                                 header)
        return Response.json(self.run(query, variables, body.get("operationName")),
                             headers=header)

    def _serve_version(self, requested: str) -> str:
        """The version that answers a request for ``requested``: an expired one falls
        forward to the oldest supported version, silently but for the header."""
        served = served_version(requested, self.today or today_utc())
        with self._versions_lock:
            self.versions[(requested, served)] += 1
        if served != requested:
            self.stats.incr("version_fallbacks")
        return served

    def _control(self, request: Request) -> Response:
        """Faults on demand for a running emulator: ``?force=429&times=3`` queues exact faults
        (429, 500, 502, 503, slow, drop) for the next requests; ``?drain=1`` empties the cost
        bucket, so the next queries are answered ``THROTTLED``; ``?lose=N`` executes the next N
        GraphQL requests but answers them 502 (:meth:`lose_answers`)."""
        kind, times = request.arg("force"), int(request.arg("times", "1") or 1)
        if kind is not None:
            if kind not in ALL_KINDS:
                return Response.json({"error": f"unknown fault {kind!r}"}, 400)
            self.faults.force(kind, times)
        lose = request.arg("lose")
        if lose:
            try:
                self.lose_answers(int(lose))
            except ValueError:
                return Response.json({"error": f"lose must be a number, not {lose!r}"}, 400)
        if request.arg("drain"):
            self.bucket.take(self.bucket.status()["currentlyAvailable"])
        return Response.json({"forced": kind, "times": times if kind else 0,
                              "lose": self.faults.lose_pending, "bucket": self.bucket.status()})

    def _token(self, request: Request) -> Response:
        """The client-credentials grant: client secret in, short-lived access token out."""
        try:
            body = request.json()
        except ValueError:
            body = {key: values[0] for key, values in request.query.items()}
        if body.get("grant_type") != "client_credentials" or \
                body.get("client_secret") != self.api_secret:
            return Response.json({"error": "invalid_client"}, 401)
        return Response.json({"access_token": self.access_token, "scope": DEFAULT_SCOPES,
                              "expires_in": 86399})

    def run(self, query: str, variables: dict[str, Any],
            operation_name: str | None = None) -> dict[str, Any]:
        """Execute one GraphQL request with cost accounting; the JSON body of the answer."""
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        problems = validate(self.schema, document)
        if problems:
            return {"errors": [p.formatted for p in problems]}
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        operation = next((o for o in operations if operation_name is None
                          or (o.name and o.name.value == operation_name)), operations[0])
        calculator = CostCalculator(self.schema, operation, fragments, variables)
        try:
            requested = calculator.cost()
        except (TypeError, ValueError) as exc:
            return {"errors": [{"message": f"cost calculation failed: {exc}"}]}
        if requested > MAX_QUERY_COST:
            return {"errors": [{"message": f"Query cost is {requested}, which exceeds the "
                                           f"single query max cost limit ({MAX_QUERY_COST}).",
                                "extensions": {"code": "MAX_COST_EXCEEDED",
                                               "cost": requested,
                                               "maxCost": MAX_QUERY_COST}}],
                    "extensions": self._cost(requested, None)}
        if not self.bucket.take(requested):
            self.stats.incr("throttled")
            self.stats.incr("graphql_throttled")
            # THROTTLED comes back inside HTTP 200 with the bucket's state, not as a 429.
            return {"errors": [{"message": "Throttled",
                                "extensions": {"code": "THROTTLED",
                                               "documentation": "https://shopify.dev/api/"
                                                                "usage/rate-limits"}}],
                    "extensions": self._cost(requested, None)}
        if operation.operation.value == "mutation":
            self.stats.incr("writes")
            for selection in operation.selection_set.selections:  # calls.metafieldsSet, …
                if isinstance(selection, FieldNode):
                    self.stats.incr(f"calls.{selection.name.value}")
        result = execute(self.schema, document, variable_values=variables,
                         operation_name=operation_name)
        assert isinstance(result, ExecutionResult)  # every resolver is synchronous
        actual = min(requested, calculator.cost(result.data or {}))
        self.bucket.refund(requested - actual)
        self.stats.incr("cost", actual)
        # per root field too ("cost.customers", "cost.nodes", "cost.metafieldsSet", …): the
        # bench tells the import's reads, the writes' reads and the writes apart
        root = next((s.name.value for s in operation.selection_set.selections
                     if isinstance(s, FieldNode)), "other")
        self.stats.incr(f"cost.{root}", actual)
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_formatted(e) for e in result.errors]
        answer["extensions"] = self._cost(requested, actual)
        return answer

    def _bulk_query(self, query: str) -> dict[str, Any]:
        """Run a bulk operation's query over every record (connections unpaged, no cost)."""
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        problems = validate(self.schema, document)
        if problems:
            return {"errors": [p.formatted for p in problems]}
        token = BULK.set(True)
        try:
            result = execute(self.schema, document)
        finally:
            BULK.reset(token)
        assert isinstance(result, ExecutionResult)
        if result.errors:
            return {"errors": [e.formatted for e in result.errors]}
        return {"data": result.data}

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                         "throttleStatus": self.bucket.status()}}


def _formatted(error: GraphQLError) -> dict[str, Any]:
    formatted = dict(error.formatted)
    if isinstance(error.original_error, SearchError):
        formatted.setdefault("extensions", {"code": "BAD_REQUEST"})
    return formatted
