"""Celery worker entry point: `make worker`, i.e. `celery -A app.worker worker`."""

import logging

from celery.signals import setup_logging, worker_process_init

from app import create_app
from app.engines import init_app as init_engine
from app.logs import configure as configure_logs

flask_app = create_app()
celery = flask_app.extensions["celery"]


@worker_process_init.connect
def _engine_of_its_own(**_kwargs) -> None:
    """Each pool child gets its own engine (its own client and files), never its parent's."""
    init_engine(flask_app)


@setup_logging.connect
def _logs_as_json(loglevel=None, **_kwargs) -> None:
    """The worker's lines as the app's: JSON on standard error, one object each (a receiver
    here keeps Celery from setting up logging of its own)."""
    if isinstance(loglevel, int):
        loglevel = logging.getLevelName(loglevel)
    configure_logs(loglevel or flask_app.config["PD_LOG_LEVEL"])
