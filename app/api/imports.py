"""POST /v1/imports (upload a roster, 202 + job URL), GET /v1/imports/<id>, its rejected rows."""

from pathlib import Path

from flask import Blueprint, current_app, jsonify, url_for
from flask import request as http_request
from marshmallow import RAISE, Schema, fields, validate

from app import background
from app.api.uploads import job_or_404, job_timing, safe_name, send_job_file, take_upload
from app.auth import require_role
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
        "timing": job_timing(job),
        "error": job.error,
        "links": {"self": url_for("imports.get_import", job_id=job.id)},
    }
    if job.state == "succeeded":
        body["links"]["rejects"] = url_for("imports.get_rejects", job_id=job.id)
    return body


@bp.post("")
@require_role("importer")
def create_import():
    upload = take_upload(UPLOAD_SUFFIXES, "roster")
    form = ImportForm().load(http_request.form.to_dict())
    uploads = current_app.extensions["pd_uploads_dir"]
    uploads.mkdir(parents=True, exist_ok=True)
    name = safe_name(upload.filename, "roster.csv")
    job = Job.new(form["source"], name, uploads, form.get("layout"))
    job.mode = form["mode"]
    upload.save(job.upload_path)
    background.job_store().save(job)
    background.submit(job.id)
    response = jsonify(present_job(job))
    response.status_code = 202
    response.headers["Location"] = url_for("imports.get_import", job_id=job.id)
    return response


@bp.get("/<job_id>")
@require_role("importer")
def get_import(job_id: str):
    return jsonify(present_job(job_or_404(background.job_store(), job_id, "import")))


@bp.get("/<job_id>/rejects.csv")
@require_role("importer")
def get_rejects(job_id: str):
    job = job_or_404(background.job_store(), job_id, "import")
    path = current_app.extensions["pd_jobs_dir"] / f"{job.id}.rejects.csv"
    return send_job_file(job, path, "import", f"{Path(job.filename).stem}-rejects.csv")
