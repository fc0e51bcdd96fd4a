"""GET /v1/reports/unverified: records not verified within N days (staff)."""

import io
from pathlib import Path

from flask import Blueprint, Response, current_app, request

from app.audit.record import note
from app.auth import require_role
from app.errors import APIError
from indexer.delta import write_unverified

bp = Blueprint("reports", __name__, url_prefix="/v1/reports")


@bp.get("/unverified")
@require_role("importer", action="report.unverified")
def unverified_report():
    raw = request.args.get("days", "90")
    unknown = sorted(set(request.args) - {"days"})
    if unknown:
        raise APIError(
            400,
            "invalid_parameter",
            f"unknown parameter: {', '.join(unknown)}",
            {name: ["Unknown field."] for name in unknown},
        )
    if not raw.isdigit() or not 1 <= int(raw) <= 3650:
        raise APIError(
            400,
            "invalid_parameter",
            "days is a whole number from 1 to 3650",
            {"days": ["a whole number from 1 to 3650"]},
        )
    buffer = io.StringIO()
    sources = Path(current_app.config["PD_DATA_DIR"]) / "sources"
    count = write_unverified(buffer, sources, int(raw))
    note(days=int(raw), records=count)
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "X-Total-Count": str(count),
            "Content-Disposition": f'attachment; filename="unverified-{raw}-days.csv"',
        },
    )
