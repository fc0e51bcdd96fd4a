"""Celery tasks: thin wrappers around the import the CLI runs."""

from celery import shared_task

from app.engines.base import EngineUnavailable
from indexer.import_jobs import DirectoryBusy


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DirectoryBusy, EngineUnavailable),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=30,
)
def import_roster_job(self, job_id: str) -> None:
    from app.background import run_job_here

    run_job_here(job_id)


@shared_task(acks_late=True)
def expire_terminations_job() -> int:
    """Daily (Celery beat): take out of search the records whose termination date has come."""
    from pathlib import Path

    from flask import current_app

    from app.engines import get_engine
    from indexer.delta import expire_terminations

    lock = current_app.extensions["pd_import_lock"]
    with lock.hold("expire-terminations"):
        return expire_terminations(
            get_engine(), Path(current_app.config["PD_DATA_DIR"]) / "sources"
        )
