"""A message channel without a mail server: each message as an ``.eml`` file in a folder
(``[referral.outbox] directory``).

For previews (open the file in any mail program), for tests and for ``make demo``, which must
run without credentials or services. An ordinary plugin (entry point ``referral_outbox``),
asked before the SMTP channel (that one is ``trylast``) and silent while no directory is set.
The file is named after the message's idempotency key, so a message re-sent after a crash
between "sent" and "recorded" overwrites its first copy instead of adding a second.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from shoploop.hooks import HookContext, Message, MessageReceipt, hookimpl

from ._email import build_email
from ._settings import referral_settings_from

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def outbox_path(directory: Path, idempotency_key: str) -> Path:
    """Where the message with this key is written (the key, made safe as a file name)."""
    return directory / f"{_UNSAFE.sub('_', idempotency_key)}.eml"


@hookimpl
def message_delivery(context: HookContext, message: Message) -> MessageReceipt | None:
    outbox = referral_settings_from(context.config).outbox
    if outbox.directory is None:
        return None
    directory = Path(outbox.directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = outbox_path(directory, message.idempotency_key)
    # Written beside and renamed: a reader (or a crash) never sees half a message.
    partial = target.with_suffix(".eml.partial")
    partial.write_bytes(bytes(build_email(message, outbox.sender)))
    os.replace(partial, target)
    return MessageReceipt(channel="outbox", reference=str(target))
