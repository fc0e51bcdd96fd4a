"""Celery task for batch assignment: a thin wrapper around the runner the thread fallback uses."""

from pathlib import Path

from celery import shared_task
from flask import current_app

from app.engines.base import EngineUnavailable


def run_assignment_here(job_id: str) -> None:
    """Run an assignment job in this process (inside an app context)."""
    from app.background import assignment_store
    from app.engines import get_engine
    from app.match.batch import run_assignment_job
    from app.match.rules import load_rules

    run_assignment_job(
        get_engine(),
        assignment_store(),
        job_id,
        Path(current_app.config["PD_DATA_DIR"]) / "assignments",
        load_rules(current_app.config.get("PD_MATCH_RULES")),
    )


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(EngineUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=30,
)
def assign_members_job(self, job_id: str) -> None:
    run_assignment_here(job_id)
