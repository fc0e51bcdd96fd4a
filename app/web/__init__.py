"""The public physician-finder page: server-rendered HTML at `/`, English and Spanish."""

from flask import Flask

from app.web import i18n
from app.web.views import bp, template_helpers


def init_app(app: Flask) -> None:
    """Register the page, its translations and its response headers on the app."""
    i18n.init_app(app)
    app.jinja_env.globals.update(template_helpers())
    app.register_blueprint(bp)
