"""Response headers of the page: a strict content security policy, and the assets' long cache
(app.headers decides every other answer's cache policy and adds nosniff)."""

from flask import Response, request

from app.web import assets, i18n

# Only the page's own files: no inline scripts or styles, nothing from elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)


def page_headers(response: Response) -> Response:
    if request.endpoint == "web.static":
        filename = (request.view_args or {}).get("filename", "")
        seconds = assets.cache_seconds(filename, request.args.get("v"))
        response.cache_control.public = True
        response.cache_control.no_cache = None
        response.cache_control.max_age = seconds
        response.cache_control.immutable = seconds == assets.LONG_CACHE_SECONDS
        return response
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return i18n.remember_locale(response)
