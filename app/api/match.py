"""Staff matching: POST /v1/match (one member), /v1/assignments (a batch job), /v1/adequacy.

Member data arrives in the body, never the query string, and is never logged.
"""

import csv
import io
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, url_for
from flask import request as http_request
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from app.api.uploads import job_or_404, job_timing, send_job_file, take_upload
from app.audit.record import note
from app.auth import require_role
from app.config import street_geocoder_from
from app.engines import get_engine
from app.errors import APIError
from app.jobs.executors import submit_assignment
from app.jobs.store import AssignmentJob, assignment_store
from app.match.adequacy import MemberPoint, adequacy_report
from app.match.batch import result_paths
from app.match.match import match_member
from app.match.member import MAX_DISTANCE_MILES, MatchRequestSchema, parse_home
from app.match.rules import load_rules
from app.search.arguments import Matches
from app.vocab.codes import LINES_OF_BUSINESS, PLAN_CODE
from app.vocab.zips import ZIP5

bp = Blueprint("match", __name__, url_prefix="/v1")
MAX_ADEQUACY_POINTS = 200_000


def _locate():
    """The street geocoder for member addresses, built once per app (None when not configured)."""
    if "pd_locate" not in current_app.extensions:
        current_app.extensions["pd_locate"] = street_geocoder_from(current_app.config)
    return current_app.extensions["pd_locate"]


def _rules():
    return load_rules(current_app.config.get("PD_MATCH_RULES"))


def _json_body() -> dict:
    body = http_request.get_json(silent=True)
    if not isinstance(body, dict):
        raise APIError(
            400, "invalid_body", "send the member as a JSON object (Content-Type: application/json)"
        )
    return body


@bp.post("/match")
@require_role("enrollment", action="match")
def match():
    member, choices = MatchRequestSchema(locate=_locate()).load(_json_body())
    answer = match_member(get_engine(), member, _rules(), choices)
    # Counts only: who the member is and where they live stay out of the audit log.
    note(
        rules_version=answer.get("rules_version"),
        choices=choices,
        qualifying=answer.get("qualifying"),
        candidates=len(answer.get("candidates", [])),
    )
    return jsonify(answer)


def present_assignment(job: AssignmentJob) -> dict:
    body = {
        "id": job.id,
        "state": job.state,
        "filename": job.filename,
        "rules_version": job.rules_version,
        "progress": {
            "rows_read": job.rows_read,
            "members_scored": job.members_scored,
            "members_assigned": job.members_assigned,
            "members_unassigned": job.members_unassigned,
            "rows_rejected": job.rows_rejected,
        },
        "total_cost": job.total_cost,
        "attempts": job.attempts,
        "timing": job_timing(job),
        "error": job.error,
        "links": {"self": url_for("match.get_assignment", job_id=job.id)},
    }
    if job.state == "succeeded":
        body["links"]["result"] = url_for("match.get_assignment_result", job_id=job.id)
        body["links"]["errors"] = url_for("match.get_assignment_errors", job_id=job.id)
    return body


@bp.post("/assignments")
@require_role("enrollment", action="assignment.submit")
def create_assignment():
    upload = take_upload((".csv",), "member file")
    if http_request.form:
        raise APIError(
            400,
            "invalid_parameter",
            "this endpoint takes only the file",
            {name: ["unknown field"] for name in http_request.form},
        )
    uploads = current_app.extensions["pd_uploads_dir"]
    uploads.mkdir(parents=True, exist_ok=True)
    job = AssignmentJob.new(upload.filename, uploads, requested_by=g.staff.name)
    upload.save(job.upload_path)
    assignment_store().save(job)
    note(job_id=job.id, file=job.filename)
    submit_assignment(job.id)
    response = jsonify(present_assignment(job))
    response.status_code = 202
    response.headers["Location"] = url_for("match.get_assignment", job_id=job.id)
    return response


@bp.get("/assignments/<job_id>")
@require_role("enrollment", action="assignment.status", every_outcome=False)
def get_assignment(job_id: str):
    return jsonify(present_assignment(job_or_404(assignment_store(), job_id, "assignment")))


