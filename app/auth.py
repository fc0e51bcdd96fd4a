"""Staff API keys with roles, from PD_API_KEYS: "name:role:key" entries, comma-separated.

The key part is the key itself, or `sha256:<64 hex digits>`: the SHA-256 of a key, so that the
configuration never holds the key (`provider-directory new-key` makes one). A fast unsalted hash is
enough because the keys it is meant for are 32 random bytes: nothing to guess, no dictionary to
precompute, and a slow hash would cost every request a slow hash per configured key.
"""

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from flask import current_app, g, request

from app.audit.record import begin_request
from app.errors import APIError

# monitoring: reads /metrics only, so that the token a Prometheus server keeps opens nothing else.
ROLES = ("admin", "importer", "enrollment", "monitoring")
HASH_PREFIX = "sha256:"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
MIN_PLAIN_KEY = 16
# new-key's keys: 32 random bytes, URL-safe base64 (never ':' or ',', which PD_API_KEYS splits on).
NEW_KEY_BYTES = 32


@dataclass(frozen=True)
class Staff:
    name: str
    role: str


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _stored_digest(name: str, key: str) -> bytes:
    """The digest an entry's key part stands for; a plain key is hashed here, once."""
    if key.startswith(HASH_PREFIX):
        hexdigest = key.removeprefix(HASH_PREFIX)
        if not SHA256_HEX.fullmatch(hexdigest):
            raise ValueError(
                f"PD_API_KEYS: the key for {name!r} starts with {HASH_PREFIX!r} but is not "
                "64 lowercase hex digits after it"
            )
        return bytes.fromhex(hexdigest)
    if len(key) < MIN_PLAIN_KEY:
        raise ValueError(
            f"PD_API_KEYS: the key for {name!r} is shorter than {MIN_PLAIN_KEY} characters"
        )
    return key_digest(key)


def parse_keys(spec: str | None) -> list[tuple[bytes, Staff]]:
    """Each entry as (SHA-256 digest of its key, who holds it)."""
    keys = []
    for entry in (spec or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":", 2)
        if len(parts) != 3 or not parts[0]:
            raise ValueError("PD_API_KEYS: each entry is name:role:key")
        name, role, key = parts
        if role not in ROLES:
            raise ValueError(f"PD_API_KEYS: unknown role {role!r} for {name!r}; roles: {ROLES}")
        keys.append((_stored_digest(name, key), Staff(name, role)))
    return keys


def new_key(name: str, role: str) -> tuple[str, str]:
    """A new random key and its PD_API_KEYS entry, which holds only the key's hash."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not name or re.search(r"[:,\s]", name):
        raise ValueError("a key's name has no ':', ',' or spaces")
    key = secrets.token_urlsafe(NEW_KEY_BYTES)
    return key, f"{name}:{role}:{HASH_PREFIX}{key_digest(key).hex()}"


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def authenticate() -> Staff | None:
    presented = _presented_key()
    if not presented:
        return None
    # Only digests are compared, so a presented `sha256:…` is just another key to hash.
    digest = key_digest(presented)
    found = None
    # Compare against every key in constant time, so timing says nothing about which one.
    for stored, staff in current_app.extensions["pd_api_keys"]:
        if hmac.compare_digest(stored, digest):
            found = staff
    return found


def require_role(*roles: str, action: str, every_outcome: bool = True):
    """Only callers with an API key of one of these roles (admins always) get through.

    The request is recorded in the audit log as `action`: every outcome, or with
    `every_outcome=False` (status polls) only refusals.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            begin_request(action, every_outcome)
            staff = authenticate()
            if staff is None:
                raise APIError(
                    401, "unauthorized", "a staff API key is required (Authorization: Bearer <key>)"
                )
            g.staff = staff
            if staff.role != "admin" and staff.role not in roles:
                raise APIError(403, "forbidden", f"this key's role ({staff.role}) may not do this")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def init_app(app) -> None:
    app.extensions["pd_api_keys"] = parse_keys(app.config.get("PD_API_KEYS"))
