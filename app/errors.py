"""One JSON error envelope for the whole API: {"error": {status, code, message, fields?}}."""

import logging

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.engines.base import EngineUnavailable
from app.validation_messages import flatten_messages

log = logging.getLogger(__name__)


class APIError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def envelope(status: int, code: str, message: str, fields: dict | None = None):
    if request.path == "/fhir" or request.path.startswith("/fhir/"):
        # FHIR clients read errors as an OperationOutcome, whatever went wrong.
        from app.fhir.outcome import FhirError, error_response

        return error_response(FhirError(status, message))
    error = {"status": status, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    response = jsonify({"error": error})
    response.status_code = status
    return response


def register(app: Flask) -> None:
    @app.errorhandler(APIError)
    def api_error(exc: APIError):
        return envelope(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        fields = flatten_messages(exc.normalized_messages())
        names = ", ".join(sorted(fields))
        return envelope(400, "invalid_parameter", f"invalid value for: {names}", fields)

    @app.errorhandler(EngineUnavailable)
    def engine_unavailable(exc: EngineUnavailable):
        log.warning("engine unavailable: %s (%s)", exc, exc.__cause__)
        return envelope(503, "engine_unavailable", f"{exc}; try again soon")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 429:
            return envelope(
                429, "rate_limited", f"too many requests ({exc.description}); retry later"
            )
        code = (exc.name or "error").lower().replace(" ", "_")
        response = envelope(exc.code or 500, code, exc.description or exc.name)
        # What the exception says in headers (a 405's Allow) stays with the new body.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers.setdefault(name, value)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return envelope(500, "internal_error", "something went wrong on our side")
