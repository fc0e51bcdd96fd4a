"""The OpenAPI document of the HTTP API, generated from its schemas once per app."""

from flask import Flask

EXTENSION = "pd_openapi"


def served_document(app: Flask) -> dict:
    """The app's OpenAPI document, built on first use and kept."""
    if EXTENSION not in app.extensions:
        from app.openapi.document import build

        app.extensions[EXTENSION] = build(
            int(app.config["PD_MAX_PAGE_SIZE"]), geocoding=bool(app.config.get("PD_GEOCODER"))
        )
    return app.extensions[EXTENSION]