def _assignment_file(job_id: str, which: int, suffix: str):
    job = job_or_404(assignment_store(), job_id, "assignment")
    note(job_id=job.id)
    path = result_paths(current_app.extensions["pd_assignments_dir"], job.id)[which]
    return send_job_file(job, path, "assignment", f"{Path(job.filename).stem}-{suffix}.csv")


@bp.get("/assignments/<job_id>/result.csv")
@require_role("enrollment", action="assignment.result")
def get_assignment_result(job_id: str):
    return _assignment_file(job_id, 0, "assignments")


@bp.get("/assignments/<job_id>/errors.csv")
@require_role("enrollment", action="assignment.errors")
def get_assignment_errors(job_id: str):
    return _assignment_file(job_id, 1, "errors")


def _zip_list(**kwargs) -> fields.List:
    """The members' ZIP codes, one entry per member."""
    return fields.List(
        fields.String(
            validate=Matches(ZIP5, error="a 5-digit ZIP code"), metadata={"format": "zip-code"}
        ),
        validate=validate.Length(1, MAX_ADEQUACY_POINTS),
        metadata={"description": "One entry per member (repeat a ZIP for several)."},
        **kwargs,
    )


class AdequacySchema(Schema):
    class Meta:
        unknown = RAISE

    plan = fields.String(required=True, validate=Matches(PLAN_CODE, error="not a plan code"))
    line_of_business = fields.String(
        required=True,
        validate=validate.OneOf(LINES_OF_BUSINESS, error="expected one of {choices}"),
    )
    zips = _zip_list()
    max_distance = fields.Float(
        allow_nan=False, validate=validate.Range(0, MAX_DISTANCE_MILES, min_inclusive=False)
    )


class AdequacyZips(AdequacySchema):
    """POST /v1/adequacy as JSON: the plan and the members' ZIP codes."""

    zips = _zip_list(
        required=True,
        error_messages={"required": "give a ZIP list, or upload a member file as 'file'"},
    )


def _points_from_zips(zips: list[str]) -> list[MemberPoint]:
    points, unknown = [], []
    for zip_code in zips:
        try:
            lat, lon = parse_home(zip_code)
        except ValidationError:
            unknown.append(zip_code)
            continue
        points.append(MemberPoint(zip_code, lat, lon))
    if unknown:
        raise ValidationError(
            {"zips": [f"unknown ZIP codes: {', '.join(sorted(set(unknown))[:20])}"]}
        )
    return points


def _points_from_file(upload) -> list[MemberPoint]:
    try:
        return _read_points(upload)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError({"file": ["not a UTF-8 CSV file"]}) from exc


def _read_points(upload) -> list[MemberPoint]:
    text = io.TextIOWrapper(upload.stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    if "home" not in (reader.fieldnames or []):
        raise ValidationError({"file": ["the member file needs a home column (ZIP or lat,lon)"]})
    points, bad = [], []
    for row in reader:
        if len(points) >= MAX_ADEQUACY_POINTS:
            raise ValidationError({"file": [f"at most {MAX_ADEQUACY_POINTS} members"]})
        label = (row.get("member_id") or "").strip() or f"line {reader.line_num}"
        try:
            lat, lon = parse_home(row.get("home") or "")
        except ValidationError:
            bad.append(reader.line_num)
            continue
        points.append(MemberPoint(label, lat, lon))
    if bad:
        lines = ", ".join(str(n) for n in bad[:20])
        raise ValidationError(
            {"file": [f"home is not a known ZIP code or lat,lon on lines {lines}"]}
        )
    if not points:
        raise ValidationError({"file": ["no members in the file"]})
    return points


@bp.post("/adequacy")
@require_role("enrollment", "importer", action="adequacy")
def adequacy():
    if http_request.files:
        form = AdequacySchema().load(http_request.form.to_dict())
        if "zips" in form:
            raise ValidationError({"zips": ["give a member file or a ZIP list, not both"]})
        points = _points_from_file(take_upload((".csv",), "member location file"))
    else:
        form = AdequacyZips().load(_json_body())
        points = _points_from_zips(form["zips"])
    report = adequacy_report(
        get_engine(),
        _rules(),
        form["plan"],
        form["line_of_business"],
        points,
        form.get("max_distance"),
    )
    note(
        plan=form["plan"],
        line_of_business=form["line_of_business"],
        members=report.get("members"),
        covered=report.get("covered"),
    )
    return jsonify(report)
