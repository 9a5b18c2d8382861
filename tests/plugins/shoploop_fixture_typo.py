"""A plugin with a misspelled hook name (customer_attribute instead of customer_attributes)."""

from shoploop.hooks import hookimpl


@hookimpl
def customer_attribute(context, profile):  # type: ignore[no-untyped-def]
    return {"never": "called"}
