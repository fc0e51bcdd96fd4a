"""Import jobs: state and progress, kept in Redis (shared by workers) or in files (no server)."""

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

STATES = ("queued", "running", "succeeded", "failed")


@dataclass
class Job:
    id: str
    source: str
    filename: str
    upload_path: str
    layout: str | None = None
    mode: str = "full"
    state: str = "queued"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    providers: int = 0
    generation: str | None = None
    changes: dict | None = None
    error: str | None = None

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


_FIELDS = {f.name for f in fields(Job)}


class JobStore:
    """Where jobs live. Both kinds store a job as one JSON value under its id."""

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

    @staticmethod
    def _load(raw: str | bytes | None) -> Job | None:
        if raw is None:
            return None
        data = json.loads(raw)
        return Job(**{k: v for k, v in data.items() if k in _FIELDS})


class FileJobStore(JobStore):
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.json"

    def save(self, job: Job) -> None:
        tmp = self._path(job.id).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(job)), encoding="utf-8")
        os.replace(tmp, self._path(job.id))

    def get(self, job_id: str) -> Job | None:
        try:
            return self._load(self._path(job_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None


class RedisJobStore(JobStore):
    TTL_SECONDS = 30 * 24 * 3600

    def __init__(self, client, prefix: str = "pd:"):
        self.client = client
        self.prefix = prefix

    def save(self, job: Job) -> None:
        self.client.set(f"{self.prefix}job:{job.id}", json.dumps(asdict(job)), ex=self.TTL_SECONDS)

    def get(self, job_id: str) -> Job | None:
        return self._load(self.client.get(f"{self.prefix}job:{job_id}"))
