"""Run one import job: the same import the CLI runs, with progress, a lock and idempotence."""

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from app.engines.base import Engine
from app.jobs import JobStore
from indexer.layout import LayoutError, load_layout
from indexer.pipeline import import_roster, write_rejects
from indexer.sources.csv_roster import RosterFormatError

log = logging.getLogger(__name__)


class DirectoryBusy(RuntimeError):
    """Another import is rebuilding the directory; try again later."""


class FileLock:
    """One import at a time on this machine; the OS drops the lock if the process dies."""

    def __init__(self, path: Path):
        self.path = path

    @contextlib.contextmanager
    def hold(self, owner: str) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise DirectoryBusy("another import is running") from exc
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def extend(self) -> None:
        pass


class RedisLock:
    """One import at a time across workers. A redelivered job takes over its own lock, since the
    worker that held it is gone; anyone else waits for it to be released or to expire."""

    def __init__(self, client, key: str, ttl_seconds: int):
        self.client, self.key, self.ttl = client, key, ttl_seconds

    @contextlib.contextmanager
    def hold(self, owner: str) -> Iterator[None]:
        if not self.client.set(self.key, owner, nx=True, ex=self.ttl):
            holder = self.client.get(self.key)
            if holder is None or holder.decode() != owner:
                raise DirectoryBusy("another import is running")
            self.client.expire(self.key, self.ttl)
        try:
            yield
        finally:
            # Release only our own lock (compare-and-delete in one step).
            self.client.eval(
                "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1])"
                " end return 0",
                1,
                self.key,
                owner,
            )

    def extend(self) -> None:
        self.client.expire(self.key, self.ttl)


def run_import_job(
    engine: Engine, store: JobStore, lock, job_id: str, jobs_dir: Path, sources_dir: Path
) -> None:
    """Import the job's upload as the new directory. Safe to run again for the same job."""
    job = store.get(job_id)
    if job is None:
        log.warning("import job %s: unknown job", job_id)
        return
    if job.state in ("succeeded", "failed"):
        log.info("import job %s: already %s", job_id, job.state)
        return
    with lock.hold(job_id):
        store.update(
            job_id, state="running", started_at=time.time(), attempts=job.attempts + 1, error=None
        )
        # A previous attempt of this job may have died mid-build; nobody else builds meanwhile.
        engine.remove_unpublished()

        def progress(summary) -> None:
            store.update(job_id, rows_read=summary.rows_read, rows_rejected=summary.rows_rejected)
            lock.extend()

        try:
            layout = load_layout(job.layout) if job.layout else None
            summary = import_roster(
                engine,
                job.upload_path,
                progress=progress,
                layout=layout,
                source=job.source,
                sources_dir=sources_dir,
                mode=job.mode,
            )
        except (RosterFormatError, LayoutError, UnicodeDecodeError, ValueError) as exc:
            store.update(job_id, state="failed", finished_at=time.time(), error=str(exc))
            return
        write_rejects(summary.errors, jobs_dir / f"{job_id}.rejects.csv")
        store.update(
            job_id,
            state="succeeded",
            finished_at=time.time(),
            rows_read=summary.rows_read,
            rows_imported=summary.rows_imported,
            rows_rejected=summary.rows_rejected,
            providers=summary.providers,
            generation=summary.generation,
            changes=summary.changes,
        )
        log.info("import job %s: generation %s live", job_id, summary.generation)
