"""Where jobs run: Celery workers when a broker is configured, a thread in-process otherwise.

Celery the Flask way: a task class that runs inside the app context; task modules use
@shared_task and never import the app.
"""

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from celery import Celery, Task, bootsteps
from celery.schedules import crontab
from flask import Flask, current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from app.fhir.export import export_job_here
from app.jobs import tasks
from app.jobs.liveness import beating, give_back_stalled
from app.jobs.lock import FileLock, RedisLock
from app.jobs.runner import STORES, assignment_job_here, fail_job, import_job_here
from app.jobs.store import AssignmentJob, ExportJob, FileJobStore, RedisJobStore

log = logging.getLogger(__name__)
# The import lock's lease: how soon a dead worker's lock lapses (its holder renews it meanwhile).
LEASE_SECONDS = 60


def visibility_timeout(app: Flask) -> int:
    return int(app.config["PD_VISIBILITY_TIMEOUT"])


def lease_seconds(app: Flask) -> int:
    """How long a holder's lease (the import lock, a running job's beat) lasts unrenewed."""
    return min(LEASE_SECONDS, visibility_timeout(app))


def celery_init_app(app: Flask) -> Celery:
    lease = lease_seconds(app)

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                kind = getattr(self, "job_kind", None)
                if not (kind and args):
                    return self.run(*args, **kwargs)
                with beating(STORES[kind](), args[0], lease):
                    return self.run(*args, **kwargs)

        def on_retry(self, exc, task_id, args, kwargs, einfo):
            # Waiting for its retry, the job still has a worker: its beat outlasts the wait.
            kind = getattr(self, "job_kind", None)
            if kind and args:
                with app.app_context(), contextlib.suppress(RedisError):
                    wait = tasks.RETRY["retry_backoff_max"] + lease
                    STORES[kind]().beat(args[0], wait, holder=f"retry-{task_id}")

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
    celery.steps["worker"].add(_stalled_jobs_step(app, lease))
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def _stalled_jobs_step(app: Flask, lease: int) -> type[bootsteps.StartStopStep]:
    """A worker step that looks for jobs whose worker is gone, three times a lease."""

    def look() -> None:
        with app.app_context():
            try:
                give_back_stalled({kind: store() for kind, store in STORES.items()}, SUBMIT)
            except (RedisError, OperationalError) as exc:
                log.warning("could not look for jobs that lost their worker: %s", exc)

    class StalledJobs(bootsteps.StartStopStep):
        requires = {"celery.worker.components:Timer"}

        def __init__(self, worker, **kwargs):
            super().__init__(worker, **kwargs)
            self.timer = None

        def start(self, worker):
            self.timer = worker.timer.call_repeatedly(lease / 3, look, priority=10)

        def stop(self, worker):
            if self.timer is not None:
                self.timer.cancel()

    return StalledJobs


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
            client, f"{prefix}lock:directory", lease_seconds(app)
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
    else:
        app.before_request(_look_after_all_once)


def _look_after_all_once() -> None:
    """Jobs left running by a process that stopped (a restarted server) run again here, looked
    for at this process's first request: a server's, never a CLI command's, which would take a
    job and die with it."""
    extensions = current_app.extensions
    if not extensions.get("pd_jobs_looked_after"):
        extensions["pd_jobs_looked_after"] = True
        try:
            give_back_stalled({kind: store() for kind, store in STORES.items()}, SUBMIT)
        except RedisError as exc:  # job records in Redis (PD_REDIS_URL), unreachable now
            log.warning("could not look for jobs that lost their process: %s", exc)


def look_after(kind: str, job_id: str) -> None:
    """Without a broker only the process that took a job runs it: a job read while `running`
    without a beat lost that process (a server restarted, a gunicorn worker replaced) and runs
    again here, or fails after MAX_RUNS runs. With Celery, workers look after their jobs."""
    if "celery" not in current_app.extensions:
        give_back_stalled({kind: STORES[kind]()}, SUBMIT, only=job_id)


def submit_import(job_id: str) -> None:
    """Queue an import job on Celery, or with no broker run it on a thread of this process."""
    _dispatch(tasks.import_roster_job, import_job_here, "import", job_id)


def submit_assignment(job_id: str) -> None:
    """Queue an assignment job on Celery, or with no broker run it on a thread of this process."""
    _dispatch(tasks.assign_members_job, assignment_job_here, "assignment", job_id)


def submit_export(job_id: str) -> None:
    """Queue a FHIR export job on Celery, or with no broker run it on a thread of this process."""
    _dispatch(tasks.export_fhir_job, export_job_here, "export", job_id)


SUBMIT = {"import": submit_import, "assignment": submit_assignment, "export": submit_export}


def _dispatch(task, run_here: Callable[[str], None], kind: str, job_id: str) -> None:
    app = current_app._get_current_object()
    if "celery" in app.extensions:
        task.delay(job_id)
        return

    def work():
        with app.app_context():
            try:
                with beating(STORES[kind](), job_id, lease_seconds(app)):
                    run_here(job_id)
            except Exception as exc:
                log.exception("%s job %s failed", kind, job_id)
                fail_job(kind, job_id, exc)

    threading.Thread(target=work, name=f"{kind}-{job_id}", daemon=True).start()
