"""GET /v1/audit: the audit log of staff actions, newest first, for admins."""

from flask import Blueprint, jsonify
from flask import request as http_request
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from app.audit.log import Filter, parse_moment
from app.audit.record import audit_log, note, record_response
from app.auth import require_role

bp = Blueprint("audit", __name__, url_prefix="/v1/audit")
# With the log's reader comes its writer for the HTTP doors: every staff request is recorded after
# its response is made, whatever answered it (the view or an error handler).
bp.after_app_request(record_response)
MAX_PAGE = 500


class Moment(fields.String):
    """An ISO 8601 date or time, UTC unless it says otherwise."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_moment(super()._deserialize(value, attr, data, **kwargs))
        except (ValueError, OverflowError) as exc:
            raise ValidationError("an ISO 8601 date or time, e.g. 2026-12-01T08:00:00Z") from exc


# RFC 3339 date-times are what clients send; a bare date (the day's start) is read too.
MOMENT = {
    "format": "date-time",
    "description": "An ISO 8601 date-time (UTC unless it carries an offset) or a date",
}


class AuditArgs(Schema):
    class Meta:
        unknown = RAISE

    since = Moment(metadata=MOMENT)
    until = Moment(metadata=MOMENT)
    action = fields.String(validate=validate.Length(1, 64))
    actor = fields.String(validate=validate.Length(1, 200))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_PAGE))
    cursor = fields.Integer(validate=validate.Range(min=1))


@bp.get("")
@require_role("admin", action="audit.read")
def read_audit():
    args = AuditArgs().load(http_request.args.to_dict())
    limit = args.pop("limit")
    where = Filter(before=args.get("cursor"), **{k: v for k, v in args.items() if k != "cursor"})
    entries = audit_log().read(where, limit + 1)
    page = entries[:limit]
    note(entries=len(page), **{name: value for name, value in args.items() if value})
    return jsonify(
        {
            "count": len(page),
            "entries": [e.as_dict() for e in page],
            "next_cursor": str(page[-1].id) if len(entries) > limit else None,
        }
    )
