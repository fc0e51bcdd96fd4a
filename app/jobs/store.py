"""Job records (imports, assignments, FHIR exports): state and progress, kept in Redis (shared by
workers) or in files (no server)."""

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from flask import current_app

from app.jobs.lock import waiting_lock
from app.jobs.request import ImportRequest

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED = ("succeeded", "failed", "cancelled")


def new_job_id() -> str:
    return uuid.uuid4().hex


@dataclass(kw_only=True)
class JobRecord:
    """What every background job keeps: its upload, state, timing and row counts."""

    id: str
    filename: str
    upload_path: str
    state: str = "queued"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    rows_read: int = 0
    rows_rejected: int = 0
    error: str | None = None


@dataclass(kw_only=True)
class Job(JobRecord):
    """A roster import: the request as it was made (ImportRequest.as_dict()) and what came of it.

    upload_path is the job's own upload folder; filename the first file's name.
    """

    request: dict
    # The progress of indexer.progress (PROGRESS_FIELDS): null until the job runs.
    phase: str | None = None
    rows_validated: int = 0
    rows_imported: int = 0
    rows_with_warnings: int = 0
    rows_skipped: int = 0
    records_to_index: int = 0
    records_indexed: int = 0
    providers_indexed: int = 0
    providers: int = 0
    generation: str | None = None
    changes: dict | None = None

    @staticmethod
    def new(job_id: str, request: ImportRequest, upload_dir: Path) -> "Job":
        return Job(
            id=job_id,
            filename=Path(request.files[0]).name,
            upload_path=str(upload_dir),
            request=request.as_dict(),
        )

    @property
    def import_request(self) -> ImportRequest:
        return ImportRequest.from_dict(self.request)

    @property
    def source(self) -> str:
        return self.import_request.source

    @property
    def layout(self) -> str | None:
        return self.import_request.layout

    @property
    def mode(self) -> str:
        return self.import_request.mode

    @property
    def requested_by(self) -> str | None:
        return self.import_request.requested_by

    @property
    def filenames(self) -> list[str]:
        return [Path(f).name for f in self.import_request.files]


@dataclass(kw_only=True)
class AssignmentJob(JobRecord):
    """A batch auto-assignment: members scored, assigned, left unassigned."""

    members_scored: int = 0
    members_assigned: int = 0
    members_unassigned: int = 0
    total_cost: int | None = None
    rules_version: str | None = None
    # Who asked: the staff key's name.
    requested_by: str | None = None

    @staticmethod
    def new(filename: str, upload_dir: Path, requested_by: str | None = None) -> "AssignmentJob":
        job_id = new_job_id()
        return AssignmentJob(
            id=job_id,
            filename=filename,
            upload_path=str(upload_dir / f"{job_id}.csv"),
            requested_by=requested_by,
        )


@dataclass(kw_only=True)
class ExportJob:
    """A FHIR bulk export ($export): what was asked and how far it got. Its files and manifest
    are in its own folder (app.fhir.export)."""

    id: str
    request: str
    types: list[str]
    since: str | None = None
    state: str = "queued"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    resources_total: int = 0
    resources_written: int = 0
    error: str | None = None


class JobStore:
    """Where jobs of one kind live. Both stores keep a job as one JSON value under its id."""

    kind: type = Job
    namespace: str = "job"

    def save(self, job: JobRecord) -> None:
        raise NotImplementedError

    def get(self, job_id: str):
        raise NotImplementedError

    def update(self, job_id: str, **changes):
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        for name, value in changes.items():
            setattr(job, name, value)
        self.save(job)
        return job

    def delete(self, job_id: str) -> None:
        raise NotImplementedError

    def ids_in_state(self, state: str) -> list[str]:
        """The ids of this store's jobs that are in `state`."""
        ids = []
        for raw in self.records():
            data = json.loads(raw)
            if data.get("state") == state:
                ids.append(data["id"])
        return ids

    # A running job's beat: kept by the worker running it (a Celery worker, or the thread of the
    # process that took the job), so that a job whose worker is gone can be told from one still
    # at work (app.jobs.liveness).
    def beat(self, job_id: str, seconds: float, holder: str = "") -> None:
        """Say the job has a worker (`holder`: one delivery of it) for the next `seconds`."""

    def end_beat(self, job_id: str, holder: str = "") -> None:
        """That worker is done with the job (others may still hold it)."""

    def update_if_stalled(self, job_id: str, changes: Callable[[JobRecord], dict]):
        """Apply `changes(job)` to a running job without a beat, atomically; return the updated
        job, or None when the job is not running or still has a worker."""
        return None

    def records(self) -> Iterator[str | bytes]:
        """Every job of this store as stored (JSON)."""
        raise NotImplementedError

    def count_by_state(self) -> dict[str, int]:
        """How many jobs are in each state, every state named."""
        counts = dict.fromkeys(STATES, 0)
        for raw in self.records():
            state = json.loads(raw).get("state")
            if state in counts:
                counts[state] += 1
        return counts

    def _load(self, raw: str | bytes | None):
        if raw is None:
            return None
        data = json.loads(raw)
        known = {f.name for f in fields(self.kind)}
        return self.kind(**{k: v for k, v in data.items() if k in known})


