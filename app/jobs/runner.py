"""The runners every door calls.

`run_import` is the one import: the CLI, POST /v1/imports (through its job, on a thread or a Celery
worker) and anything else that imports build an ImportRequest and call it. `run_import_job` and
`run_assignment_job` run a stored job — state, progress, timing, idempotence — around the work;
`*_here` bind them to the current app.
"""

import csv
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from flask import current_app

from app.audit.record import job_end_recorded, record_job_end
from app.config import street_geocoder_from
from app.engines import get_engine
from app.engines.base import Engine, EngineUnavailable
from app.fhir.view import build_view
from app.jobs.lock import DirectoryBusy, FileLock, RedisLock, import_lock
from app.jobs.request import ImportRequest
from app.jobs.store import FINISHED, JobStore, assignment_store, export_store, job_store
from app.match.batch import MemberFileError, assign_all, read_member_file, result_paths
from app.match.batch import write_results as write_assignment_results
from app.match.rules import Rules, load_rules
from indexer.delta import expire_terminations
from indexer.layout import LayoutError, load_layout
from indexer.pipeline import import_roster, write_rejects
from indexer.progress import (
    DONE,
    FHIR_VIEW,
    PROGRESS_EVERY_SECONDS,
    READING,
    Progress,
    Reporter,
    progress_of,
)
from indexer.records import ImportSummary
from indexer.sources.csv_roster import RosterFormatError

log = logging.getLogger(__name__)
Lock = FileLock | RedisLock
# What makes an import fail as the roster's fault: the job fails with the reason, no retry.
ROSTER_PROBLEMS = (RosterFormatError, LayoutError, UnicodeDecodeError, ValueError)
# Each kind of job's store.
STORES = {"import": job_store, "assignment": assignment_store, "export": export_store}


def sources_dir(config: Mapping) -> Path:
    """Where each source's records are kept between imports."""
    return Path(config["PD_DATA_DIR"]) / "sources"


