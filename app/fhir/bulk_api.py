"""`/fhir/bulk/`: the latest published bulk files (`provider-directory publish`, the daily job),
public like the rest of Plan-Net. 404 OperationOutcome until a set is published."""

from flask import Blueprint, current_app, jsonify, url_for

from app.fhir.api import base_url
from app.fhir.bulk import BulkSet, current_set
from app.fhir.bulk_files import send_ndjson
from app.fhir.outcome import FhirError, error_response
from app.fhir.publish import bulk_dir

bp = Blueprint("fhir_bulk", __name__, url_prefix="/fhir/bulk")
bp.register_error_handler(FhirError, error_response)


def _published() -> BulkSet:
    folder = current_set(bulk_dir(current_app.config))
    if folder is None:
        raise FhirError(
            404, "no bulk files are published yet (`provider-directory publish` writes them)"
        )
    return BulkSet(folder)


@bp.get("/")
def manifest():
    published = _published()
    body = published.manifest_with(
        lambda name: url_for("fhir_bulk.file", name=name, _external=True),
        f"{base_url()}/{published.manifest['request']}",
    )
    response = jsonify(body)
    response.last_modified = published.moment
    response.cache_control.no_cache = True
    return response


@bp.get("/<name>")
def file(name: str):
    return send_ndjson(_published(), name)
