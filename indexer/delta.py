"""Delta rosters: adds, changes and terminations applied to the live directory without a rebuild.

A delta roster has the columns of a full roster plus `action` (`add`, `change`, `terminate`) and,
for terminations, `termination_date`. A terminate row needs only npi, location_id, plan (blank for
a listing without a plan) and the date. The source's kept records are updated (a terminated record
is kept with its date) and only the providers touched are rewritten in the live directory. A
termination dated in the future takes the record out of search when that day comes
(`expire_terminations`, run daily).
"""

import csv
import heapq
import itertools
import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.engines.base import Engine
from app.vocab.codes import PLAN_CODE
from app.vocab.fields import Npi
from indexer.documents import documents_from_sorted
from indexer.enrich import enrich
from indexer.geocode import Locate
from indexer.layout import Layout
from indexer.records import ERROR, ImportSummary, RowError, Skipped
from indexer.staging import SourceFiles, current, external_sort, record_key, without_duplicates
from indexer.validate import validate_rows

ACTIONS = ("add", "change", "terminate")
EXPIRED_THROUGH = "expired-through.json"


class TerminationSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    npi = Npi(required=True)
    location_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    plan = fields.String(validate=validate.Regexp(PLAN_CODE))
    termination_date = fields.Date(required=True)


_terminations = TerminationSchema()


def _delta_records(
    rows: Iterable[tuple[int, dict | list[RowError]]],
    summary: ImportSummary,
    rejected: set[int],
    locate: Locate | None,
    warned: set[int],
) -> Iterator[dict]:
    for line, raw in rows:
        if isinstance(raw, Skipped):
            summary.rows_skipped += 1
            continue
        summary.rows_read += 1
        errors: list[RowError] = []
        record = None
        if isinstance(raw, list):
            errors = raw
        else:
            raw = dict(raw)
            action = raw.pop("action", "").strip().lower()
            ends = raw.pop("termination_date", "").strip()
            if action not in ACTIONS:
                errors = [RowError(line, "action", action, f"expected one of {', '.join(ACTIONS)}")]
            elif action == "terminate":
                try:
                    loaded = _terminations.load(
                        {k: v for k, v in {**raw, "termination_date": ends}.items() if v}
                    )
                except ValidationError as exc:
                    errors = [
                        RowError(line, name, raw.get(name, ends), " ".join(map(str, reasons)))
                        for name, reasons in sorted(exc.normalized_messages().items())
                    ]
                else:
                    record = {
                        "npi": loaded["npi"],
                        "location_id": loaded["location_id"],
                        "plan": loaded.get("plan"),
                        "terminated_on": loaded["termination_date"].isoformat(),
                    }
            else:
                ((_, record, errors),) = validate_rows([(line, raw)])
                if record is not None:
                    errors = errors + enrich(record, locate)
        summary.errors.extend(errors)
        if record is None or any(e.severity == ERROR for e in errors):
            rejected.add(line)
            continue
        if errors:
            warned.add(line)
        record["line"] = line
        record["action"] = action
        yield record


def _merge(
    existing: Iterable[dict],
    changes: Iterable[dict],
    summary: ImportSummary,
    rejected: set[int],
    touched: set[str],
    counts: dict[str, int],
) -> Iterator[dict]:
    """The source's records with the changes applied, in key order."""
    marked = heapq.merge(
        ((record_key(r), 0, r) for r in existing),
        ((record_key(c), 1, c) for c in changes),
        key=lambda item: (item[0], item[1]),
    )
    for key, group in itertools.groupby(marked, key=lambda item: item[0]):
        items = list(group)
        current = next((r for _, side, r in items if side == 0), None)
        for _, side, change in items:
            if side == 0:
                continue
            action = change.pop("action")
            problem = None
            if action == "add" and current is not None:
                problem = "already in the directory for this source: use action change"
            elif action != "add" and current is None:
                problem = "not in the directory for this source: use action add"
            if problem:
                summary.errors.append(RowError(change["line"], "action", action, problem))
                rejected.add(change["line"])
                continue
            if action == "terminate":
                current = {**current, "terminated_on": change["terminated_on"]}
            else:
                current = change
            counts[action] += 1
            touched.add(key[0])
        if current is not None:
            yield current


