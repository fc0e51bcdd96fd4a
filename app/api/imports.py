"""POST /v1/imports (upload a roster, 202 + job URL), GET /v1/imports/<id>, its rejected rows."""

from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, url_for
from flask import request as http_request
from marshmallow import RAISE, Schema, fields, validate

from app.api.uploads import job_or_404, job_timing, send_job_file, take_uploads
from app.audit.record import note
from app.auth import require_role
from app.errors import APIError
from app.jobs.executors import submit_import
from app.jobs.request import MODES, ImportRequest
from app.jobs.store import Job, job_store, new_job_id
from app.search.arguments import Matches
from app.vocab.codes import SOURCE_CODE
from indexer.layout import shipped_layouts
from indexer.pipeline import DEFAULT_SOURCE, check_readable_together
from indexer.progress import PROGRESS_FIELDS
from indexer.sources.csv_roster import RosterFormatError

bp = Blueprint("imports", __name__, url_prefix="/v1/imports")
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".json", ".ndjson")


class ImportForm(Schema):
    class Meta:
        unknown = RAISE

    layout = fields.String(
        validate=validate.OneOf(
            sorted(shipped_layouts()), error="unknown layout; one of {choices}"
        ),
        metadata={
            "description": "A shipped roster layout name; default: the project's own layout."
        },
    )
    mode = fields.String(
        load_default="full",
        validate=validate.OneOf(MODES, error="full or delta"),
        metadata={
            "description": "full: the roster replaces its source; delta: rows carry action (add, "
            "change, terminate) and termination_date."
        },
    )
    source = fields.String(
        load_default=DEFAULT_SOURCE,
        validate=Matches(SOURCE_CODE, error="lowercase letters, digits, -"),
        metadata={
            "description": "Which source the roster stands for; the directory merges all sources."
        },
    )


def present_job(job: Job) -> dict:
    body = {
        "id": job.id,
        "state": job.state,
        "source": job.source,
        "filename": job.filename,
        "files": job.filenames,
        "layout": job.layout,
        "mode": job.mode,
        "changes": job.changes,
        "progress": {name: getattr(job, name) for name in PROGRESS_FIELDS},
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


def _file_names(uploads) -> list[str]:
    """The uploaded files' names, which must make one import together."""
    names = [u.filename for u in uploads]
    try:
        check_readable_together(names)
    except RosterFormatError as exc:
        raise APIError(400, "invalid_parameter", str(exc), {"file": [str(exc)]}) from exc
    return names


@bp.post("")
@require_role("importer", action="import.submit")
def create_import():
    uploads = take_uploads(UPLOAD_SUFFIXES, "roster")
    form = ImportForm().load(http_request.form.to_dict())
    names = _file_names(uploads)
    note(files=names, source=form["source"], layout=form.get("layout"), mode=form["mode"])
    job_id = new_job_id()
    # Each job's files in a folder of their own, under the names they came with.
    folder = current_app.extensions["pd_uploads_dir"] / job_id
    folder.mkdir(parents=True)
    for upload, name in zip(uploads, names, strict=True):
        upload.save(folder / name)
    request = ImportRequest(
        files=tuple(str(folder / name) for name in names),
        source=form["source"],
        layout=form.get("layout"),
        mode=form["mode"],
        requested_by=g.staff.name,
    )
    job = Job.new(job_id, request, folder)
    job_store().save(job)
    note(job_id=job.id)
    submit_import(job.id)
    response = jsonify(present_job(job))
    response.status_code = 202
    response.headers["Location"] = url_for("imports.get_import", job_id=job.id)
    return response


@bp.get("/<job_id>")
@require_role("importer", action="import.status", every_outcome=False)
def get_import(job_id: str):
    return jsonify(present_job(job_or_404(job_store(), job_id, "import")))


@bp.get("/<job_id>/rejects.csv")
@require_role("importer", action="import.rejects")
def get_rejects(job_id: str):
    job = job_or_404(job_store(), job_id, "import")
    note(job_id=job.id)
    path = current_app.extensions["pd_jobs_dir"] / f"{job.id}.rejects.csv"
    return send_job_file(job, path, "import", f"{Path(job.filename).stem}-rejects.csv")
