"""Where jobs run: Celery workers when a broker is configured, a thread in-process otherwise.

Celery the Flask way: a task class that runs inside the app context; task modules use
@shared_task and never import the app.
"""

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, current_app

from app.fhir.export import export_job_here
from app.jobs import tasks
from app.jobs.lock import FileLock, RedisLock
from app.jobs.runner import assignment_job_here, fail_job, import_job_here
from app.jobs.store import AssignmentJob, ExportJob, FileJobStore, RedisJobStore

log = logging.getLogger(__name__)
# The import lock's lease: how soon a dead worker's lock lapses (its holder renews it meanwhile).
LEASE_SECONDS = 60


def visibility_timeout(app: Flask) -> int:
    return int(app.config["PD_VISIBILITY_TIMEOUT"])


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

        def on_failure(self, exc, task_id, args, kwargs, einfo):
            # Called once the task has failed for good (not retried, or out of retries): its job
            # must read failed, with the reason, rather than running for ever.
            kind = getattr(self, "job_kind", None)
            if kind and args:
                with app.app_context():
                    fail_job(kind, args[0], exc)

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
            "visibility_timeout": visibility_timeout(app),
            # How often a worker looks for jobs whose worker died (unacknowledged past the
            # visibility timeout) and puts them back on the queue.
            "unacked_restore_interval": float(app.config["PD_REDELIVERY_CHECK_SECONDS"]),
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        task_default_queue=app.config["PD_QUEUE"],
        include=[tasks.__name__],
        beat_schedule={
            "expire-terminations": {
                "task": tasks.expire_terminations_job.name,
                "schedule": crontab(hour=2, minute=0),
            },
            # After the night's expiries, so the published files leave out what expired.
            "publish-bulk": {
                "task": tasks.publish_bulk_job.name,
                "schedule": crontab(hour=3, minute=0),
            },
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
    app.extensions["pd_exports_dir"] = data_dir / "exports"
    redis_url = app.config.get("PD_REDIS_URL") or app.config.get("PD_BROKER_URL")
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        prefix = app.config["PD_INDEX_PREFIX"]
        app.extensions["pd_job_store"] = RedisJobStore(client, prefix=prefix)
        app.extensions["pd_assignment_store"] = RedisJobStore(
            client, prefix=prefix, kind=AssignmentJob, namespace="assignment"
        )
        app.extensions["pd_export_store"] = RedisJobStore(
            client, prefix=prefix, kind=ExportJob, namespace="export"
        )
        app.extensions["pd_import_lock"] = RedisLock(
            client, f"{prefix}lock:directory", min(LEASE_SECONDS, visibility_timeout(app))
        )
    else:
        app.extensions["pd_job_store"] = FileJobStore(data_dir / "jobs")
        app.extensions["pd_assignment_store"] = FileJobStore(
            data_dir / "assignments", kind=AssignmentJob
        )
        app.extensions["pd_export_store"] = FileJobStore(data_dir / "export-jobs", kind=ExportJob)
        app.extensions["pd_import_lock"] = FileLock(data_dir / "import.lock")
    if app.config.get("PD_BROKER_URL"):
        celery_init_app(app)


def submit_import(job_id: str) -> None:
    """Queue an import job on Celery, or with no broker run it on a thread of this process."""
    _dispatch(tasks.import_roster_job, import_job_here, "import", job_id)


def submit_assignment(job_id: str) -> None:
    """Queue an assignment job on Celery, or with no broker run it on a thread of this process."""
    _dispatch(tasks.assign_members_job, assignment_job_here, "assignment", job_id)


def submit_export(job_id: str) -> None:
    """Queue a FHIR export job on Celery, or with no broker run it on a thread of this process."""
    _dispatch(tasks.export_fhir_job, export_job_here, "export", job_id)


def _dispatch(task, run_here: Callable[[str], None], kind: str, job_id: str) -> None:
    app = current_app._get_current_object()
    if "celery" in app.extensions:
        task.delay(job_id)
        return

    def work():
        with app.app_context():
            try:
                run_here(job_id)
            except Exception as exc:
                log.exception("%s job %s failed", kind, job_id)
                fail_job(kind, job_id, exc)

    threading.Thread(target=work, name=f"{kind}-{job_id}", daemon=True).start()
