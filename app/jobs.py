"""Background jobs (imports, assignments): state and progress, kept in Redis (shared by workers)
or in files (no server)."""

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

STATES = ("queued", "running", "succeeded", "failed")


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
    """A roster import."""

    source: str
    layout: str | None = None
    mode: str = "full"
    rows_imported: int = 0
    providers: int = 0
    generation: str | None = None
    changes: dict | None = None

    @staticmethod
    def new(source: str, filename: str, upload_dir: Path, layout: str | None) -> "Job":
        job_id = uuid.uuid4().hex
        suffix = Path(filename).suffix.lower() if Path(filename).suffix else ".csv"
        return Job(
            id=job_id,
            source=source,
            filename=filename,
            upload_path=str(upload_dir / f"{job_id}{suffix}"),
            layout=layout,
        )


@dataclass(kw_only=True)
class AssignmentJob(JobRecord):
    """A batch auto-assignment: members scored, assigned, left unassigned."""

    members_scored: int = 0
    members_assigned: int = 0
    members_unassigned: int = 0
    total_cost: int | None = None
    rules_version: str | None = None

    @staticmethod
    def new(filename: str, upload_dir: Path) -> "AssignmentJob":
        job_id = uuid.uuid4().hex
        return AssignmentJob(
            id=job_id, filename=filename, upload_path=str(upload_dir / f"{job_id}.csv")
        )


class JobStore:
    """Where jobs of one kind live. Both stores keep a job as one JSON value under its id."""

    kind: type = Job
    namespace: str = "job"

    def save(self, job: Job) -> None:
        raise NotImplementedError

    def get(self, job_id: str) -> Job | None:
        raise NotImplementedError

    def update(self, job_id: str, **changes) -> Job:
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        for name, value in changes.items():
            setattr(job, name, value)
        self.save(job)
        return job

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
        tmp = self._path(job.id).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(job)), encoding="utf-8")
        os.replace(tmp, self._path(job.id))

    def get(self, job_id: str):
        try:
            return self._load(self._path(job_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None


class RedisJobStore(JobStore):
    TTL_SECONDS = 30 * 24 * 3600

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
