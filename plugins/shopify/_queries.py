"""The GraphQL documents the adapter sends. Kept in one place so their cost is easy to judge:
objects cost 1, connections 2 + first * node, mutations 10 (docs/shopify.md, "Limits").

A page is *requested* at its worst-case cost (every connection full) and that much must be in
the bucket when it is sent, although only the actual cost is kept. Pages are therefore sized so
that one request asks for at most ``READ_COST_BUDGET`` points — small enough to leave room in a
1,000-point bucket for the next page while the refund of this one arrives.
"""

from __future__ import annotations

LINE_ITEMS_PAGE = 10
"""Line items fetched with each order; the rest (rare) are paged per order."""

SHOP = """query Shop { shop { name myshopifyDomain currencyCode }
  currentAppInstallation { accessScopes { handle } } }"""

COUNT_LIMIT_SINCE = "2025-07"
"""Counts take ``limit`` (default 10,000; ``null``: uncapped) since 2025-07; before, they took
none (https://shopify.dev/changelog/uncapped-graphql-counts)."""


def count_query(stream: str, api_version: str) -> str:
    """``customersCount`` / ``ordersCount`` / ``productsCount`` (one point), uncapped where the
    API version allows it."""
    uncapped = api_version == "unstable" or api_version >= COUNT_LIMIT_SINCE
    limit = ", limit: null" if uncapped else ""
    return (f"query Count($query: String) {{ {stream}Count(query: $query{limit}) "
            "{ count precision } }")


READ_COST_BUDGET = 400
NODE_COST = {"customers": 26, "products": 26, "orders": 47}
"""Worst-case points per node of the documents below (customers: object + address + e-mail +
phone + metafields(first: 20); orders: + lineItems(first: 10) of 4 points each)."""

_PAGE = "pageInfo { hasNextPage endCursor }"

CUSTOMER_FIELDS = """id legacyResourceId firstName lastName tags createdAt updatedAt
  defaultEmailAddress { emailAddress marketingState }
  defaultPhoneNumber { phoneNumber }
  defaultAddress { company address1 address2 zip city countryCodeV2 }
  metafields(first: 20, namespace: $namespace) { nodes { key type value compareDigest } }"""
"""``defaultEmailAddress`` / ``defaultPhoneNumber`` replace the deprecated ``email``, ``phone``
and ``emailMarketingConsent`` (Admin schema 2026-01: "Use `defaultEmailAddress.emailAddress`
instead", …; https://shopify.dev/changelog/adding-defaultemailaddress-field-to-customer). They
exist from 2025-04; an older configured version is past support and served by a newer one.
``compareDigest`` (a scalar: no points) is kept for the writes that follow the import
(``_seen.py``)."""

CUSTOMERS = f"""query Customers($first: Int!, $after: String, $query: String,
  $namespace: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    {_PAGE} nodes {{ {CUSTOMER_FIELDS} }} }} }}"""

PRODUCT_FIELDS = """id legacyResourceId title status vendor productType tags updatedAt
  tracksInventory totalInventory
  variants(first: 1) { nodes { sku price compareAtPrice inventoryQuantity } }
  metafields(first: 20, namespace: $namespace) { nodes { key type value } }"""

PRODUCTS = f"""query Products($first: Int!, $after: String, $query: String,
  $namespace: String) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    {_PAGE} nodes {{ {PRODUCT_FIELDS} }} }} }}"""

LINE_ITEM_FIELDS = """name sku quantity product { legacyResourceId }
  originalUnitPriceSet { shopMoney { amount currencyCode } }"""

ORDER_FIELDS = f"""id legacyResourceId name email processedAt updatedAt cancelledAt
  currencyCode displayFinancialStatus displayFulfillmentStatus sourceName discountCodes
  customAttributes {{ key value }} customer {{ legacyResourceId }}
  totalRefundedSet {{ shopMoney {{ amount currencyCode }} }} refunds(first: 20) {{ createdAt }}
  lineItems(first: {LINE_ITEMS_PAGE}) {{ {_PAGE} nodes {{ {LINE_ITEM_FIELDS} }} }}"""

ORDERS = f"""query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    {_PAGE} nodes {{ {ORDER_FIELDS} }} }} }}"""

ORDER_LINE_ITEMS = f"""query OrderLineItems($id: ID!, $after: String) {{
  order(id: $id) {{ lineItems(first: 100, after: $after) {{
    {_PAGE} nodes {{ {LINE_ITEM_FIELDS} }} }} }} }}"""

def current_values(keys: int = 25) -> str:
    """Tags and up to ``keys`` metafields (by ``$keys``) of customers or products by id."""
    metafields = (f"metafields(first: {keys}, keys: $keys) {{ nodes {{ namespace key type "
                  "value compareDigest } }")
    return (f"query CurrentValues($ids: [ID!]!, $keys: [String!]) {{ nodes(ids: $ids) {{ "
            f"... on Customer {{ id tags {metafields} }} "
            f"... on Product {{ id tags {metafields} }} }} }}")


