"""Celery tasks: thin wrappers around the runners the thread executor and the CLI call.

`@shared_task`, so this module never imports the app; the app's FlaskTask runs each inside the
app context and, on a final failure (not retried, or out of retries), marks the task's job failed
(`job_kind`).
"""

from celery import shared_task
from flask import current_app

from app.engines import get_engine
from app.engines.base import EngineUnavailable
from app.fhir.export import export_job_here
from app.fhir.publish import publish_live
from app.jobs.lock import DirectoryBusy, import_lock
from app.jobs.runner import assignment_job_here, import_job_here, run_expiry

RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 30,
}


@shared_task(autoretry_for=(DirectoryBusy, EngineUnavailable), job_kind="import", **RETRY)
def import_roster_job(job_id: str) -> None:
    import_job_here(job_id)


@shared_task(autoretry_for=(EngineUnavailable,), job_kind="assignment", **RETRY)
def assign_members_job(job_id: str) -> None:
    assignment_job_here(job_id)


@shared_task(acks_late=True)
def expire_terminations_job() -> int:
    """Daily (Celery beat): take out of search the records whose termination date has come."""
    return run_expiry(
        get_engine(), config=current_app.config, lock=import_lock(), owner="expire-terminations"
    )


@shared_task(autoretry_for=(EngineUnavailable,), job_kind="export", **RETRY)
def export_fhir_job(job_id: str) -> None:
    export_job_here(job_id)


@shared_task(acks_late=True)
def publish_bulk_job() -> str:
    """Daily (Celery beat): publish the directory's bulk files into PD_BULK_DIR."""
    return publish_live()
