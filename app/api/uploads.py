"""What the staff job endpoints share: taking an upload, finding a job, timing, result files."""

import re
import time
from pathlib import Path

from flask import request, send_file

from app.errors import APIError
from app.jobs.executors import look_after

MAX_NAME = 120
JOB_ID = r"^[0-9a-f]{32}$"
# The media type a part may say it is, for each file suffix read: a file is taken by its name's
# suffix or by its part's Content-Type.
UPLOAD_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "application/json",
    ".ndjson": "application/x-ndjson",
}


def take_upload(suffixes: tuple[str, ...], what: str):
    """The file in form field 'file', when it is of one of these types."""
    return take_uploads(suffixes, what)[0]


def take_uploads(suffixes: tuple[str, ...], what: str) -> list:
    """Every file in form field 'file' (it may be repeated), each of one of these types (by its
    suffix or its Content-Type). Each comes renamed as it is kept: a name safe in a path and a
    header, ending in its type's suffix, and unlike the others'."""
    uploads = [u for u in request.files.getlist("file") if u.filename]
    if not uploads:
        raise APIError(
            400,
            "invalid_parameter",
            f"attach the {what} as form field 'file'",
            {"file": ["missing"]},
        )
    taken: set[str] = set()
    for upload in uploads:
        suffix = _suffix(upload, suffixes)
        if suffix is None:
            found = Path(upload.filename).suffix.lower() or upload.mimetype or "(none)"
            raise APIError(
                400,
                "invalid_parameter",
                f"the {what} must be a {', '.join(suffixes)} file",
                {"file": [f"unsupported file type {found}"]},
            )
        upload.filename = _unique(safe_name(upload.filename, f"upload{suffix}"), suffix, taken)
    return uploads


def _suffix(upload, suffixes: tuple[str, ...]) -> str | None:
    suffix = Path(upload.filename).suffix.lower()
    if suffix in suffixes:
        return suffix
    return next((s for s in suffixes if upload.mimetype == UPLOAD_TYPES[s]), None)


def _unique(name: str, suffix: str, taken: set[str]) -> str:
    """`name` ending in `suffix`, numbered when another file of the upload has it already."""
    stem = name[: -len(suffix)] if name.lower().endswith(suffix) else name
    candidate, number = f"{stem}{suffix}", 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}-{number}{suffix}"
    taken.add(candidate)
    return candidate


def safe_name(name: str, default: str) -> str:
    """The uploaded file's name, reduced to characters safe in a path and a header, keeping its
    suffix."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name)
    if len(clean) > MAX_NAME:
        suffix = Path(clean).suffix[:16]
        clean = clean[: MAX_NAME - len(suffix)] + suffix
    return clean if clean.strip(".") else default


def job_or_404(store, job_id: str, what: str):
    """The job of kind `what` (import, assignment), looked after first (a job whose process
    stopped runs again), or a 404."""
    if not re.fullmatch(JOB_ID, job_id):
        raise APIError(404, "not_found", f"no {what} job {job_id}")
    look_after(what, job_id)
    job = store.get(job_id)
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
