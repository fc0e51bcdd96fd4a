"""Where background jobs (imports, assignments) run: Celery workers when a broker is configured,
a thread in-process otherwise.

Celery the Flask way: a task class that runs inside the app context; task modules use
@shared_task and never import the app.
"""

import logging
import threading
from pathlib import Path

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, current_app

from app.engines import get_engine
from app.jobs import AssignmentJob, FileJobStore, JobStore, RedisJobStore
from indexer.import_jobs import FileLock, RedisLock, run_import_job

log = logging.getLogger(__name__)


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=app.config["PD_BROKER_URL"],
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        # A job is acknowledged only when done: a worker killed mid-import gives it back.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Must exceed the longest import, or Redis hands a running job to a second worker.
        broker_transport_options={
            "visibility_timeout": int(app.config["PD_VISIBILITY_TIMEOUT"]),
            # How often a worker looks for jobs whose worker died (unacknowledged past the
            # visibility timeout) and puts them back on the queue.
            "unacked_restore_interval": float(app.config["PD_REDELIVERY_CHECK_SECONDS"]),
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        task_default_queue=app.config["PD_QUEUE"],
        include=["indexer.tasks", "app.match.tasks"],
        beat_schedule={
            "expire-terminations": {
                "task": "indexer.tasks.expire_terminations_job",
                "schedule": crontab(hour=2, minute=0),
            }
        },
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def init_app(app: Flask) -> None:
    data_dir = Path(app.config["PD_DATA_DIR"])
    app.extensions["pd_jobs_dir"] = data_dir / "jobs"
    app.extensions["pd_uploads_dir"] = data_dir / "uploads"
    app.extensions["pd_assignments_dir"] = data_dir / "assignments"
    redis_url = app.config.get("PD_REDIS_URL") or app.config.get("PD_BROKER_URL")
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        prefix = app.config["PD_INDEX_PREFIX"]
        app.extensions["pd_job_store"] = RedisJobStore(client, prefix=prefix)
        app.extensions["pd_assignment_store"] = RedisJobStore(
            client, prefix=prefix, kind=AssignmentJob, namespace="assignment"
        )
        app.extensions["pd_import_lock"] = RedisLock(
            client, f"{prefix}lock:directory", int(app.config["PD_VISIBILITY_TIMEOUT"])
        )
    else:
        app.extensions["pd_job_store"] = FileJobStore(data_dir / "jobs")
        app.extensions["pd_assignment_store"] = FileJobStore(
            data_dir / "assignments", kind=AssignmentJob
        )
        app.extensions["pd_import_lock"] = FileLock(data_dir / "import.lock")
    if app.config.get("PD_BROKER_URL"):
        celery_init_app(app)


def job_store() -> JobStore:
    return current_app.extensions["pd_job_store"]


def assignment_store() -> JobStore:
    return current_app.extensions["pd_assignment_store"]


def run_job_here(job_id: str) -> None:
    """Run an import job in this process (inside an app context)."""
    app = current_app
    app.extensions["pd_jobs_dir"].mkdir(parents=True, exist_ok=True)
    run_import_job(
        get_engine(),
        job_store(),
        app.extensions["pd_import_lock"],
        job_id,
        app.extensions["pd_jobs_dir"],
        Path(app.config["PD_DATA_DIR"]) / "sources",
    )


def submit(job_id: str) -> None:
    """Queue an import job on Celery, or with no broker run it on a thread of this process."""
    from indexer.tasks import import_roster_job

    _dispatch(import_roster_job, run_job_here, job_store, job_id, "import")


def submit_assignment(job_id: str) -> None:
    """Queue an assignment job on Celery, or with no broker run it on a thread of this process."""
    from app.match.tasks import assign_members_job, run_assignment_here

    _dispatch(assign_members_job, run_assignment_here, assignment_store, job_id, "assignment")


def _dispatch(task, run_here, store, job_id: str, kind: str) -> None:
    app = current_app._get_current_object()
    if "celery" in app.extensions:
        task.delay(job_id)
        return

    def work():
        with app.app_context():
            try:
                run_here(job_id)
            except Exception:
                log.exception("%s job %s failed", kind, job_id)
                store().update(job_id, state="failed", error=f"the {kind} failed unexpectedly")

    threading.Thread(target=work, name=f"{kind}-{job_id}", daemon=True).start()
