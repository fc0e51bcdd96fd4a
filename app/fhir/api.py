"""`/fhir`: the directory as a FHIR R4 Plan-Net server (public, read-only, JSON).

Reads (`GET /fhir/Type/id`, `/_history/vid`) carry ETag and Last-Modified; searches
(`GET /fhir/Type?…`, `POST /fhir/Type/_search`) answer searchset Bundles with an exact total and
self/next/previous links; `GET /fhir/metadata` is the CapabilityStatement. Errors are
OperationOutcomes. Unknown parameters are refused unless the client sends
`Prefer: handling=lenient`, when they are ignored and left out of the self link.
"""

import gzip
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from app.engines.base import EngineUnavailable
from app.fhir import params as P
from app.fhir.capability import capability_statement
from app.fhir.dates import http_date
from app.fhir.live import live_view
from app.fhir.outcome import FHIR_JSON, FhirError, error_response, fhir_response
from app.fhir.search import read_search, run
from app.fhir.view import Stored

bp = Blueprint("fhir", __name__, url_prefix="/fhir")

FORMATS = ("json", "application/json", "application/fhir+json")
JSON_TYPES = (FHIR_JSON, "application/json")
DISTANCE = "http://hl7.org/fhir/StructureDefinition/location-distance"
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
GZIP_FROM_BYTES = 1024


def base_url() -> str:
    return request.url_root.rstrip("/") + "/fhir"


def _check_format() -> None:
    wanted = request.args.get("_format")
    if wanted is not None:
        # `_format=application/fhir+json` written unescaped in a URL arrives with a space.
        wanted = wanted.replace(" ", "+")
    if wanted is not None and wanted not in FORMATS:
        raise FhirError(406, f"only JSON is served (_format={'|'.join(FORMATS)})", "_format")
    accept = request.accept_mimetypes
    # best_match honours wildcards in the header; looking up "*/*" in it would match any type.
    if accept and not wanted and accept.best_match(JSON_TYPES) is None:
        raise FhirError(406, "only application/fhir+json is served", "Accept")


def _kind(type_name: str) -> str:
    if type_name not in P.RESOURCE_TYPES:
        raise FhirError(404, f"this server has no resource type '{type_name}'")
    return type_name


@bp.errorhandler(FhirError)
def fhir_error(error: FhirError):
    return error_response(error)


@bp.errorhandler(EngineUnavailable)
def engine_unavailable(error: EngineUnavailable):
    return error_response(FhirError(503, f"{error}; try again soon"), {"Retry-After": "5"})


