"""Rate limits on the public endpoints (Flask-Limiter), keyed by client address."""

from flask import Blueprint, Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.errors import envelope


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["PD_RATE_LIMIT_STORAGE"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(
        get_remote_address,
        app=app,
        default_limits=[],
        on_breach=lambda limit: envelope(
            429, "rate_limited", f"too many requests: {limit.limit}; slow down and retry"
        ),
    )
    app.extensions["pd_limiter"] = limiter


def limit_public(app: Flask, blueprint: Blueprint) -> None:
    limiter: Limiter = app.extensions["pd_limiter"]
    limiter.limit(lambda: app.config["PD_RATE_LIMIT"])(blueprint)
