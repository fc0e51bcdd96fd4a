"""POST /v1/imports (upload a roster, 202 + job URL), GET /v1/imports/<id>, its rejected rows."""

import re
import time
from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_file, url_for
from flask import request as http_request
from marshmallow import RAISE, Schema, fields, validate

from app import background
from app.auth import require_role
from app.errors import APIError
from app.jobs import Job
from indexer.layout import shipped_layouts

bp = Blueprint("imports", __name__, url_prefix="/v1/imports")
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".json", ".ndjson")


class ImportForm(Schema):
    class Meta:
        unknown = RAISE

    layout = fields.String(
        validate=validate.OneOf(sorted(shipped_layouts()), error="unknown layout; one of {choices}")
    )
    mode = fields.String(
        load_default="full", validate=validate.OneOf(("full", "delta"), error="full or delta")
    )
    source = fields.String(
        load_default="roster",
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9-]{0,63}$", error="lowercase letters, digits, -"
        ),
    )


def present_job(job: Job) -> dict:
    finished = job.finished_at or (time.time() if job.started_at else None)
    body = {
        "id": job.id,
        "state": job.state,
        "source": job.source,
        "filename": job.filename,
        "layout": job.layout,
        "mode": job.mode,
        "changes": job.changes,
        "progress": {
            "rows_read": job.rows_read,
            "rows_imported": job.rows_imported,
            "rows_rejected": job.rows_rejected,
        },
        "providers": job.providers,
        "generation": job.generation,
        "attempts": job.attempts,
        "timing": {
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            "seconds": round(finished - job.started_at, 3) if job.started_at else None,
        },
        "error": job.error,
        "links": {"self": url_for("imports.get_import", job_id=job.id)},
    }
    if job.state == "succeeded":
        body["links"]["rejects"] = url_for("imports.get_rejects", job_id=job.id)
    return body


@bp.post("")
@require_role("importer")
def create_import():
    upload = http_request.files.get("file")
    if upload is None or not upload.filename:
        raise APIError(
            400,
            "invalid_parameter",
            "attach the roster as form field 'file'",
            {"file": ["missing"]},
        )
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise APIError(
            400,
            "invalid_parameter",
            "a roster is a .csv or .xlsx file",
            {"file": [f"unsupported file type {suffix or '(none)'}"]},
        )
    form = ImportForm().load(http_request.form.to_dict())
    uploads = current_app.extensions["pd_uploads_dir"]
    uploads.mkdir(parents=True, exist_ok=True)
    job = Job.new(form["source"], _safe_name(upload.filename), uploads, form.get("layout"))
    job.mode = form["mode"]
    upload.save(job.upload_path)
    background.job_store().save(job)
    background.submit(job.id)
    response = jsonify(present_job(job))
    response.status_code = 202
    response.headers["Location"] = url_for("imports.get_import", job_id=job.id)
    return response


def _job_or_404(job_id: str) -> Job:
    job = background.job_store().get(job_id) if re.fullmatch(r"[0-9a-f]{32}", job_id) else None
    if job is None:
        raise APIError(404, "not_found", f"no import job {job_id}")
    return job


@bp.get("/<job_id>")
@require_role("importer")
def get_import(job_id: str):
    return jsonify(present_job(_job_or_404(job_id)))


@bp.get("/<job_id>/rejects.csv")
@require_role("importer")
def get_rejects(job_id: str):
    job = _job_or_404(job_id)
    path = current_app.extensions["pd_jobs_dir"] / f"{job.id}.rejects.csv"
    if job.state != "succeeded" or not path.exists():
        raise APIError(
            409, "not_ready", f"the import is {job.state}; rejects come when it succeeds"
        )
    return send_file(
        path.resolve(),
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"{Path(job.filename).stem}-rejects.csv",
    )


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name)[:120] or "roster.csv"
