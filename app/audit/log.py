"""The audit log's storage: one append-only SQLite table in its own file under PD_DATA_DIR,
apart from the engine's generations, written by every process (web, workers, the command line)."""

import json
import os
import re
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Outcomes: the action did what was asked; the caller was turned away (no key, unknown key, wrong
# role); or the action failed (bad input, an error). A job's entry holds the job's final state.
OUTCOMES = ("succeeded", "refused", "failed", "cancelled")
LEAP_SECOND = re.compile(r"(T\d\d:\d\d):60")
BUSY_TIMEOUT_SECONDS = 10.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  role TEXT,
  door TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  status INTEGER,
  job_id TEXT,
  request TEXT,
  details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_action ON audit (action);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
COLUMNS = ("at", "actor", "role", "door", "action", "outcome", "status", "job_id", "request")


def audit_path(config: Mapping) -> Path:
    return Path(config["PD_DATA_DIR"]) / "audit" / "audit.sqlite3"


def utc_stamp(moment: datetime | None = None) -> str:
    """UTC as ISO 8601 with milliseconds and Z: fixed width, so text order is time order."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return (
        f"{moment.year:04d}"
        + moment.strftime("-%m-%dT%H:%M:%S.")
        + (f"{moment.microsecond // 1000:03d}Z")
    )


def parse_moment(text: str) -> str:
    """An ISO 8601 date or time (UTC unless it says otherwise) as a utc_stamp; ValueError if it
    is neither."""
    # RFC 3339 allows a lower-case t and z and a leap second, which fromisoformat does not.
    text = LEAP_SECOND.sub(r"\1:59", text.strip().upper())
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return utc_stamp(moment)
    except OverflowError:  # the first or last day of year 1 or 9999, with an offset
        return utc_stamp((datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC))


@dataclass(kw_only=True)
class Entry:
    """One staff action.

    actor: the key's name, "command line (<user>)", "no key" or "unknown key"; role: the key's.
    door: "http", "cli" or "job" (a background job's end, on behalf of the one who asked).
    status: the HTTP status, for the http door. request: method and path, without the query.
    details: what was done — file names, layout, mode, counts, timings; never member data.
    """

    actor: str
    door: str
    action: str
    outcome: str
    role: str | None = None
    status: int | None = None
    job_id: str | None = None
    request: str | None = None
    details: dict = field(default_factory=dict)
    at: str = field(default_factory=utc_stamp)
    id: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class Filter:
    """Which entries to read: `since` inclusive, `until` exclusive (utc_stamp text); `action` a
    whole action ("import.submit") or its family ("import"); `before` an id, for the next page."""

    since: str | None = None
    until: str | None = None
    action: str | None = None
    actor: str | None = None
    before: int | None = None


class AuditLog:
    """Appends entries and reads them back, newest first.

    One connection per thread and process (Celery's pool forks; a connection must not cross
    either), kept open: closing the last one checkpoints the WAL, which would cost every entry
    a second sync. Each entry is synced to disk when appended (synchronous=FULL), about 7 ms.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        if getattr(self._local, "pid", None) == os.getpid():
            return self._local.db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        self._local.db, self._local.pid = db, os.getpid()
        return db

    def append(self, entry: Entry) -> int:
        if entry.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {entry.outcome!r}")
        values = [getattr(entry, c) for c in COLUMNS]
        cursor = self._connect().execute(
            f"INSERT INTO audit ({', '.join(COLUMNS)}, details)"
            f" VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
            (*values, json.dumps(entry.details, sort_keys=True)),
        )
        return cursor.lastrowid

    def read(self, where: Filter, limit: int) -> list[Entry]:
        """At most `limit` entries matching `where`, newest first."""
        clauses, params = [], []
        if where.since:
            clauses.append("at >= ?")
            params.append(where.since)
        if where.until:
            clauses.append("at < ?")
            params.append(where.until)
        if where.action:
            clauses.append("(action = ? OR substr(action, 1, ?) = ?)")
            params += [where.action, len(where.action) + 1, f"{where.action}."]
        if where.actor:
            clauses.append("actor = ?")
            params.append(where.actor)
        if where.before is not None:
            clauses.append("id < ?")
            params.append(where.before)
        sql = f"SELECT id, {', '.join(COLUMNS)}, details FROM audit"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if not self.path.exists():
            return []
        rows = (
            self._connect().execute(f"{sql} ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        )
        return [
            Entry(
                id=row[0],
                **dict(zip(COLUMNS, row[1:-1], strict=True)),
                details=json.loads(row[-1]),
            )
            for row in rows
        ]
