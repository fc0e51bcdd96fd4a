"""Celery worker entry point: `make worker`, i.e. `celery -A app.worker worker`."""

from celery.signals import worker_process_init

from app import create_app
from app.engines import init_app as init_engine

flask_app = create_app()
celery = flask_app.extensions["celery"]


@worker_process_init.connect
def _engine_of_its_own(**_kwargs) -> None:
    """Each pool child gets its own engine (its own client and files), never its parent's."""
    init_engine(flask_app)
