"""FHIR bulk export jobs (`$export`): each writes its set into a folder of its own
(`<PD_DATA_DIR>/exports/<job id>/`), can be cancelled, and is removed with its files
PD_EXPORT_RETENTION_SECONDS after it finished (or, if it never finished, after it was asked).

Cancelling writes a marker file into the job's folder and removes its other files; a running job
looks for the marker after every page it writes and stops. The marker lives beside the files, not
in the job record, so that the job's own progress updates can never overwrite it.
"""

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from flask import current_app

from app.fhir.bulk import write_set
from app.fhir.live import live_view
from app.jobs.store import FINISHED, ExportJob, JobStore, export_store, new_job_id

JOB_ID = re.compile(r"[0-9a-f]{32}")
CANCELLED_MARKER = "cancelled"
PROGRESS_EVERY_SECONDS = 0.5


class ExportCancelled(Exception):
    """The export was cancelled while it ran."""


def exports_dir() -> Path:
    return current_app.extensions["pd_exports_dir"]


def retention_seconds() -> int:
    return int(current_app.config["PD_EXPORT_RETENTION_SECONDS"])


def job_folder(folder: Path, job_id: str) -> Path:
    if not JOB_ID.fullmatch(job_id):
        raise ValueError(f"not a job id: {job_id!r}")
    return folder / job_id


def is_cancelled(folder: Path) -> bool:
    return (folder / CANCELLED_MARKER).exists()


def expires_at(job: ExportJob, retention: int) -> float:
    """When the job and its files are removed."""
    return (job.finished_at or job.created_at) + retention


def start_export(
    store: JobStore, folder: Path, request: str, types: list[str], since: str | None
) -> ExportJob:
    """Record a new export job and make its folder (the record first: a folder without a
    record is one the sweep removes)."""
    job = ExportJob(id=new_job_id(), request=request, types=types, since=since)
    store.save(job)
    job_folder(folder, job.id).mkdir(parents=True, exist_ok=True)
    return job


def _clear(folder: Path, keep: tuple[str, ...] = ()) -> None:
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name in keep:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def run_export_job(view_of: Callable, store: JobStore, job_id: str, folder: Path) -> None:
    """Write the job's set from the view `view_of()` gives (it may have to build it first).
    Safe to run again for the same job (it starts over)."""
    job = store.get(job_id)
    target = job_folder(folder, job_id)
    if job is None or job.state in FINISHED:
        return
    if is_cancelled(target):
        _stopped(store, job_id, target)
        return
    store.update(
        job_id, state="running", started_at=time.time(), attempts=job.attempts + 1, error=None
    )
    # A DELETE may land at any moment: its marker is never cleared here, only read.
    _clear(target, keep=(CANCELLED_MARKER,))
    target.mkdir(parents=True, exist_ok=True)
    view = view_of()
    total = sum(view.count(kind, job.since) for kind in job.types)
    store.update(job_id, resources_total=total)
    last = time.monotonic()

    def progress(written: int) -> None:
        nonlocal last
        if is_cancelled(target):
            raise ExportCancelled(job_id)
        if time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
            last = time.monotonic()
            store.update(job_id, resources_written=written)

    try:
        manifest = write_set(
            view, target, job.types, job.since, request=job.request, progress=progress
        )
    except ExportCancelled:
        _stopped(store, job_id, target)
        return
    if is_cancelled(target):
        _stopped(store, job_id, target)
        return
    store.update(
        job_id,
        state="succeeded",
        finished_at=time.time(),
        resources_written=sum(item["count"] for item in manifest["output"]),
    )


def _stopped(store: JobStore, job_id: str, target: Path) -> None:
    """A cancelled job gives up: its files go, its record says so (for the sweep's clock)."""
    _clear(target, keep=(CANCELLED_MARKER,))
    store.update(job_id, state="cancelled", finished_at=time.time())


def cancel_export(folder: Path, job_id: str) -> None:
    """Cancel a job and delete its files (a running job stops at its next page)."""
    target = job_folder(folder, job_id)
    target.mkdir(parents=True, exist_ok=True)
    (target / CANCELLED_MARKER).touch()
    _clear(target, keep=(CANCELLED_MARKER,))


def remove_expired(store: JobStore, folder: Path, retention: int, now: float | None = None) -> int:
    """Remove the jobs (records and folders) past their retention, and folders with no job.
    Returns how many folders were removed."""
    now = time.time() if now is None else now
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        if not (path.is_dir() and JOB_ID.fullmatch(path.name)):
            continue
        job = store.get(path.name)
        if job is not None and expires_at(job, retention) > now:
            continue
        shutil.rmtree(path, ignore_errors=True)
        if job is not None:
            store.delete(job.id)
        removed += 1
    return removed


def export_job_here(job_id: str) -> None:
    """Run an export job in this process (inside an app context)."""
    run_export_job(live_view, export_store(), job_id, exports_dir())
