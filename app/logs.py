"""Logs as JSON, one object per line on standard error: the app's own records and one access line
per request, each with the request's id.

Member data (names, addresses, birth dates) is never logged: requests are logged by method, route,
path and status, never by query string or body, and a traceback keeps its exception's type and
frames but not its message, which may quote what the request sent.
"""

import json
import logging
import sys
import time
import traceback
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, request

from app import request_id

ACCESS = logging.getLogger("app.access")
# What every LogRecord has; anything else on a record was passed with `extra=` and is logged.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "request_id",
}


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            line["request_id"] = record.request_id
        line.update((k, v) for k, v in vars(record).items() if k not in _RECORD_FIELDS)
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = _without_message(*record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def _without_message(kind: type, exc: BaseException, tb) -> str:
    frames = "".join(traceback.format_tb(tb))
    return f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__}"


class RequestIdFilter(logging.Filter):
    """Adds the id of the request being answered to every record made while answering it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.current()
        return True


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when the record comes, as logging's last resort does
    (so that a replaced stderr, e.g. a captured one, gets the lines)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def json_handler() -> logging.Handler:
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


def configure(level: str = "INFO") -> None:
    """Every record of the process as JSON on standard error (once: a second call only sets the
    level)."""
    root = logging.getLogger()
    if not any(isinstance(h, StderrHandler) for h in root.handlers):
        root.addHandler(json_handler())
    root.setLevel(level.upper())
    _quiet_clients()


# Client libraries that log every request they send at INFO (one line per engine call beside the
# access line, a write each) and the request and answer bodies at DEBUG (a match's query holds the
# member's home): warnings only, whatever the level.
CHATTY = ("elastic_transport", "urllib3")


def _quiet_clients() -> None:
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)


def gunicorn_logging(level: str = "INFO") -> dict:
    """logging.config settings for gunicorn: its own lines as JSON on standard error too, and no
    access log of its own (the app writes one, without the query string)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"request_id": {"()": RequestIdFilter}},
        "handlers": {
            "stderr": {"()": StderrHandler, "formatter": "json", "filters": ["request_id"]}
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
            **{name: {"level": "WARNING"} for name in CHATTY},
        },
    }


def start_timer() -> None:
    g.request_started = time.perf_counter()


def access_line(response: Response) -> Response:
    """The request's access line: who it is (id), what was asked (method, route, path without its
    query string), the answer's status, how long it took and which engine answered."""
    started = g.get("request_started", time.perf_counter())
    ACCESS.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "endpoint": request.endpoint,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "engine": current_app.extensions["engine"].name,
        },
    )
    return response


def init_app(app: Flask) -> None:
    configure(app.config["PD_LOG_LEVEL"])
