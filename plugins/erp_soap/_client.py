"""One zeep client per connection, built lazily and reused, and the translation of everything
zeep and requests raise into the adapter's domain errors.

zeep's ``operation_timeout`` defaults to no timeout at all (a hung ERP would hang the job), so it
is always set; ``timeout`` only bounds loading the WSDL. Parsing a WSDL is the expensive part of
a zeep client (zeep's cache stores downloaded files, not the parsed schema), hence one client
per connection for the life of the process — ``WSDL_LOADS`` counts the builds so tests can hold
us to it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

from shoploop.hooks import ConfigError, ConnectorError, UnreachableError, WrongEndpointError
from shoploop.retrying import announce_retry

from ._config import ErpSoapConfig
from ._errors import (
    ConcurrencyFaultError,
    HtmlErrorPageError,
    SoapAuthError,
    SoapFaultError,
    SoapRequestRejectedError,
    SoapServerError,
    SoapThrottledError,
    SoapTimeoutError,
)

T = TypeVar("T")
WSDL_LOADS = 0
"""How many zeep clients (WSDL parses) this process built — one per connection is the rule."""
_loads_lock = threading.Lock()
_TITLE = re.compile(rb"<title>(.*?)</title>", re.I | re.S)
# zeep's own signature check (zeep/xsd/valueobjects.py, ``_process_signature``): a keyword the
# operation's XSD does not declare, raised before anything is serialised.
_UNKNOWN_ELEMENT = re.compile(r"(?P<where>\S+)\(\) got an unexpected keyword argument "
                              r"'(?P<element>[^']+)'\. Signature: `(?P<signature>.*)`", re.S)
_AUTH_FAULT = re.compile(r"(?i)failedauthentication|not authori[sz]ed|authentication failed|"
                         r"invalid (user|credentials)|access denied")


def build_client(name: str, config: ErpSoapConfig, password: str | None,
                 wsdl: str | None = None) -> zeep.Client:
    """Load and parse the WSDL once, with the connection's authentication and timeouts."""
    global WSDL_LOADS
    session = requests.Session()
    wsse = None
    if config.auth == "basic":
        session.auth = (config.username or "", password or "")
    elif config.auth == "ntlm":
        try:
            from requests_ntlm import HttpNtlmAuth
        except ImportError as exc:
            raise ConfigError("auth = \"ntlm\" needs the requests-ntlm package",
                              key=f"connections.{name}.auth",
                              remedy="pip install requests-ntlm, or use basic or wsse") from exc
        session.auth = HttpNtlmAuth(config.username, password)
    elif config.auth == "wsse":
        from zeep.wsse.username import UsernameToken

        wsse = UsernameToken(config.username, password)  # type: ignore[no-untyped-call]
    transport = Transport(session=session, timeout=config.timeout,
                          operation_timeout=config.operation_timeout)  # type: ignore[no-untyped-call]
    settings = zeep.Settings(xml_huge_tree=True)
    client = guarded(name, "load WSDL", lambda: zeep.Client(  # type: ignore[no-untyped-call]
        wsdl or config.wsdl, transport=transport, wsse=wsse, settings=settings))
    with _loads_lock:
        WSDL_LOADS += 1
    return client


def guarded(connection: str, operation: str, call: Callable[[], T],
            concurrency: re.Pattern[str] | None = None) -> T:
    """Run ``call`` and translate its failures into domain errors naming connection and
    operation."""
    where = {"connection": connection, "operation": operation}
    try:
        return call()
    except zeep.exceptions.Fault as fault:
        code = str(fault.code or "")
        text = str(fault.message or "").strip()
        detail = fault.detail if isinstance(fault.detail, bytes) else b""
        if not code and b"<html" in detail[:500].lower():
            # zeep parses a well-formed (X)HTML error page and, finding no soap:Fault in it,
            # raises Fault("Unknown fault occured", detail=<the page>) (zeep
            # wsdl/bindings/soap.py, process_error); a malformed page is a TransportError.
            raise HtmlErrorPageError("HTTP 500 with an HTML error page instead of a SOAP "
                                     f"answer{_title(detail)}", **where) from None
        if concurrency is not None and concurrency.search(text):
            raise ConcurrencyFaultError(f"concurrency fault: {text}", **where) from None
        if _AUTH_FAULT.search(code) or _AUTH_FAULT.search(text):
            raise SoapAuthError(f"authentication refused by a SOAP fault ({code}): {text}",
                                **where) from None
        raise SoapFaultError(f"SOAP fault {code}: {text}", code=code, fault=text,
                             **where) from None
    except zeep.exceptions.TransportError as exc:
        raise _http_error(exc.status_code, exc.content, **where) from None
    except zeep.exceptions.XMLSyntaxError as exc:
        # A reply that parses as XML but is no SOAP envelope: an XHTML error page.
        content = getattr(exc, "content", None) or b""
        raise HtmlErrorPageError(f"the server answered without a SOAP envelope: {exc}"
                                 f"{_title(content)}", **where) from None
    except requests.Timeout:
        raise SoapTimeoutError("no answer within the configured timeout "
                               "(operation_timeout for calls, timeout for the WSDL)",
                               **where) from None
    except requests.ConnectionError as exc:
        raise UnreachableError(f"cannot connect: {_short(exc)}", **where) from None
    except requests.HTTPError as exc:  # loading the WSDL: zeep calls raise_for_status()
        response = exc.response
        raise _http_error(response.status_code if response is not None else None,
                          response.content if response is not None else b"", **where) from None
    except requests.RequestException as exc:
        raise UnreachableError(f"HTTP request failed: {_short(exc)}", **where) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise UnreachableError(f"cannot read the WSDL file: {exc}", **where) from None
    except zeep.exceptions.LookupError as exc:
        raise ConfigError(f"[{connection}] {operation}: {exc}",
                          remedy="compare the mapping's names with the WSDL "
                                 "(`shoploop config check` lists what it found)") from None
    except zeep.exceptions.ValidationError as exc:
        raise _rejected(exc, **where) from None
    except TypeError as exc:
        if _UNKNOWN_ELEMENT.search(str(exc)) is None:
            raise
        raise _rejected(exc, **where) from None


