"""`GET /fhir/$export` (FHIR Bulk Data Access 2.0, system level, public): kick-off, status
(`/fhir/$export-status/<job>`: poll, then the manifest; DELETE cancels) and the files
(`/fhir/$export-file/<job>/<Type>.ndjson`).

The kick-off is in a blueprint of its own so that it alone shares the public rate limit; polling
and downloads do not use up a client's budget.
"""

from flask import Blueprint, jsonify, request, url_for

from app.fhir.bulk import BulkSet
from app.fhir.bulk_files import send_ndjson
from app.fhir.dates import parse_range
from app.fhir.export import (
    cancel_export,
    expires_at,
    exports_dir,
    is_cancelled,
    job_folder,
    remove_expired,
    retention_seconds,
    start_export,
)
from app.fhir.outcome import FhirError, error_response, fhir_response
from app.fhir.params import RESOURCE_TYPES
from app.jobs.executors import look_after, submit_export
from app.jobs.store import ExportJob, export_store

kickoff_bp = Blueprint("fhir_export_kickoff", __name__, url_prefix="/fhir")
bp = Blueprint("fhir_export", __name__, url_prefix="/fhir")
kickoff_bp.register_error_handler(FhirError, error_response)
bp.register_error_handler(FhirError, error_response)

OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
PARAMETERS = ("_outputFormat", "_type", "_since")


def _information(message: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": message}],
    }


def _preferences() -> set[str]:
    """The Prefer header's preferences, e.g. {'respond-async', 'handling=lenient'}."""
    header = request.headers.get("Prefer", "")
    return {p.strip().lower().replace(" ", "") for p in header.replace(";", ",").split(",")} - {""}


def _types(values: list[str]) -> list[str]:
    asked = [t.strip() for value in values for t in value.split(",") if t.strip()]
    for kind in asked:
        if kind not in RESOURCE_TYPES:
            raise FhirError(
                400,
                f"_type: '{kind}' is not a resource type of this directory "
                f"(one of {', '.join(RESOURCE_TYPES)})",
                "_type",
            )
    return list(dict.fromkeys(asked)) or list(RESOURCE_TYPES)


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_range(value)[0]
    except ValueError as exc:
        raise FhirError(400, f"_since: {exc}", "_since") from exc


@kickoff_bp.get("/$export")
def kick_off():
    preferences = _preferences()
    if "respond-async" not in preferences:
        raise FhirError(400, "$export runs asynchronously: send the header Prefer: respond-async")
    unknown = sorted(set(request.args) - set(PARAMETERS))
    if unknown and "handling=lenient" not in preferences:
        raise FhirError(
            400,
            f"$export does not support {', '.join(unknown)} (it takes {', '.join(PARAMETERS)}; "
            "send Prefer: handling=lenient to have others ignored)",
            unknown[0],
        )
    output_format = request.args.get("_outputFormat")
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise FhirError(
            400,
            f"_outputFormat: '{output_format}' is not supported "
            f"(one of {', '.join(OUTPUT_FORMATS)})",
            "_outputFormat",
        )
    types = _types(request.args.getlist("_type"))
    since = _since(request.args.get("_since"))
    store, folder = export_store(), exports_dir()
    remove_expired(store, folder, retention_seconds())
    job = start_export(store, folder, request.url, types, since)
    submit_export(job.id)
    status_url = url_for("fhir_export.status", job_id=job.id, _external=True)
    return fhir_response(
        _information(f"export {job.id} started; poll {status_url}"),
        202,
        {"Content-Location": status_url},
    )


def _job(job_id: str) -> ExportJob:
    """The job, unless unknown, cancelled or expired (404)."""
    store, folder = export_store(), exports_dir()
    remove_expired(store, folder, retention_seconds())
    try:
        known = job_folder(folder, job_id).is_dir()
        if known:
            look_after("export", job_id)
        job = store.get(job_id) if known else None
    except ValueError:
        job = None
    if job is None or is_cancelled(job_folder(folder, job_id)):
        raise FhirError(404, f"no export {job_id} (unknown, cancelled or expired)")
    return job


def _progress(job: ExportJob) -> str:
    if job.state == "queued":
        return "queued"
    if not job.resources_total:
        return "starting"
    share = 100 * job.resources_written // job.resources_total
    return f"{share}% ({job.resources_written:,} of {job.resources_total:,} resources)"


@bp.get("/$export-status/<job_id>")
def status(job_id: str):
    job = _job(job_id)
    if job.state == "failed":
        raise FhirError(500, job.error or "the export failed")
    if job.state != "succeeded":
        response = fhir_response(_information(_progress(job)), 202)
        # Bulk Data lets a server say when to poll again (Retry-After); ours keeps that header
        # for 429 and 503, and the client polls at its own pace.
        response.headers["X-Progress"] = _progress(job)
        return response
    bulk_set = BulkSet(job_folder(exports_dir(), job.id))
    manifest = bulk_set.manifest_with(
        lambda name: url_for("fhir_export.file", job_id=job.id, name=name, _external=True),
        job.request,
    )
    response = jsonify(manifest)
    response.expires = expires_at(job, retention_seconds())
    response.last_modified = bulk_set.moment
    return response


@bp.delete("/$export-status/<job_id>")
def cancel(job_id: str):
    job = _job(job_id)
    cancel_export(exports_dir(), job.id)
    return fhir_response(_information(f"export {job.id} cancelled and its files deleted"), 202)


@bp.get("/$export-file/<job_id>/<name>")
def file(job_id: str, name: str):
    job = _job(job_id)
    if job.state != "succeeded":
        raise FhirError(404, f"export {job.id} has no files yet ({job.state})")
    return send_ndjson(BulkSet(job_folder(exports_dir(), job.id)), name)
