"""The longest URL answered (PD_MAX_URL_BYTES): a longer request target is a 414 in the usual
error shape (an OperationOutcome under /fhir). Gunicorn reads request lines of up to 8190 bytes,
enough for every URL up to the limit and some beyond it; a longer line gunicorn refuses itself
(414 in plain text) before the app sees it."""

from urllib.parse import quote

from flask import current_app, request
from werkzeug.exceptions import RequestURITooLarge

# Gunicorn refuses request lines above 8190 bytes whatever it is told (its own 414, in plain text).
GUNICORN_MAX_REQUEST_LINE = 8190
# A request line is the method, a space, the target, a space and the HTTP version.
REQUEST_LINE_EXTRA = len("OPTIONS ") + len(" HTTP/1.1")


def request_line_limit(max_url_bytes: int) -> int:
    """Gunicorn's limit_request_line for URLs up to `max_url_bytes`: the most it reads, so that a
    URL somewhat over our limit still reaches the app and gets our 414 in the usual shape."""
    if not 1 <= max_url_bytes <= GUNICORN_MAX_REQUEST_LINE - REQUEST_LINE_EXTRA:
        raise ValueError(
            f"PD_MAX_URL_BYTES must be between 1 and "
            f"{GUNICORN_MAX_REQUEST_LINE - REQUEST_LINE_EXTRA} (gunicorn reads request lines of at "
            f"most {GUNICORN_MAX_REQUEST_LINE} bytes), not {max_url_bytes}"
        )
    return GUNICORN_MAX_REQUEST_LINE


def target_bytes(environ: dict) -> int:
    """The length of the request target (path and query string) as the client sent it."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is None:
        # A WSGI server that keeps no raw target: rebuild it from the decoded path.
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        raw = quote(path.encode("latin-1").decode("utf-8", "replace")) + (
            f"?{query}" if query else ""
        )
    # WSGI strings carry the request's bytes one per character (latin-1).
    return len(raw.encode("latin-1", "replace"))


def check() -> None:
    """Before the request: refuse a URL above the limit."""
    limit = int(current_app.config["PD_MAX_URL_BYTES"])
    size = target_bytes(request.environ)
    if size > limit:
        raise RequestURITooLarge(
            f"the URL is {size:,} bytes long; this server answers URLs of up to {limit:,} bytes"
        )