METAFIELDS_SET = """mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { key namespace }
    userErrors { field message code elementIndex } } }"""

METAFIELDS_DELETE = """mutation MetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) {
    deletedMetafields { key namespace ownerId } userErrors { field message } } }"""

DISCOUNT_BY_CODE = """query DiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id codeDiscount { ... on DiscountCodeBasic {
    title createdAt codes(first: 1) { nodes { code } } } } } }"""

DISCOUNT_STATE = """query DiscountState($code: String!) {
  codeDiscountNodeByCode(code: $code) { id codeDiscount { ... on DiscountCodeBasic {
    status asyncUsageCount codes(first: 1) { nodes { code } } } } } }"""

DISCOUNT_DEACTIVATE = """mutation DiscountDeactivate($id: ID!) {
  discountCodeDeactivate(id: $id) {
    codeDiscountNode { codeDiscount { ... on DiscountCodeBasic { status endsAt } } }
    userErrors { field message code } } }"""

DISCOUNT_CREATE = """mutation DiscountCreate($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id codeDiscount { ... on DiscountCodeBasic { title createdAt
      codes(first: 1) { nodes { code } } } } }
    userErrors { field message code } } }"""


def tags_mutation(count_add: int, count_remove: int) -> str:
    """One document with aliased ``tagsAdd``/``tagsRemove`` fields: many owners, one request
    (each field still costs 10 points, but the round trips go)."""
    params, fields = [], []
    for prefix, count, mutation in (("a", count_add, "tagsAdd"), ("r", count_remove,
                                                                   "tagsRemove")):
        for i in range(count):
            params.append(f"${prefix}{i}id: ID!, ${prefix}{i}tags: [String!]!")
            fields.append(f"{prefix}{i}: {mutation}(id: ${prefix}{i}id, tags: ${prefix}{i}tags)"
                          " { userErrors { field message } }")
    return f"mutation Tags({', '.join(params)}) {{ {' '.join(fields)} }}"


MUTATION_COST = 10
"""What every mutation field costs, aliased or not (``customerCreate`` included)."""

CUSTOMER_BY_IDENTIFIER_SINCE = "2025-01"
"""The first API version whose reference documents ``customerByIdentifier``; older configured
versions look customers up through the search index instead (``customers(query: "email:…")``)."""


def customers_create(count: int) -> str:
    """``count`` aliased ``customerCreate`` fields in one document (``c0`` … with the inputs
    ``$c0`` …): one request, ``10 * count`` points."""
    params = ", ".join(f"$c{i}: CustomerInput!" for i in range(count))
    fields = " ".join(f"c{i}: customerCreate(input: $c{i}) {{ customer {{ id legacyResourceId }}"
                      " userErrors { field message } }" for i in range(count))
    return f"mutation CustomersCreate({params}) {{ {fields} }}"


def addresses_create(count: int) -> str:
    """``count`` aliased ``customerAddressCreate`` fields (``a0`` … with ``$a0id`` and the
    address ``$a0`` …), each made the default address: ``CustomerInput`` has no addresses in
    the current schema, so a new customer's company arrives this way, 10 points each."""
    params = ", ".join(f"$a{i}id: ID!, $a{i}: MailingAddressInput!" for i in range(count))
    fields = " ".join(f"a{i}: customerAddressCreate(customerId: $a{i}id, address: $a{i}, "
                      "setAsDefault: true) { address { company } userErrors { field message } }"
                      for i in range(count))
    return f"mutation AddressesCreate({params}) {{ {fields} }}"


_LOOKUP_FIELDS = "id legacyResourceId defaultEmailAddress { emailAddress }"


def customers_by_email(count: int, *, by_identifier: bool) -> str:
    """Look up ``count`` customers by e-mail (variables ``$e0`` …), aliased ``e0`` …:
    ``customerByIdentifier(identifier: {emailAddress:})`` (2 points each: the customer and its
    e-mail object), or on API versions before it a search ``customers(first: 2,
    query: "email:…")`` (2 + 2 * 2 = 6 points each)."""
    if by_identifier:
        params = ", ".join(f"$e{i}: String!" for i in range(count))
        fields = " ".join(f"e{i}: customerByIdentifier(identifier: {{emailAddress: $e{i}}}) "
                          f"{{ {_LOOKUP_FIELDS} }}" for i in range(count))
    else:
        params = ", ".join(f"$e{i}: String" for i in range(count))
        fields = " ".join(f"e{i}: customers(first: 2, query: $e{i}) "
                          f"{{ nodes {{ {_LOOKUP_FIELDS} }} }}" for i in range(count))
    return f"query CustomersByEmail({params}) {{ {fields} }}"
