"""A plugin whose hook implementation raises at call time."""

from shoploop.hooks import hookimpl


@hookimpl
def customer_attributes(context, profile):  # type: ignore[no-untyped-def]
    raise ZeroDivisionError("segment size is zero")