class FileJobStore(JobStore):
    def __init__(self, directory: str | Path, kind: type = Job):
        self.kind = kind
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.json"

    def save(self, job) -> None:
        # A temporary name of this thread's own: a job's runner and a request may save at once.
        tmp = self._path(job.id).with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(asdict(job)), encoding="utf-8")
        os.replace(tmp, self._path(job.id))

    def get(self, job_id: str):
        try:
            return self._load(self._path(job_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def delete(self, job_id: str) -> None:
        self._path(job_id).unlink(missing_ok=True)
        self._beat_path(job_id).unlink(missing_ok=True)

    # A job's beat: one file, "<until> <holder>" (a job here has one delivery: its process).
    def _beat_path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.beat"

    def beat(self, job_id: str, seconds: float, holder: str = "") -> None:
        path = self._beat_path(job_id)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(f"{time.time() + seconds} {holder}", encoding="utf-8")
        os.replace(tmp, path)

    def _beat(self, job_id: str) -> tuple[float, str]:
        try:
            until, holder = self._beat_path(job_id).read_text(encoding="utf-8").split(" ", 1)
        except (FileNotFoundError, ValueError):
            return 0.0, ""
        return float(until), holder

    def end_beat(self, job_id: str, holder: str = "") -> None:
        if self._beat(job_id)[1] == holder:
            self._beat_path(job_id).unlink(missing_ok=True)

    def update_if_stalled(self, job_id: str, changes: Callable[[JobRecord], dict]):
        # One process at a time decides, across the processes of this machine.
        with waiting_lock(self.directory / ".stalled.lock"):
            job = self.get(job_id)
            if job is None or job.state != "running" or self._beat(job_id)[0] > time.time():
                return None
            for name, value in changes(job).items():
                setattr(job, name, value)
            self.save(job)
            return job

    def records(self) -> Iterator[str]:
        for path in self.directory.glob("*.json"):
            try:
                yield path.read_text(encoding="utf-8")
            except FileNotFoundError:  # deleted since it was listed
                continue


class RedisJobStore(JobStore):
    TTL_SECONDS = 30 * 24 * 3600
    BEAT_KEY_SECONDS = 24 * 3600
    BATCH = 500

    def __init__(self, client, prefix: str = "pd:", kind: type = Job, namespace: str = "job"):
        self.client = client
        self.prefix = prefix
        self.kind = kind
        self.namespace = namespace

    def _key(self, job_id: str) -> str:
        return f"{self.prefix}{self.namespace}:{job_id}"

    def save(self, job) -> None:
        self.client.set(self._key(job.id), json.dumps(asdict(job)), ex=self.TTL_SECONDS)

    def get(self, job_id: str):
        return self._load(self.client.get(self._key(job_id)))

    def delete(self, job_id: str) -> None:
        self.client.delete(self._key(job_id))

    # A job's beats: a sorted set of its holders, each scored with the (Redis) time its beat
    # lapses, so that one delivery ending never silences another still at work.
    def _beat_key(self, job_id: str) -> str:
        return f"{self.prefix}{self.namespace}-beat:{job_id}"

    def _now(self, client=None) -> float:
        seconds, micros = (client or self.client).time()
        return seconds + micros / 1e6

    def beat(self, job_id: str, seconds: float, holder: str = "") -> None:
        key, now = self._beat_key(job_id), self._now()
        with self.client.pipeline() as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {holder: now + seconds})
            pipe.expire(key, self.BEAT_KEY_SECONDS)
            pipe.execute()

    def end_beat(self, job_id: str, holder: str = "") -> None:
        self.client.zrem(self._beat_key(job_id), holder)

    def update_if_stalled(self, job_id: str, changes: Callable[[JobRecord], dict]):
        key, beat = self._key(job_id), self._beat_key(job_id)

        def transition(pipe):
            job = self._load(pipe.get(key))
            if job is None or job.state != "running":
                return None
            if pipe.zcount(beat, f"({self._now(pipe)}", "+inf"):
                return None
            for name, value in changes(job).items():
                setattr(job, name, value)
            pipe.multi()
            pipe.set(key, json.dumps(asdict(job)), ex=self.TTL_SECONDS)
            return job

        # WATCH both: a beat or a change arriving meanwhile makes Redis refuse the write, and
        # the check runs again on what is there now.
        return self.client.transaction(transition, key, beat, value_from_callable=True)

    def records(self) -> Iterator[bytes]:
        keys = list(self.client.scan_iter(match=self._key("*"), count=self.BATCH))
        for start in range(0, len(keys), self.BATCH):
            yield from (raw for raw in self.client.mget(keys[start : start + self.BATCH]) if raw)


def job_store() -> JobStore:
    """The app's import jobs."""
    return current_app.extensions["pd_job_store"]


def assignment_store() -> JobStore:
    """The app's assignment jobs."""
    return current_app.extensions["pd_assignment_store"]


def export_store() -> JobStore:
    """The app's FHIR export jobs."""
    return current_app.extensions["pd_export_store"]
