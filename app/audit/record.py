"""Recording staff actions into the audit log from every door: the HTTP staff routes (marked by
`app.auth.require_role`, recorded with the response actually sent), the commands
(`audited_command`) and the end of background jobs.

What an action adds to its entry goes through `note()`: file names, layout, mode, counts, ids,
timings. Never member data, and never free text from an error (it may quote what was sent): a
failure is recorded by its code, the names of the fields at fault, or the exception's type.
"""

import contextlib
import functools
import getpass
import logging
import time

from flask import current_app, g, request

from app.audit.log import AuditLog, Entry, audit_path
from app.jobs.store import FINISHED
from indexer.progress import PROGRESS_FIELDS

log = logging.getLogger(__name__)
REFUSED = (401, 403)
# What a finished job's entry keeps of its record, by action.
JOB_FIELDS = {
    "import.job": (
        "filenames",
        "source",
        "layout",
        "mode",
        *PROGRESS_FIELDS,
        "providers",
        "generation",
        "changes",
    ),
    "assignment.job": (
        "filename",
        "rules_version",
        "rows_read",
        "rows_rejected",
        "members_scored",
        "members_assigned",
        "members_unassigned",
        "total_cost",
    ),
}


def audit_log() -> AuditLog:
    """The app's audit log (made on first use, in each process)."""
    extensions = current_app.extensions
    if "pd_audit" not in extensions:
        extensions["pd_audit"] = AuditLog(audit_path(current_app.config))
    return extensions["pd_audit"]


def note(**details) -> None:
    """Add to the current action's audit entry. `job_id` goes to the entry's own column."""
    g.setdefault("audit_details", {}).update(details)


def command_user() -> str:
    """Who runs a command: "command line (<user>)"."""
    try:
        return f"command line ({getpass.getuser()})"
    except (KeyError, OSError):  # no user name for this uid
        return "command line"


def _append(entry: Entry) -> None:
    # The action has happened (or been refused) whatever the log says: a log that cannot be
    # written is reported loudly, not turned into a failure of the action.
    try:
        audit_log().append(entry)
    except Exception:
        log.exception("could not write the audit entry for %s", entry.action)


def _taken_details(started: float, extra: dict) -> tuple[str | None, dict]:
    details = {**g.pop("audit_details", {}), **extra}
    details["seconds"] = round(time.monotonic() - started, 3)
    return details.pop("job_id", None), details


def begin_request(action: str, every_outcome: bool) -> None:
    """Mark the current request as the staff action `action`, to be recorded once its response
    is made (`record_response`): every outcome, or only refusals."""
    g.audit_request = (action, every_outcome, time.monotonic())
    g.audit_details = {}


def failure_of(response) -> dict:
    """What an error response says of itself, for the entry: its code and the names of the fields
    at fault (the envelope of app.errors), never the message."""
    body = response.get_json(silent=True) if response.is_json else None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return {}
    said = {"error": error.get("code")}
    if error.get("fields"):
        said["fields"] = sorted(error["fields"])
    return said


def record_response(response):
    """After every request (errors included, as their handlers answered them): record the staff
    action the request was marked as, with the status sent."""
    pending = g.pop("audit_request", None)
    if pending is None:
        return response
    action, every_outcome, started = pending
    status = response.status_code
    if every_outcome or status in REFUSED:
        failure = failure_of(response) if status >= 400 else {}
        record_request(action, g.get("staff"), status, started, failure)
    return response


def record_request(
    action: str, staff, status: int, started: float, failure: dict | None = None
) -> None:
    """One staff request; `staff` is the key's holder, None for no key or an unknown one."""
    if staff is not None:
        actor, role = staff.name, staff.role
    else:
        presented = request.headers.get("Authorization") or request.headers.get("X-API-Key")
        actor, role = ("unknown key" if presented else "no key"), None
    job_id, details = _taken_details(started, failure or {})
    outcome = "refused" if status in REFUSED else "succeeded" if status < 400 else "failed"
    _append(
        Entry(
            actor=actor,
            role=role,
            door="http",
            action=action,
            outcome=outcome,
            status=status,
            job_id=job_id,
            request=f"{request.method} {request.path}",
            details=details,
        )
    )


def error_name(exc: BaseException) -> str:
    """The type of what went wrong (a command's ClickException names its cause's)."""
    return type(exc.__cause__ or exc).__name__


def audited_command(action: str):
    """Record every run of a command (inside its app context), succeeded or failed."""

    def decorate(command):
        @functools.wraps(command)
        def wrapped(*args, **kwargs):
            started = time.monotonic()
            g.audit_details = {}
            outcome, extra = "succeeded", {}
            try:
                return command(*args, **kwargs)
            except BaseException as exc:
                outcome, extra = "failed", {"error": error_name(exc)}
                raise
            finally:
                job_id, details = _taken_details(started, extra)
                _append(
                    Entry(
                        actor=command_user(),
                        door="cli",
                        action=action,
                        outcome=outcome,
                        job_id=job_id,
                        details=details,
                    )
                )

        return wrapped

    return decorate


def record_job_end(kind: str, job) -> None:
    """A background job's end, on behalf of whoever asked for it. Imports and assignments only:
    FHIR exports are public, nobody's staff action."""
    action = f"{kind}.job"
    if action not in JOB_FIELDS:
        return
    details = {name: getattr(job, name) for name in JOB_FIELDS[action]}
    if job.started_at and job.finished_at:
        details["seconds"] = round(job.finished_at - job.started_at, 3)
    _append(
        Entry(
            actor=job.requested_by or "unknown",
            door="job",
            action=action,
            outcome=job.state,
            job_id=job.id,
            details=details,
        )
    )


@contextlib.contextmanager
def job_end_recorded(kind: str, store, job_id: str):
    """Record the job's end if what runs inside finishes it (a redelivered job that had already
    finished is not recorded twice)."""
    before = store.get(job_id)
    yield
    after = store.get(job_id)
    finished_now = after is not None and after.state in FINISHED
    if finished_now and (before is None or before.state not in FINISHED):
        record_job_end(kind, after)