def _documents_for(
    sources: SourceFiles, replace: dict, npis: set[str], today: str
) -> tuple[list[dict], list[str]]:
    """Fresh documents for these NPIs from every source, and the NPIs left with no record."""
    merged = (r for r in sources.merged(replace=replace) if r["npi"] in npis)
    docs = list(documents_from_sorted(current(merged, today)))
    gone = sorted(npis - {d["npi"] for d in docs})
    return docs, gone


def apply_delta(
    engine: Engine,
    rows: Iterable[tuple[int, dict | list[RowError]]],
    sources_dir: str | Path,
    source: str,
    summary: ImportSummary,
    locate: Locate | None = None,
    today: date | None = None,
    layout: Layout | None = None,
) -> dict[str, int]:
    """Apply a delta roster to a source and to the live directory; returns counts per action."""
    today_text = (today or date.today()).isoformat()
    sources = SourceFiles(sources_dir)
    rejected: set[int] = set()
    warned: set[int] = set()
    touched: set[str] = set()
    counts = dict.fromkeys(ACTIONS, 0)
    with tempfile.TemporaryDirectory(prefix="pd-delta-") as work:
        changes = without_duplicates(
            external_sort(
                _delta_records(rows, summary, rejected, locate, warned),
                key=lambda r: (*record_key(r), r["line"]),
                workdir=work,
            ),
            summary.errors,
            rejected,
        )
        path = sources.path(source)
        existing = sources.read(path) if path.exists() else iter(())
        staged = sources.staged(source)
        try:
            # Written out in full first: the touched providers are known only at the end.
            for _ in sources.write(
                staged, _merge(existing, changes, summary, rejected, touched, counts)
            ):
                pass
            replace = {source: sources.read(staged)}
            docs, gone = _documents_for(sources, replace, touched, today_text)
            result = engine.apply_changes(docs, gone)
        except BaseException:
            sources.discard(source)
            raise
        sources.commit(source)
    summary.rows_rejected = len(rejected)
    summary.rows_imported = summary.rows_read - summary.rows_rejected
    summary.rows_with_warnings = len(warned - rejected)
    summary.providers = result["upserted"]
    if layout is not None:
        summary.errors = [
            RowError(e.line, layout.source_name(e.field), e.value, e.reason, e.severity)
            for e in summary.errors
        ]
    return {**counts, **result}


def expire_terminations(engine: Engine, sources_dir: str | Path, today: date | None = None) -> int:
    """Take out of search the records whose termination date has come; returns providers changed.

    Remembers the last day it ran, so each termination is applied once.
    """
    today = today or date.today()
    sources = SourceFiles(sources_dir)
    marker = Path(sources_dir) / EXPIRED_THROUGH
    since = (
        json.loads(marker.read_text(encoding="utf-8"))["through"]
        if marker.exists()
        else (today - timedelta(days=3650)).isoformat()
    )
    due = {
        r["npi"]
        for r in sources.merged()
        if r.get("terminated_on") and since < r["terminated_on"] <= today.isoformat()
    }
    if due:
        docs, gone = _documents_for(sources, {}, due, today.isoformat())
        engine.apply_changes(docs, gone)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"through": today.isoformat()}), encoding="utf-8")
    return len(due)


def unverified(
    sources_dir: str | Path, days: int = 90, today: date | None = None
) -> Iterator[dict]:
    """Records in search whose last verification is older than `days` (or never happened)."""
    today = today or date.today()
    cutoff = (today - timedelta(days=days)).isoformat()
    for record in SourceFiles(sources_dir).merged():
        ends = record.get("terminated_on")
        if ends is not None and ends <= today.isoformat():
            continue
        verified = record.get("last_verified")
        if verified is None or verified < cutoff:
            yield {
                "source": record["source"],
                "npi": record["npi"],
                "location_id": record["location_id"],
                "plan": record.get("plan") or "",
                "plan_provider_id": record.get("plan_provider_id", ""),
                "last_verified": verified or "",
                "days_since_verified": (
                    (today - date.fromisoformat(verified)).days if verified else ""
                ),
            }


UNVERIFIED_COLUMNS = (
    "source",
    "npi",
    "location_id",
    "plan",
    "plan_provider_id",
    "last_verified",
    "days_since_verified",
)


def write_unverified(stream, sources_dir: str | Path, days: int = 90) -> int:
    """The verification report as CSV on `stream`; returns the number of records listed."""
    writer = csv.DictWriter(stream, fieldnames=UNVERIFIED_COLUMNS)
    writer.writeheader()
    count = 0
    for row in unverified(sources_dir, days):
        writer.writerow(row)
        count += 1
    return count
