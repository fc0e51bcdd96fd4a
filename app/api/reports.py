"""GET /v1/reports/unverified: records not verified within N days (staff)."""

import io
from pathlib import Path

from flask import Blueprint, Response, current_app, request

from app.api.args import UnverifiedArgs, query_data
from app.audit.record import note
from app.auth import require_role
from indexer.delta import write_unverified

bp = Blueprint("reports", __name__, url_prefix="/v1/reports")


@bp.get("/unverified")
@require_role("importer", action="report.unverified")
def unverified_report():
    schema = UnverifiedArgs()
    days = schema.load(query_data(request.args, schema))["days"]
    buffer = io.StringIO()
    sources = Path(current_app.config["PD_DATA_DIR"]) / "sources"
    count = write_unverified(buffer, sources, days)
    note(days=days, records=count)
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "X-Total-Count": str(count),
            "Content-Disposition": f'attachment; filename="unverified-{days}-days.csv"',
        },
    )
