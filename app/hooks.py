"""What happens around every request: its id, the URL limit, the response headers, the access
line. Registered before the rate limiter and the metrics, so that they run around them."""

from flask import Flask, Response

from app import headers, logs, request_id, url_limit


def init_app(app: Flask) -> None:
    # Before-request functions run in the order registered: these come first, so that even a
    # request refused by the rate limiter has an id and a duration.
    app.before_request(request_id.assign)
    app.before_request(logs.start_timer)
    app.before_request(url_limit.check)

    # After-request functions run in the reverse order: these run last, after the rate limiter
    # has added its headers (a Retry-After on every answer) and the blueprints theirs.
    @app.after_request
    def finish(response: Response) -> Response:
        headers.apply(response)
        request_id.echo(response)
        return logs.access_line(response)
