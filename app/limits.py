"""Rate limits on the public endpoints (Flask-Limiter), keyed by client address."""

from flask import Blueprint, Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["PD_RATE_LIMIT_STORAGE"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(get_remote_address, app=app, default_limits=[])
    app.extensions["pd_limiter"] = limiter


def limit_public(app: Flask, blueprint: Blueprint) -> None:
    limiter: Limiter = app.extensions["pd_limiter"]
    # One budget per caller across every public route, not one per route.
    limiter.shared_limit(lambda: app.config["PD_RATE_LIMIT"], scope="public")(blueprint)
