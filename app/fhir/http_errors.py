"""Errors of the FHIR blueprints as OperationOutcome (not the API's JSON envelope)."""

import logging

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from app.engines.base import EngineUnavailable
from app.fhir.outcome import FhirError, error_response

log = logging.getLogger(__name__)


def register_fhir_errors(bp: Blueprint) -> None:
    @bp.errorhandler(FhirError)
    def fhir_error(exc: FhirError):
        return error_response(exc)

    @bp.errorhandler(EngineUnavailable)
    def engine_unavailable(exc: EngineUnavailable):
        log.warning("engine unavailable: %s (%s)", exc, exc.__cause__)
        return error_response(FhirError(503, f"{exc}; try again soon"))

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        response = error_response(FhirError(status, exc.description or exc.name))
        # Keep what the exception says about retrying or allowed methods.
        headers = dict(exc.get_headers())
        for header in ("Retry-After", "Allow"):
            if header in headers:
                response.headers[header] = headers[header]
        return response
