"""Serving one NDJSON file of a bulk set: a strong ETag (its SHA-256), Last-Modified (the set's
transactionTime), 304 on If-None-Match / If-Modified-Since, ranges, and the gzip copy written
beside it when the client accepts gzip."""

from flask import Response, request, send_file

from app.fhir.bulk import NDJSON_MIMETYPE, BulkSet, gzip_name
from app.fhir.outcome import FhirError


def send_ndjson(bulk_set: BulkSet, name: str) -> Response:
    path = bulk_set.path(name)
    if path is None:
        raise FhirError(404, f"this set has no file {name}")
    etag = bulk_set.digests[name]
    packed = path.with_name(gzip_name(name))
    gzipped = request.accept_encodings["gzip"] > 0 and packed.exists()
    response = send_file(
        packed if gzipped else path,
        mimetype=NDJSON_MIMETYPE,
        etag=f"{etag}-gzip" if gzipped else etag,
        last_modified=bulk_set.moment,
        conditional=True,
        download_name=name,
    )
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response
