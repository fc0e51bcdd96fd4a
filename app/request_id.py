"""X-Request-ID: the caller's own id when it is a short plain token, else a new one; echoed on
every response and written in every log line of the request."""

import re
import uuid

from flask import Response, g, has_request_context, request

HEADER = "X-Request-ID"
# Letters, digits and `-_.` only, so that an id can go into a log line or a header as it is.
ACCEPTED = re.compile(r"[A-Za-z0-9._-]{1,128}")


def assign() -> None:
    """Before the request: take the caller's id or make one."""
    given = request.headers.get(HEADER, "")
    g.request_id = given if ACCEPTED.fullmatch(given) else uuid.uuid4().hex


def current() -> str | None:
    """The id of the request being answered, if any (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def echo(response: Response) -> Response:
    response.headers[HEADER] = current() or ""
    return response
