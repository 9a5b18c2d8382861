"""The outbox channel: each message an .eml file named by its key, re-sent = overwritten."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import shoploop
from shoploop.combine import deliver_message
from shoploop.hooks import HookContext
from shoploop.referral import outbox, render_message, smtp


def _host() -> shoploop.PluginHost:
    host = shoploop.new_host(strict=True)
    host.register(outbox, name="referral_outbox")
    host.register(smtp, name="referral_smtp")
    return host


def test_outbox_writes_one_eml_per_key_and_smtp_is_not_asked(tmp_path: Path) -> None:
    # SMTP points at a closed port: were it asked, the delivery would fail.
    config = {"referral": {"outbox": {"directory": str(tmp_path / "out")},
                           "smtp": {"port": 1}}}
    context = HookContext(config=config)
    message = render_message("invitation", "de", to="anna@example.org",
                             idempotency_key="invitation-I-1", code="FRIEND-ABCDEFGH",
                             offer="10 %", landing="http://x/r/FRIEND-ABCDEFGH")
    host = _host()
    for _ in range(2):  # a message re-sent after a crash replaces its first copy
        plugin, receipt = deliver_message(host, context, message) or ("", None)
        assert plugin == "referral_outbox" and receipt is not None
    files = list((tmp_path / "out").iterdir())
    assert [f.name for f in files] == ["invitation-I-1.eml"] and receipt.reference == str(files[0])
    email = message_from_bytes(files[0].read_bytes(), policy=default)
    assert email["To"] == "anna@example.org" and email["Content-Language"] == "de"
    assert "FRIEND-ABCDEFGH" in email.get_body(("plain",)).get_content()
    assert host.failures == []


def test_without_a_directory_the_outbox_passes(tmp_path: Path) -> None:
    context = HookContext(config={"referral": {"smtp": {"enabled": False}}})
    message = render_message("thank_you", "en", to="a@example.org", idempotency_key="thanks-1",
                             reward="binoculars")
    assert deliver_message(_host(), context, message) is None


@settings(max_examples=30, deadline=None)
@given(key=st.text(min_size=8, max_size=60))
def test_any_key_becomes_a_file_inside_the_outbox(tmp_path_factory, key: str) -> None:
    directory = tmp_path_factory.mktemp("outbox")
    path = outbox.outbox_path(directory, key)
    assert path.parent == directory and path.name.endswith(".eml")
    assert path.name == outbox.outbox_path(directory, key).name  # stable: same key, same file
