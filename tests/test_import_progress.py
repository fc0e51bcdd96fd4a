"""An import's progress moves in every phase (rows read and validated, records merged and
documents written, publishing), its counts never go back, and at the end they are the summary's:
through the pipeline's callback and through a job on the thread executor, on both engines."""

import csv
import itertools
import threading
import time
from dataclasses import asdict
from pathlib import Path

import indexer.progress
from app import create_app
from app.jobs.store import FileJobStore
from fixtures.generate import COLUMNS, generate_rows
from indexer.pipeline import import_roster
from indexer.progress import (
    DONE,
    FHIR_VIEW,
    INDEXING,
    PHASES,
    PROGRESS_FIELDS,
    PUBLISHING,
    READING,
    progress_of,
)
from tests.conftest import FIXTURE_ROSTER
from tests.test_imports import STAFF, upload

COUNTS = tuple(name for name in PROGRESS_FIELDS if name != "phase")
# About 12,000 rows and 2,400 providers: more documents than Elasticsearch's writer holds queued
# and in flight (app.engines.es_bulk), so some are acknowledged before the last is queued.
LOCATIONS = 5000


def write_roster(path: Path) -> int:
    """Generated rows, then four that settle late or early: a row with a bad phone (imported
    with a warning), the same row again (rejected as a duplicate, found only while indexing), a
    row naming an office already listed by another location id (merged into it, with a warning)
    and a row with a bad NPI (rejected while reading). Returns the number of rows."""
    rows = list(generate_rows(LOCATIONS, seed=31))
    warned = {
        **rows[-1],
        "location_id": "LOC-PROGRESS",
        "address": "1 Progress Way",
        "phone": "555-01",
    }
    moved = {**rows[-2], "location_id": "LOC-MOVED"}
    rows += [warned, dict(warned), moved, {**rows[0], "npi": "1234567890"}]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def other_source(path: Path) -> Path:
    """A few rows of another source, merged into the directory with the roster."""
    lines = FIXTURE_ROSTER.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:41]), encoding="utf-8")
    return path


def check_snapshots(snapshots: list[dict], phases: tuple[str, ...]) -> None:
    """Phases in order, each seen; no count ever smaller than before."""
    seen = [s["phase"] for s in snapshots]
    assert list(dict.fromkeys(seen)) == list(phases), list(dict.fromkeys(seen))
    order = [PHASES.index(phase) for phase in seen]
    assert order == sorted(order)
    for before, after in itertools.pairwise(snapshots):
        for name in COUNTS:
            assert after[name] >= before[name], (name, before, after)


def moving_in(snapshots: list[dict], phase: str, name: str, final: int) -> list[int]:
    """The values of a count strictly between nothing and its final value during a phase."""
    return [s[name] for s in snapshots if s["phase"] == phase and 0 < s[name] < final]


def test_every_phase_moves_and_ends_at_the_summary(fresh_engine, tmp_path, monkeypatch):
    monkeypatch.setattr(indexer.progress, "PROGRESS_EVERY_SECONDS", 0.0)
    sources = tmp_path / "sources"
    other = import_roster(
        fresh_engine, other_source(tmp_path / "clinics.csv"), source="clinics", sources_dir=sources
    )
    roster = tmp_path / "roster.csv"
    rows = write_roster(roster)
    snapshots: list[dict] = []
    summary = import_roster(
        fresh_engine,
        roster,
        progress=lambda s: snapshots.append(progress_of(s)),
        sources_dir=sources,
    )
    check_snapshots(snapshots, (READING, INDEXING, PUBLISHING))
    final = progress_of(summary)
    assert snapshots[-1] == final
    assert summary.rows_read == rows
    assert (summary.rows_rejected, summary.rows_imported) == (2, rows - 2)
    assert summary.rows_with_warnings >= 2
    # Every record of both sources was merged; every document was written.
    with open(sources / "clinics.jsonl", encoding="utf-8") as fh:
        kept = sum(1 for _ in fh)
    assert kept == other.rows_imported
    assert summary.records_to_index == summary.records_indexed == (rows - 1) + kept
    assert summary.providers_indexed == summary.providers == fresh_engine.health()["providers"]
    # Each phase's counts move before the phase ends.
    assert moving_in(snapshots, READING, "rows_read", rows)
    assert moving_in(snapshots, READING, "rows_validated", rows)
    assert moving_in(snapshots, INDEXING, "records_indexed", summary.records_to_index)
    assert moving_in(snapshots, INDEXING, "providers_indexed", summary.providers)
    assert moving_in(snapshots, INDEXING, "rows_imported", summary.rows_imported)
    # The bad NPI is rejected while reading; the duplicate only once indexing has reached it.
    assert max(s["rows_rejected"] for s in snapshots if s["phase"] == READING) == 1
    assert all(s["rows_imported"] == 0 for s in snapshots if s["phase"] == READING)


class RecordingStore(FileJobStore):
    """The app's job files, also keeping every state each job was saved in."""

    def __init__(self, directory: Path):
        super().__init__(directory)
        self.saved: list[dict] = []
        self.lock = threading.Lock()

    def save(self, job) -> None:
        super().save(job)
        with self.lock:
            self.saved.append(asdict(job))


def test_a_job_reports_each_phase_while_it_runs(fresh_config, tmp_path, monkeypatch):
    monkeypatch.setattr(indexer.progress, "PROGRESS_EVERY_SECONDS", 0.01)
    app = create_app(fresh_config)
    store = RecordingStore(app.extensions["pd_job_store"].directory)
    app.extensions["pd_job_store"] = store
    client = app.test_client()
    roster = tmp_path / "roster.csv"
    rows = write_roster(roster)
    url = upload(client, roster).headers["Location"]
    polled = []
    deadline = time.monotonic() + 180
    while True:
        body = client.get(url, headers=STAFF).json
        polled.append(body)
        if body["state"] in ("succeeded", "failed"):
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.02)
    assert body["state"] == "succeeded", body
    final = body["progress"]
    assert set(final) == set(PROGRESS_FIELDS)
    assert final["phase"] == DONE
    assert (final["rows_read"], final["rows_imported"], final["rows_rejected"]) == (
        rows,
        rows - 2,
        2,
    )
    assert final["records_indexed"] == final["records_to_index"] == rows - 1
    assert (
        final["providers_indexed"]
        == body["providers"]
        == client.get("/v1/health").json["providers"]
    )
    # What anyone polling saw: counts that only grow, the phase named while it runs.
    running = [p["progress"] for p in polled if p["state"] == "running"]
    assert running and all(p["phase"] in PHASES for p in running)
    check_snapshots(
        [p["progress"] for p in polled if p["progress"]["phase"] is not None],
        tuple(dict.fromkeys(p["progress"]["phase"] for p in polled if p["progress"]["phase"])),
    )
    # Every state the job was saved in: each phase, counts moving within reading and indexing,
    # and the counts of the last one running are those the job ends with.
    saved = [{n: s[n] for n in PROGRESS_FIELDS} for s in store.saved if s["phase"] is not None]
    check_snapshots(saved, (READING, INDEXING, PUBLISHING, FHIR_VIEW, DONE))
    assert moving_in(saved, READING, "rows_validated", rows)
    assert moving_in(saved, INDEXING, "providers_indexed", body["providers"])
    assert moving_in(saved, INDEXING, "rows_imported", rows - 2)
    last_running = [s for s in saved if s["phase"] == FHIR_VIEW][-1]
    assert {n: last_running[n] for n in COUNTS} == {n: final[n] for n in COUNTS}
