"""The public physician-finder page: server-rendered HTML at `/`, English and Spanish."""

from flask import Flask, request

from app.web import i18n
from app.web.views import bp, template_helpers


def _is_static_file() -> bool:
    # Versioned files that browsers keep for a year: counting them would only spend a
    # visitor's search budget on their first visit.
    return request.endpoint == "web.static"


def init_app(app: Flask) -> None:
    """Register the page and its translations on the app (after the rate limiter)."""
    i18n.init_app(app)
    app.jinja_env.globals.update(template_helpers())
    app.register_blueprint(bp)
    app.extensions["pd_limiter"].request_filter(_is_static_file)
