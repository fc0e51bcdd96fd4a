"""FHIR errors: an OperationOutcome with the HTTP status it travels with."""

from flask import Response, json

FHIR_JSON = "application/fhir+json"

# Issue codes (http://hl7.org/fhir/issue-type) by the status they go with.
ISSUE_CODES = {
    400: "invalid",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    410: "deleted",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    500: "exception",
    503: "transient",
}


class FhirError(Exception):
    """An error a FHIR request ends with; `parameter` names what was wrong, when one thing was."""

    def __init__(self, status: int, message: str, parameter: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter


def operation_outcome(
    message: str, *, status: int = 400, severity: str = "error", expression: str | None = None
) -> dict:
    issue = {
        "severity": severity,
        "code": ISSUE_CODES.get(status, "processing"),
        "diagnostics": message,
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=FHIR_JSON, headers=headers
    )
    response.headers["Content-Type"] = f"{FHIR_JSON}; charset=utf-8"
    return response


def error_response(error: FhirError, headers: dict | None = None) -> Response:
    body = operation_outcome(error.message, status=error.status, expression=error.parameter)
    return fhir_response(body, error.status, headers)
