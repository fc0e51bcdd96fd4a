"""Gunicorn's settings as `provider-directory serve` runs it (`-c python:app.gunicorn_config`):
request lines long enough for PD_MAX_URL_BYTES, JSON logs on standard error and no access log of
its own (the app writes one per request), and the metrics of a worker that exits kept."""

# Gunicorn takes every module-level name that is one of its settings (`config` is one): the
# imports are private names.
from prometheus_client import multiprocess as _multiprocess

from app import config as _config
from app import logs as _logs
from app import url_limit as _url_limit

_settings = _config.from_environment()

limit_request_line = _url_limit.request_line_limit(int(_settings["PD_MAX_URL_BYTES"]))
accesslog = None
logconfig_dict = _logs.gunicorn_logging(_settings["PD_LOG_LEVEL"])


def child_exit(server, worker) -> None:
    # Its counters stay in the sums; its live gauges go.
    _multiprocess.mark_process_dead(worker.pid)
