"""Headers on every answer, decided here for all routes: `X-Content-Type-Options: nosniff`, the
cache policy, and `Retry-After` only where it means something (429 and 503)."""

from flask import Response, g, request

PUBLIC_CACHE_SECONDS = 60
BRIEFLY_CACHED = f"public, max-age={PUBLIC_CACHE_SECONDS}"
NO_STORE = "no-store"

# Public answers that change only with an import: browsers and proxies may keep them a minute.
BRIEFLY_CACHED_ENDPOINTS = frozenset(
    {
        "providers.search_providers",
        "providers.get_provider",
        "suggest.suggest",
        "web.search",
        "web.provider",
        "fhir.metadata",
        "fhir.read",
        "fhir.vread",
        "fhir.search",
        "fhir.search_post",
        "openapi",
    }
)
# Public files whose routes set their own policy with validators (content-hashed assets for a
# year, bulk files revalidated by ETag and Last-Modified); kept as the route set it.
OWN_POLICY_ENDPOINTS = frozenset(
    {"static", "web.static", "fhir_bulk.manifest", "fhir_bulk.file", "fhir_export.file"}
)
# Everything else (staff answers, health, job states, /metrics) and every error: never stored.

RETRY_AFTER_STATUSES = frozenset({429, 503})


def cache_policy(response: Response) -> str | None:
    """The answer's Cache-Control; None keeps the one its route set."""
    if response.status_code >= 400:
        return NO_STORE
    if request.endpoint in OWN_POLICY_ENDPOINTS and "Cache-Control" in response.headers:
        return None
    if request.endpoint in BRIEFLY_CACHED_ENDPOINTS:
        # An answer that sets a cookie is the visitor's own: no shared cache may keep it.
        if "Set-Cookie" in response.headers:
            return BRIEFLY_CACHED.replace("public", "private")
        return BRIEFLY_CACHED
    return NO_STORE


def apply(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    policy = cache_policy(response)
    if policy is not None:
        response.headers["Cache-Control"] = policy
    if g.get("locale_negotiated"):
        # The words of the answer follow the cookie and the browser's languages.
        response.vary.update(("Cookie", "Accept-Language"))
    if response.status_code not in RETRY_AFTER_STATUSES:
        response.headers.pop("Retry-After", None)
    return response
