"""Dashboard password hashes: scrypt from the standard library (``hashlib.scrypt``).

Why scrypt and not argon2: both are memory-hard and recommended by OWASP's Password Storage
Cheat Sheet; scrypt ships with Python (OpenSSL), so the dashboard needs no compiled extra
dependency (argon2-cffi) for a handful of operator logins. The cost follows the cheat sheet's
equivalent settings "N=2^14 (16 MiB), r=8, p=5"; a hash carries its parameters, so raising them
later keeps old hashes valid.

Format (one line, safe in TOML): ``scrypt$ln=14,r=8,p=5$<salt, base64>$<key, base64>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

SCHEME = "scrypt"
LOG2_N, BLOCK_SIZE, PARALLELISM = 14, 8, 5
KEY_BYTES, SALT_BYTES = 32, 16
_MAX_LOG2_N = 20
"""Refuse absurd parameters in a configured hash (2^20 · r=8 is 1 GiB per login)."""
MIN_LOG2_N = 10
"""Nor a hash so cheap that a leaked config is a leaked password (2^10: 1 MiB)."""


class PasswordHashError(ValueError):
    """A configured ``[web] users`` value is not a hash this module made."""


@dataclass(frozen=True)
class _Parsed:
    log2_n: int
    r: int
    p: int
    salt: bytes
    key: bytes


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    # scrypt needs 128·r·n bytes (plus a little); OpenSSL's default cap is 32 MiB.
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=128 * r * n + 1_048_576, dklen=KEY_BYTES)


def hash_password(password: str, *, log2_n: int = LOG2_N, parallelism: int = PARALLELISM
                  ) -> str:
    """A new hash of ``password`` with a random salt. The defaults are the recommended cost
    (about 0.1-0.4 s on one core); tests pass a lower one, never below ``MIN_LOG2_N``."""
    if not password:
        raise ValueError("the password is empty")
    if not MIN_LOG2_N <= log2_n <= _MAX_LOG2_N:
        raise ValueError(f"log2_n must be {MIN_LOG2_N}-{_MAX_LOG2_N}")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, log2_n, BLOCK_SIZE, parallelism)
    return f"{SCHEME}$ln={log2_n},r={BLOCK_SIZE},p={parallelism}${_b64(salt)}${_b64(key)}"


def parse_hash(hashed: str) -> _Parsed:
    parts = hashed.split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        raise PasswordHashError("not a scrypt hash (expected scrypt$ln=…,r=…,p=…$salt$key)")
    try:
        params = dict(item.split("=", 1) for item in parts[1].split(","))
        log2_n, r, p = int(params["ln"]), int(params["r"]), int(params["p"])
        salt, key = _unb64(parts[2]), _unb64(parts[3])
    except (ValueError, KeyError):
        raise PasswordHashError("malformed scrypt hash") from None
    if not (MIN_LOG2_N <= log2_n <= _MAX_LOG2_N and 1 <= r <= 32 and 1 <= p <= 16) or not salt \
            or len(key) != KEY_BYTES:
        raise PasswordHashError("scrypt hash with parameters out of range")
    return _Parsed(log2_n, r, p, salt, key)


def verify_password(password: str, hashed: str) -> bool:
    """Does ``password`` match ``hashed``? Constant-time comparison of the derived keys."""
    parsed = parse_hash(hashed)
    candidate = _derive(password, parsed.salt, parsed.log2_n, parsed.r, parsed.p)
    return hmac.compare_digest(candidate, parsed.key)


DUMMY_HASH = f"{SCHEME}$ln={LOG2_N},r={BLOCK_SIZE},p={PARALLELISM}${_b64(b'0' * SALT_BYTES)}$" \
             f"{_b64(b'0' * KEY_BYTES)}"
"""Verified against for an unknown user name, so a login takes as long either way and the
answer's timing does not tell which names exist."""