def run_import(
    engine: Engine,
    request: ImportRequest,
    *,
    config: Mapping,
    lock: Lock,
    owner: str,
    progress: Progress | None = None,
    on_start: Callable[[], None] | None = None,
    on_done: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import the request's files into its source, holding the import lock throughout.

    The layout is loaded and the street geocoder built from the configuration (PD_GEOCODER…)
    here, for every door alike. `on_start` runs once the lock is held, `on_done` with the summary
    before it is let go. Raises DirectoryBusy when another import holds the lock, and what
    `import_roster` raises.
    """
    layout = load_layout(request.layout) if request.layout else None
    locate = street_geocoder_from(config)
    with lock.hold(owner):
        if on_start is not None:
            on_start()
        # Nobody else builds while the lock is held: an unpublished generation is a dead import's.
        engine.remove_unpublished()
        summary = import_roster(
            engine,
            request.files,
            progress=progress,
            locate=locate,
            layout=layout,
            source=request.source,
            sources_dir=sources_dir(config),
            mode=request.mode,
        )
        # The FHIR view follows the directory before the lock is let go, deltas included
        # (they change the live generation in place).
        Reporter(summary, progress).phase(FHIR_VIEW)
        build_view(engine, config["PD_DATA_DIR"])
        summary.phase = DONE
        if on_done is not None:
            on_done(summary)
        return summary


def run_expiry(engine: Engine, *, config: Mapping, lock: Lock, owner: str) -> int:
    """Take out of search the records whose termination date has come; providers changed."""
    with lock.hold(owner):
        changed = expire_terminations(engine, sources_dir(config))
        if changed:
            build_view(engine, config["PD_DATA_DIR"])
        return changed


class _FinishedMeanwhile(Exception):
    """The job was finished by another delivery of it."""


def run_import_job(
    engine: Engine, store: JobStore, lock: Lock, job_id: str, jobs_dir: Path, config: Mapping
) -> None:
    """Import the job's request as the new directory. Safe to run again for the same job.

    A roster that cannot be read fails the job with the reason. Anything else is raised: the
    Celery task retries what may pass (DirectoryBusy, EngineUnavailable) and fails the job on
    the rest (`fail_job`), as the thread executor does.
    """
    job = store.get(job_id)
    if job is None:
        log.warning("import job %s: unknown job", job_id)
        return
    if job.state in FINISHED:
        log.info("import job %s: already %s", job_id, job.state)
        return

    def started() -> None:
        # Another delivery of this job may have finished it while this one waited for the lock.
        current = store.get(job_id)
        if current is not None and current.state in FINISHED:
            raise _FinishedMeanwhile(current.state)
        store.update(
            job_id,
            state="running",
            phase=READING,
            started_at=time.time(),
            attempts=job.attempts + 1,
            error=None,
        )

    def progress(summary: ImportSummary) -> None:
        store.update(job_id, **progress_of(summary))

    def done(summary: ImportSummary) -> None:
        # Still under the lock: a second delivery waiting for it then finds the job finished.
        jobs_dir.mkdir(parents=True, exist_ok=True)
        write_rejects(summary.errors, jobs_dir / f"{job_id}.rejects.csv")
        store.update(
            job_id,
            state="succeeded",
            finished_at=time.time(),
            **progress_of(summary),
            providers=summary.providers,
            generation=summary.generation,
            changes=summary.changes,
        )

    try:
        summary = run_import(
            engine,
            job.import_request,
            config=config,
            lock=lock,
            owner=job_id,
            progress=progress,
            on_start=started,
            on_done=done,
        )
    except ROSTER_PROBLEMS as exc:
        store.update(job_id, state="failed", finished_at=time.time(), error=str(exc))
        return
    except _FinishedMeanwhile as finished:
        log.info("import job %s: already %s", job_id, finished)
        return
    log.info("import job %s: generation %s live", job_id, summary.generation)


def run_assignment_job(
    engine: Engine, store: JobStore, job_id: str, out_dir: Path, rules: Rules
) -> None:
    """Idempotent: a redelivered job starts over and writes the same files (atomically)."""
    job = store.get(job_id)
    if job is None or job.state in FINISHED:
        return
    started = time.time()
    store.update(
        job_id,
        state="running",
        started_at=started,
        attempts=job.attempts + 1,
        rules_version=rules.version,
        error=None,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        members, lines, errors = read_member_file(Path(job.upload_path))
    except (MemberFileError, UnicodeDecodeError, csv.Error) as exc:
        store.update(job_id, state="failed", finished_at=time.time(), error=str(exc))
        return
    rejected = len({e["line"] for e in errors})
    store.update(job_id, rows_read=len(members) + rejected, rows_rejected=rejected)
    last = 0.0

    def progress(scored: int) -> None:
        nonlocal last
        if time.time() - last >= PROGRESS_EVERY_SECONDS:
            last = time.time()
            store.update(job_id, members_scored=scored)

    results, cost = assign_all(engine, rules, members, lines, progress)
    write_assignment_results(*result_paths(out_dir, job_id), results, errors)
    assigned = sum(1 for r in results if r["status"] == "assigned")
    store.update(
        job_id,
        state="succeeded",
        finished_at=time.time(),
        members_scored=len(members),
        members_assigned=assigned,
        members_unassigned=len(results) - assigned,
        total_cost=cost,
    )
    # Counts and timing only: member data stays out of the logs.
    log.info(
        "assignment %s: %d assigned, %d unassigned, %d rejected in %.1f s",
        job_id,
        assigned,
        len(results) - assigned,
        rejected,
        time.time() - started,
    )


def failure_reason(kind: str, exc: BaseException) -> str:
    """What a failed job says about an exception its runner raised. Assignment errors give only
    the exception's type: their messages might carry member data."""
    if isinstance(exc, DirectoryBusy | EngineUnavailable):
        return f"the {kind} failed: {exc}"
    if kind == "import":
        return f"the import failed unexpectedly: {type(exc).__name__}: {exc}"
    return f"the {kind} failed unexpectedly ({type(exc).__name__})"


def fail_job(kind: str, job_id: str, exc: BaseException) -> None:
    """Mark a job failed after its runner raised for the last time (no retry left), unless it
    already finished. Needs an app context."""
    store = STORES[kind]()
    job = store.get(job_id)
    if job is None or job.state in FINISHED:
        return
    if isinstance(exc, DirectoryBusy) and import_lock().holder() == job_id:
        # Another delivery of this very job holds the lock and is running it.
        log.info("%s job %s: still running elsewhere", kind, job_id)
        return
    job = store.update(
        job_id, state="failed", finished_at=time.time(), error=failure_reason(kind, exc)
    )
    record_job_end(kind, job)


def import_job_here(job_id: str) -> None:
    """Run an import job in this process (inside an app context)."""
    app = current_app
    with job_end_recorded("import", job_store(), job_id):
        run_import_job(
            get_engine(),
            job_store(),
            import_lock(),
            job_id,
            app.extensions["pd_jobs_dir"],
            app.config,
        )


def assignment_job_here(job_id: str) -> None:
    """Run an assignment job in this process (inside an app context)."""
    with job_end_recorded("assignment", assignment_store(), job_id):
        run_assignment_job(
            get_engine(),
            assignment_store(),
            job_id,
            current_app.extensions["pd_assignments_dir"],
            load_rules(current_app.config.get("PD_MATCH_RULES")),
        )
