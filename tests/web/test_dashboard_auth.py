"""Passwords, session cookies, the login rate limit and ``shoploop web hash-password``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shoploop._config import parse_config
from shoploop._plugins import PluginHost
from shoploop.hooks import ConfigError
from shoploop.web._passwords import hash_password, parse_hash, verify_password
from shoploop.web._sessions import LoginLimiter, Session, decode_session, encode_session

SECRET = "k" * 40


@pytest.fixture(scope="module")
def host() -> PluginHost:
    """One plugin host for the module's config cases (loading plugins costs per case)."""
    from shoploop import load_plugins

    return load_plugins(strict=True)


CHEAP = {"log2_n": 10, "parallelism": 1}
"""The cheapest cost the config accepts: the property below hashes many passwords."""


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_a_hash_verifies_its_password_only(password: str) -> None:
    hashed = hash_password(password, **CHEAP)
    assert verify_password(password, hashed)
    assert not verify_password(password + "x", hashed)
    assert hashed.startswith("scrypt$ln=10,r=8,p=1$") and hashed.count("$") == 3
    assert hash_password(password, **CHEAP) != hashed  # a new salt each time


@pytest.mark.parametrize("bad", ["", "secret", "scrypt$ln=14,r=8,p=5$AAAA", "md5$x$y$z",
                                 "scrypt$ln=40,r=8,p=5$AAAAAAAA$" + "A" * 43,
                                 "scrypt$ln=4,r=8,p=5$AAAAAAAA$" + "A" * 43,
                                 "scrypt$ln=14,r=8$AAAAAAAA$" + "A" * 43])
def test_a_plain_password_or_broken_hash_in_the_config_is_refused(
        bad: str, host: PluginHost, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"web": {"users": {"alice": bad}}}, host.connectors,
                     file=str(tmp_path / "shoploop.toml"), base_dir=tmp_path)
    message = str(caught.value)
    assert "alice" in message and "shoploop web hash-password" in message
    if bad:
        assert bad not in message  # a password pasted by mistake is not echoed


def test_the_session_cookie_is_signed_and_expires() -> None:
    session = Session.for_user("alice", now=1_000_000.0)
    cookie = encode_session(session, SECRET)
    assert decode_session(cookie, SECRET, now=1_000_100.0, max_age=3600) == session
    assert decode_session(cookie, "other" * 8, now=1_000_100.0, max_age=3600) is None
    assert decode_session(cookie, SECRET, now=1_000_000.0 + 3601, max_age=3600) is None
    body, signature = cookie.split(".")
    forged = encode_session(Session("mallory", session.csrf, session.issued), SECRET)
    assert decode_session(f"{forged.split('.')[0]}.{signature}", SECRET, now=1_000_100.0,
                          max_age=3600) is None
    for broken in ("", "x", "a.b.c", f"{body}.", f"{body}x.{signature}"):
        assert decode_session(broken, SECRET, now=1_000_100.0, max_age=3600) is None
    assert session.csrf_matches(session.csrf)
    assert not session.csrf_matches(session.csrf[:-1]) and not session.csrf_matches(None)


def test_the_login_limit_counts_failures_per_name_and_address_within_the_window() -> None:
    now = [0.0]
    limit = LoginLimiter(attempts=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert limit.blocked_for("alice", "10.0.0.1") == 0
        limit.failed("Alice", "10.0.0.1")
    assert limit.blocked_for("alice", "10.0.0.1") == pytest.approx(60)
    assert limit.blocked_for("alice", "10.0.0.2") == 0  # another address
    assert limit.blocked_for("bob", "10.0.0.1") == 0  # another name
    now[0] = 60.5
    assert limit.blocked_for("alice", "10.0.0.1") == 0  # the window passed
    limit.failed("alice", "10.0.0.1")
    limit.succeeded("alice", "10.0.0.1")
    assert limit.blocked_for("alice", "10.0.0.1") == 0


def _cli(args: list[str], stdin: str) -> Any:
    import shoploop
    from shoploop.cli._app import build_app

    return CliRunner().invoke(build_app(shoploop.new_host()), args, input=stdin)


def test_hash_password_reads_stdin_and_prints_a_line_for_the_config() -> None:
    done = _cli(["web", "hash-password", "--user", "alice"], "correct horse\n")
    assert done.exit_code == 0, done.output
    line = done.stdout.strip()
    match = re.fullmatch(r'alice = "(scrypt\$[^"]+)"', line)
    assert match, line
    assert match.group(1).startswith("scrypt$ln=14,r=8,p=5$")  # the recommended cost
    parse_hash(match.group(1))
    assert verify_password("correct horse", match.group(1))
    assert "correct horse" not in done.output


def test_hash_password_refuses_an_empty_password_and_takes_none_from_argv() -> None:
    done = _cli(["web", "hash-password"], "\n")
    assert done.exit_code == 1 and "empty" in done.output
    assert _cli(["web", "hash-password", "secret"], "x\n").exit_code == 2  # no such argument