def _rejected(exc: Exception, *, connection: str, operation: str) -> SoapRequestRejectedError:
    """zeep's client-side refusal as an error that says so: which element, what the WSDL wants,
    and that the ERP never saw the request (it is not the ERP's fault text)."""
    unknown = _UNKNOWN_ELEMENT.search(str(exc))
    if unknown is not None:
        element = unknown["element"]
        what = (f"element {element!r} is not declared in {unknown['where']} (the WSDL declares "
                f"{unknown['signature']})")
    else:
        path = [str(part) for part in getattr(exc, "path", None) or []]
        element = ".".join(path) or "?"
        text = str(getattr(exc, "message", "") or exc)
        if text.startswith("Expected at least") or text.startswith("Missing element"):
            what = f"element {element!r} missing ({text}) — the WSDL requires it"
        else:
            what = f"element {element!r}: {text}"
    return SoapRequestRejectedError(
        f"zeep refused the request before sending it: {what}; this is not an ERP fault, "
        "nothing was sent", connection=connection, operation=operation, element=element)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 300 else text[:300] + "…"


def _title(content: bytes) -> str:
    match = _TITLE.search(content or b"")
    return f" (page title: {match.group(1).decode(errors='replace').strip()!r})" if match else ""


def _http_error(status: int | None, content: bytes | None, *, connection: str,
                operation: str) -> Exception:
    where = {"connection": connection, "operation": operation}
    body = content or b""
    if status in (401, 403):
        return SoapAuthError(f"HTTP {status}: the ERP refused the credentials", **where)
    if status in (429, 503):
        return SoapThrottledError(f"HTTP {status}: the ERP is throttling requests", **where)
    html = b"<html" in body[:500].lower() or b"<!doctype html" in body[:500].lower()
    if html and (status is None or status < 500):
        return WrongEndpointError(
            f"HTTP {status} with an HTML page instead of a SOAP answer{_title(body)}", **where,
            remedy="check `wsdl` (and `endpoint`, if set): they must point at the ERP's SOAP "
                   "web service, not at a web page")
    if html:
        return HtmlErrorPageError(f"HTTP {status} with an HTML error page instead of a SOAP "
                                  f"answer{_title(body)}", **where)
    snippet = body[:200].decode(errors="replace")
    if status is not None and status >= 500:
        return SoapServerError(f"HTTP {status} without a SOAP answer: {snippet!r}", **where)
    return UnreachableError(f"HTTP {status} without a SOAP answer: {snippet!r}", **where)


def with_retries(attempts: int, call: Callable[[], T], *, reads: bool) -> T:
    """Retry throttling (always: the server did not process the call), and for reads also
    dropped connections and HTTP 5xx without a SOAP answer (a write may have happened, so writes
    are not repeated). Waits grow 0.2 s, 0.4 s, … capped at 2 s."""
    for attempt in range(attempts + 1):
        try:
            return call()
        except SoapThrottledError as exc:
            if attempt >= attempts:
                raise
            failed: ConnectorError = exc
        except UnreachableError as exc:
            dropped = not isinstance(exc, SoapTimeoutError | SoapServerError) \
                and "cannot connect" in exc.message and "refused" not in exc.message.lower()
            retryable = reads and (dropped or isinstance(exc, SoapServerError))
            if not retryable or attempt >= attempts:
                raise
            failed = exc
        wait = min(2.0, 0.2 * 2 ** attempt)
        where = f"[{failed.connection}] {failed.operation}: "  # the notice names them itself
        announce_retry(connection=failed.connection, operation=failed.operation,
                       failure=failed.message.removeprefix(where), wait=wait,
                       attempt=attempt + 2, attempts=attempts + 1)
        time.sleep(wait)  # backoff between attempts, not test sync
    raise AssertionError("unreachable")  # pragma: no cover


def dig(value: Any, path: str) -> Any:
    """Follow a dotted path through zeep objects and dicts; None when a part is missing."""
    for part in filter(None, path.split(".")):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


def nest(path: str, value: Any, into: dict[str, Any]) -> dict[str, Any]:
    """Set ``value`` at a dotted parameter path, e.g. ``query.changedSince``."""
    *parents, last = path.split(".")
    target = into
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value
    return into
