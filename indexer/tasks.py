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
