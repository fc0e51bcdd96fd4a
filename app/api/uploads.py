"""What the staff job endpoints share: taking an upload, finding a job, timing, result files."""

import re
import time
from pathlib import Path

from flask import request, send_file

from app.errors import APIError


def take_upload(suffixes: tuple[str, ...], what: str):
    """The file in form field 'file', when it has one of these suffixes."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise APIError(
            400,
            "invalid_parameter",
            f"attach the {what} as form field 'file'",
            {"file": ["missing"]},
        )
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in suffixes:
        raise APIError(
            400,
            "invalid_parameter",
            f"the {what} must be a {', '.join(suffixes)} file",
            {"file": [f"unsupported file type {suffix or '(none)'}"]},
        )
    return upload


def safe_name(name: str, default: str) -> str:
    """The uploaded file's name, reduced to characters safe in a path and a header."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name)[:120] or default


def job_or_404(store, job_id: str, what: str):
    job = store.get(job_id) if re.fullmatch(r"[0-9a-f]{32}", job_id) else None
    if job is None:
        raise APIError(404, "not_found", f"no {what} job {job_id}")
    return job


def job_timing(job) -> dict:
    finished = job.finished_at or (time.time() if job.started_at else None)
    return {
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "seconds": round(finished - job.started_at, 3) if job.started_at else None,
    }


def send_job_file(job, path: Path, what: str, download_name: str):
    """A file a job wrote, once the job has succeeded."""
    if job.state != "succeeded" or not path.exists():
        raise APIError(
            409, "not_ready", f"the {what} is {job.state}; its files come when it succeeds"
        )
    return send_file(
        path.resolve(), mimetype="text/csv", as_attachment=True, download_name=download_name
    )
