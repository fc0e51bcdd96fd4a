"""Staff API keys with roles, from PD_API_KEYS: "name:role:key" entries, comma-separated."""

import functools
import hmac
from dataclasses import dataclass

from flask import current_app, g, request

from app.errors import APIError

# monitoring: reads /metrics only, so that the token a Prometheus server keeps opens nothing else.
ROLES = ("admin", "importer", "enrollment", "monitoring")


@dataclass(frozen=True)
class Staff:
    name: str
    role: str


def parse_keys(spec: str | None) -> list[tuple[str, Staff]]:
    keys = []
    for entry in (spec or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, role, key = entry.split(":", 2)
        if role not in ROLES:
            raise ValueError(f"PD_API_KEYS: unknown role {role!r} for {name!r}; roles: {ROLES}")
        if len(key) < 16:
            raise ValueError(f"PD_API_KEYS: the key for {name!r} is shorter than 16 characters")
        keys.append((key, Staff(name, role)))
    return keys


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def authenticate() -> Staff | None:
    presented = _presented_key()
    if not presented:
        return None
    found = None
    # Compare against every key in constant time, so timing says nothing about which one.
    for key, staff in current_app.extensions["pd_api_keys"]:
        if hmac.compare_digest(key.encode(), presented.encode()):
            found = staff
    return found


def require_role(*roles: str):
    """Only callers with an API key of one of these roles (admins always) get through."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            staff = authenticate()
            if staff is None:
                raise APIError(
                    401, "unauthorized", "a staff API key is required (Authorization: Bearer <key>)"
                )
            if staff.role != "admin" and staff.role not in roles:
                raise APIError(403, "forbidden", f"this key's role ({staff.role}) may not do this")
            g.staff = staff
            return view(*args, **kwargs)

        return wrapped

    return decorate


def init_app(app) -> None:
    app.extensions["pd_api_keys"] = parse_keys(app.config.get("PD_API_KEYS"))