@bp.after_request
def compress(response: Response) -> Response:
    response.vary.add("Accept-Encoding")
    if (
        response.status_code == 200
        and "gzip" in request.headers.get("Accept-Encoding", "")
        and not response.direct_passthrough
        and "Content-Encoding" not in response.headers
        and response.content_length
        and response.content_length >= GZIP_FROM_BYTES
    ):
        response.set_data(gzip.compress(response.get_data(), compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
    return response


@bp.get("/metadata")
def metadata():
    _check_format()
    return fhir_response(capability_statement(base_url()))


@bp.get("/<type_name>/<resource_id>")
def read(type_name: str, resource_id: str):
    _check_format()
    kind = _kind(type_name)
    stored = live_view().read(kind, resource_id)
    if stored is None:
        raise FhirError(404, f"{kind}/{resource_id} is not in the directory")
    return _resource_response(stored)


@bp.get("/<type_name>/<resource_id>/_history/<version>")
def vread(type_name: str, resource_id: str, version: str):
    _check_format()
    kind = _kind(type_name)
    stored = live_view().read(kind, resource_id)
    if stored is None:
        raise FhirError(404, f"{kind}/{resource_id} is not in the directory")
    if stored.version != version:
        raise FhirError(404, f"{kind}/{resource_id} has no version {version} (only the current)")
    return _resource_response(stored)


def _resource_response(stored: Stored) -> Response:
    etag = f'W/"{stored.version}"'
    headers = {"ETag": etag, "Last-Modified": http_date(stored.updated)}
    if request.if_none_match:
        if request.if_none_match.contains_weak(stored.version):
            return Response(status=304, headers=headers)
    elif (
        request.if_modified_since
        and request.if_modified_since.strftime("%Y-%m-%dT%H:%M:%S") >= stored.updated
    ):
        return Response(status=304, headers=headers)
    return fhir_response(_selected(stored.resource()), headers=headers)


def _selected(resource: dict) -> dict:
    """The resource as `_elements` / `_summary` ask on a read."""
    elements = tuple(e for e in request.args.get("_elements", "").split(",") if e)
    return _subset(resource, elements) if elements else resource


def _subset(resource: dict, elements: tuple[str, ...]) -> dict:
    kept = {k: v for k, v in resource.items() if k in ("resourceType", "id", "meta", *elements)}
    meta = dict(kept.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    kept["meta"] = meta
    return kept


@bp.get("/<type_name>")
def search(type_name: str):
    _check_format()
    return _search(_kind(type_name), list(request.args.items(multi=True)))


@bp.post("/<type_name>/_search")
def search_post(type_name: str):
    _check_format()
    items = list(request.args.items(multi=True)) + list(request.form.items(multi=True))
    return _search(_kind(type_name), items)


def _lenient() -> bool:
    prefer = request.headers.get("Prefer", "")
    return any(p.strip() == "handling=lenient" for p in prefer.split(";") + prefer.split(","))


def _search(kind: str, items: list[tuple[str, str]]):
    view = live_view()
    wanted = read_search(kind, items, view, lenient=_lenient())
    page = run(view, wanted)
    base = base_url()
    applied = [(k, v) for k, v in wanted.applied if k not in ("_offset",)]
    bundle: dict = {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": view.built_at},
        "type": "searchset",
        "total": page.total,
        "link": [_link("self", base, kind, applied, wanted.offset, wanted.count)],
    }
    if wanted.summary != "count":
        if wanted.offset + wanted.count < page.total and wanted.count:
            bundle["link"].append(
                _link("next", base, kind, applied, wanted.offset + wanted.count, wanted.count)
            )
        if wanted.offset > 0:
            previous = max(0, wanted.offset - wanted.count)
            bundle["link"].append(_link("previous", base, kind, applied, previous, wanted.count))
        entries = []
        stored_matches = view.by_rids([rid for rid, _ in page.matches])
        distances = dict(page.matches)
        for stored in stored_matches:
            resource = stored.resource()
            if wanted.elements:
                resource = _subset(resource, wanted.elements)
            entry_search: dict = {"mode": "match"}
            miles = distances.get(stored.rid)
            if miles is not None:
                entry_search["extension"] = [
                    {
                        "url": DISTANCE,
                        "valueDistance": {
                            "value": round(miles, 3),
                            "unit": "mi",
                            "system": "http://unitsofmeasure.org",
                            "code": "[mi_i]",
                        },
                    }
                ]
            entries.append(
                {"fullUrl": f"{base}/{stored.key}", "resource": resource, "search": entry_search}
            )
        for stored in page.included:
            entries.append(
                {
                    "fullUrl": f"{base}/{stored.key}",
                    "resource": stored.resource(),
                    "search": {"mode": "include"},
                }
            )
        notes = []
        if wanted.ignored:
            notes.append(f"ignored (unknown or unsupported): {', '.join(wanted.ignored)}")
        if page.truncated:
            notes.append("more resources would be included: ask a smaller _count")
        if notes:
            entries.append(
                {
                    "resource": {
                        "resourceType": "OperationOutcome",
                        "issue": [
                            {"severity": "warning", "code": "informational", "diagnostics": n}
                            for n in notes
                        ],
                    },
                    "search": {"mode": "outcome"},
                }
            )
        if entries:
            bundle["entry"] = entries
    return fhir_response(bundle)


def _link(relation: str, base: str, kind: str, applied, offset: int, count: int) -> dict:
    query = [(k, v) for k, v in applied if k != "_count"]
    query.append(("_count", str(count)))
    if offset:
        query.append(("_offset", str(offset)))
    return {"relation": relation, "url": f"{base}/{kind}?{urlencode(query)}"}


__all__ = ["FHIR_JSON", "bp"]
