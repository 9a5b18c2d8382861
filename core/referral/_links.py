"""Signed, expiring survey links: ``<base_url>/survey/<token>``, the token
``<survey id>.<expiry (unix seconds)>.<HMAC-SHA256>`` under the ``secret_env`` secret. A forged
or expired token is refused with :class:`LinkError`; the survey page (``shoploop serve``)
calls :func:`verify_survey_token` before it shows or takes anything."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from shoploop.hooks import ConfigError, ShoploopError

from ._settings import ReferralSettings


class LinkError(ShoploopError):
    """A survey link that is forged, malformed or expired."""

    error_code = "link_invalid"
    exit_code = 2


class LinkExpiredError(LinkError):
    """A genuine survey link past its expiry (the survey page answers 410 Gone, not 403)."""

    error_code = "link_expired"


def link_secret(settings: ReferralSettings, environ: Mapping[str, str] | None = None) -> bytes:
    value = (environ if environ is not None else os.environ).get(settings.secret_env, "")
    if len(value) < 16:
        raise ConfigError(f"the link-signing secret {settings.secret_env} is not set (or "
                          "shorter than 16 characters)", key="referral.secret_env",
                          remedy=f"export {settings.secret_env} with a random value of 32 "
                                 "characters or more")
    return value.encode()


def _mac(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def survey_token(secret: bytes, survey_id: str, expires_at: datetime) -> str:
    payload = f"{survey_id}.{int(expires_at.timestamp())}"
    return f"{payload}.{_mac(secret, payload)}"


def survey_link(settings: ReferralSettings, secret: bytes, survey_id: str,
                now: datetime) -> str:
    expires = now + timedelta(days=settings.link_valid_days)
    return f"{settings.base_url.rstrip('/')}/survey/{survey_token(secret, survey_id, expires)}"


def verify_survey_token(secret: bytes, token: str, now: datetime) -> str:
    """The survey id of a valid token; :class:`LinkError` for a forged or expired one."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise LinkError("this survey link is malformed", remedy="use the link from the e-mail")
    survey_id, expiry, mac = parts
    if not hmac.compare_digest(mac, _mac(secret, f"{survey_id}.{expiry}")):
        raise LinkError("this survey link is not valid", remedy="use the link from the e-mail")
    if datetime.fromtimestamp(int(expiry), UTC) < now:
        raise LinkExpiredError("this survey link has expired",
                        remedy="the survey is closed; thank you for your time")
    return survey_id
