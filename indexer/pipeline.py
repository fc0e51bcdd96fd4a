"""Roster file -> validated, enriched records -> provider documents -> a new live generation."""

import contextlib
import csv
import dataclasses
import functools
import gc
import itertools
import logging
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

from app.engines.base import Engine
from indexer.delta import apply_delta
from indexer.documents import documents_from_sorted
from indexer.enrich import enrich
from indexer.geocode import Locate
from indexer.layout import Layout, read_with_layout
from indexer.parallel import chunks, import_workers, ordered_map
from indexer.progress import INDEXING, PUBLISHING, Progress, Reporter
from indexer.records import ERROR, ImportSummary, RowError, Skipped
from indexer.sources.csv_roster import RosterFormatError, open_roster
from indexer.sources.plannet import read_plannet
from indexer.sources.xlsx_roster import read_xlsx_rows, xlsx_header
from indexer.staging import (
    SourceFiles,
    current,
    merged_runs,
    one_location_per_place,
    record_key,
    sorted_run,
    tagged,
    without_duplicates,
)
from indexer.validate import Row, validate_rows

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "roster"


# Rows validated, enriched and sorted together: in one worker process when a roster is checked in
# parallel, and one run of the external sort either way.
CHECK_CHUNK = 10_000
# What became of a row, as a chunk's check reports it.
GOOD, REJECTED, SKIPPED = "good", "rejected", "skipped"


def _check_chunk(
    chunk: list[tuple[int, Row]], locate: Locate | None = None
) -> list[tuple[int, dict | Skipped | None, list[RowError]]]:
    """Validate and enrich a chunk of rows."""
    checked: list[tuple[int, dict | Skipped | None, list[RowError]]] = []
    for line, raw in chunk:
        if isinstance(raw, Skipped):
            checked.append((line, raw, []))
            continue
        ((_, record, problems),) = validate_rows([(line, raw)])
        if record is not None:
            problems = problems + enrich(record, locate)
            if any(p.severity == ERROR for p in problems):
                record = None
        checked.append((line, record, problems))
    return checked


def staging_key(record: dict) -> tuple[str, str, str, int]:
    """The order records are staged in: by key, then roster line."""
    return (*record_key(record), record["line"])


def _check_chunk_into_run(
    chunk: list[tuple[int, Row]], workdir: str, locate: Locate | None = None
) -> tuple[list[tuple[int, str, list[RowError]]], str | None]:
    """Check a chunk (in a worker process for large rosters) and write its good records as one
    sorted run: what comes back is each row's outcome and the run's path, never the records,
    which would cost more to send back than to sort and write here."""
    outcomes: list[tuple[int, str, list[RowError]]] = []
    good: list[dict] = []
    for line, record, problems in _check_chunk(chunk, locate):
        if isinstance(record, Skipped):
            outcomes.append((line, SKIPPED, problems))
        elif record is None:
            outcomes.append((line, REJECTED, problems))
        else:
            outcomes.append((line, GOOD, problems))
            good.append(record)
    return outcomes, sorted_run(good, staging_key, workdir) if good else None


def _checked_runs(
    rows: Iterable[tuple[int, Row]], locate: Locate | None, workers: int, workdir: str
) -> Iterator[tuple[list[tuple[int, str, list[RowError]]], str | None]]:
    """Each chunk's outcomes and sorted run, in roster order. Validation is most of an import's
    CPU, so with more than one worker, chunks are checked in parallel processes
    (indexer.parallel)."""
    parts = chunks(rows, CHECK_CHUNK)
    first = next(parts, None)
    if first is None:
        return
    if locate is not None or len(first) < CHECK_CHUNK:
        workers = 1  # a street geocoder is one client, rate-limited; a small roster is quick
    check = functools.partial(_check_chunk_into_run, workdir=workdir, locate=locate)
    yield from ordered_map(check, itertools.chain([first], parts), workers)


def _read(rows: Iterable[tuple[int, Row]], summary: ImportSummary, reporter: Reporter):
    """The rows as they are read, counted (read, or skipped by the layout's row filter)."""
    for row in rows:
        if isinstance(row[1], Skipped):
            summary.rows_skipped += 1
        else:
            summary.rows_read += 1
        reporter.tick()
        yield row


def validated_runs(
    rows: Iterable[tuple[int, Row]],
    summary: ImportSummary,
    rejected_lines: set[int],
    reporter: Reporter,
    workdir: str,
    locate: Locate | None = None,
    workers: int = 1,
    warned_lines: set[int] | None = None,
) -> tuple[list[str], int]:
    """The good rows' records, enriched, as sorted runs (staging_key order), and how many there
    are; bad rows go into the summary with their reasons, and the warnings of good rows with
    theirs."""
    warned_lines = set() if warned_lines is None else warned_lines
    runs: list[str] = []
    good = 0
    for outcomes, run in _checked_runs(_read(rows, summary, reporter), locate, workers, workdir):
        if run is not None:
            runs.append(run)
        for line, outcome, problems in outcomes:
            if outcome == SKIPPED:
                continue
            summary.rows_validated += 1
            summary.errors.extend(problems)
            if outcome == REJECTED:
                rejected_lines.add(line)
                summary.rows_rejected = len(rejected_lines)
            else:
                good += 1
                if problems:
                    warned_lines.add(line)
            reporter.tick()
    return runs, good


def _counted_in(records: Iterable[dict], reporter: Reporter) -> Iterator[dict]:
    """Records as they are merged into documents, counted."""
    summary = reporter.summary
    for record in records:
        summary.records_indexed += 1
        reporter.tick()
        yield record


def staged_records(
    rows: Iterable[tuple[int, Row]],
    summary: ImportSummary,
    workdir: str,
    progress: Progress | Reporter | None = None,
    locate: Locate | None = None,
    workers: int = 1,
) -> Iterator[dict]:
    """A roster's good records in key order, one location per place, duplicates rejected; the
    summary's counts are final once this is exhausted.

    The roster is read and validated (phase `reading`) before the first record comes out; then
    the phase is `indexing`, and each row counts as imported (or rejected as a duplicate) as its
    record passes.
    """
    reporter = progress if isinstance(progress, Reporter) else Reporter(summary, progress)
    rejected: set[int] = set()
    warned: set[int] = set()

    def imported(record: dict) -> None:
        summary.rows_imported += 1
        if record["line"] in warned:
            summary.rows_with_warnings += 1

    runs, count = validated_runs(
        rows, summary, rejected, reporter, workdir, locate, workers, warned
    )
    summary.records_to_index += count
    reporter.phase(INDEXING)
    ordered = merged_runs(runs, staging_key, workdir)
    placed = one_location_per_place(
        _counted_in(ordered, reporter), summary.errors, warned, merged=imported
    )
    for record in without_duplicates(placed, summary.errors, rejected):
        summary.rows_rejected = len(rejected)
        imported(record)
        yield record
    summary.rows_rejected = len(rejected)
    summary.rows_imported = summary.rows_read - summary.rows_rejected
    summary.rows_with_warnings = len(warned - rejected)


class Collected:
    """A roster's provider documents in memory, for small rosters (tests, tools)."""

    def __init__(self, docs: list[dict]):
        self._docs = docs

    def documents(self) -> Iterator[dict]:
        return iter(self._docs)

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def location_count(self) -> int:
        return sum(len(d["locations"]) for d in self._docs)


def collect(
    rows: Iterable[tuple[int, dict[str, str] | list[RowError]]],
    summary: ImportSummary,
    progress: Progress | None = None,
    locate: Locate | None = None,
) -> Collected:
    """Validate, enrich and group a (small) roster into documents held in memory."""
    with tempfile.TemporaryDirectory(prefix="pd-collect-") as work:
        records = tagged(DEFAULT_SOURCE, staged_records(rows, summary, work, progress, locate))
        docs = list(documents_from_sorted(records))
    summary.providers = len(docs)
    summary.locations = sum(len(d["locations"]) for d in docs)
    return Collected(docs)


PLANNET_SUFFIXES = (".json", ".ndjson")
Paths = str | Path | Sequence[str | Path]


def roster_files(paths: Paths) -> list[Path]:
    """The files an import reads. A folder stands for its .ndjson and .json files, by name (a FHIR
    bulk export writes one NDJSON file per resource type).

    One CSV or Excel roster is read alone; several files must all be FHIR Plan-Net.
    """
    given = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for path in map(Path, given):
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in PLANNET_SUFFIXES
            )
            if not found:
                raise RosterFormatError(f"{path}: no .ndjson or .json file in this folder")
            files.extend(found)
        else:
            files.append(path)
    if not files:
        raise RosterFormatError("no roster file given")
    check_readable_together([f.name for f in files])
    return files


def check_readable_together(names: Sequence[str]) -> None:
    """Refuse files that cannot make one import: several files are Plan-Net resources read
    together (references resolve across them); a CSV or Excel roster comes alone."""
    if len(names) < 2:
        return
    tabular = [n for n in names if Path(n).suffix.lower() not in PLANNET_SUFFIXES]
    if tabular:
        raise RosterFormatError(
            f"one .csv or .xlsx roster at a time, on its own ({', '.join(tabular)} came with "
            "other files); only FHIR Plan-Net .json / .ndjson files are read together"
        )


def roster_rows(paths: Paths, layout: Layout | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a roster in the project's own layout: a .csv or .xlsx file (a spreadsheet), or FHIR
    Plan-Net as .json Bundles and .ndjson resources (one or more files, or a folder of them).

    Headers are checked now, before any row is read.
    """
    files = roster_files(paths)
    if files[0].suffix.lower() in PLANNET_SUFFIXES:
        return read_plannet(files)
    (path,) = files
    if path.suffix.lower() == ".xlsx":
        if layout is None:
            return read_xlsx_rows(path)
        layout.check_header(xlsx_header(path))
        return layout.translate(read_xlsx_rows(path, require_columns=False))
    if layout is not None:
        return read_with_layout(path, layout)
    return open_roster(path)


def _counted(docs: Iterable[dict], summary: ImportSummary) -> Iterator[dict]:
    summary.providers = summary.locations = 0
    for doc in docs:
        summary.providers += 1
        summary.locations += len(doc["locations"])
        yield doc


def _publish(engine: Engine, docs: Iterable[dict], reporter: Reporter) -> str:
    def acknowledged(count: int) -> None:
        reporter.summary.providers_indexed = count
        reporter.tick()

    with engine.new_generation() as generation:
        written = generation.write(docs, acknowledged)
        reporter.phase(PUBLISHING)
        generation.publish(expected=written)
    return generation.name


def _others(sources: SourceFiles, source: str, reporter: Reporter) -> dict[str, Iterator[dict]]:
    """The other sources' kept records, counted as they are merged (and in the total now)."""
    others = {}
    for other in sources.sources():
        if other != source:
            reporter.summary.records_to_index += sources.count(other)
            others[other] = _counted_in(sources.read(sources.path(other)), reporter)
    return others


# The cyclic garbage collector's thresholds while an import runs. An import makes millions of
# short-lived dicts and lists, which reference counting frees as they go; at the default
# thresholds (a collection every 700 new containers) the collector walked every record held in
# memory thousands of times: ~40% of reading and validating a roster.
IMPORT_GC_THRESHOLDS = (100_000, 50, 100)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """The collector at IMPORT_GC_THRESHOLDS while the body runs (process-wide; the processes
    that validate rows in parallel are started inside, and inherit them)."""
    before = gc.get_threshold()
    gc.set_threshold(*IMPORT_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@fewer_collections()
def import_roster(
    engine: Engine,
    paths: Paths,
    progress: Progress | None = None,
    locate: Locate | None = None,
    layout: Layout | None = None,
    source: str = DEFAULT_SOURCE,
    sources_dir: str | Path | None = None,
    mode: str = "full",
) -> ImportSummary:
    """Make a roster the whole of its source, and publish the directory of all sources; or, with
    mode "delta", apply a delta roster's adds, changes and terminations in place.

    `paths`: one roster file, or several Plan-Net files or folders (see `roster_files`).

    The new generation is built beside the live one from the merge of every source's records and
    swapped in only when complete; the source's new records are kept only once it is live.
    Rows that fail validation are reported in the summary and left out; anything that goes wrong
    with the engine discards the half-built generation and re-raises.
    """
    files = roster_files(paths)
    name = ", ".join(str(f) for f in files)
    summary = ImportSummary(source=name)
    rows = roster_rows(files, layout)
    if mode == "delta":
        if sources_dir is None:
            raise ValueError("a delta needs the directory's kept sources (sources_dir)")
        summary.changes = apply_delta(
            engine, rows, sources_dir, source, summary, locate=locate, layout=layout
        )
        summary.generation = engine.health()["generation"]
        log.info("delta %s (source %s): %s", name, source, summary.changes)
        return summary
    reporter = Reporter(summary, progress)
    reporter.report()
    with tempfile.TemporaryDirectory(prefix="pd-import-") as work:
        sources = SourceFiles(sources_dir if sources_dir is not None else Path(work) / "sources")
        staged = sources.staged(source)
        try:
            fresh = sources.write(
                staged, staged_records(rows, summary, work, reporter, locate, import_workers())
            )
            streams = {**_others(sources, source, reporter), source: fresh}
            merged = current(sources.merged(replace=streams), date.today().isoformat())
            docs = _counted(documents_from_sorted(merged), summary)
            summary.generation = _publish(engine, docs, reporter)
        except BaseException:
            sources.discard(source)
            raise
        sources.commit(source)
    if layout is not None:
        # Report the roster's own column names, which the people fixing it know.
        summary.errors = [
            dataclasses.replace(e, field=layout.source_name(e.field)) for e in summary.errors
        ]
    log.info(
        "import %s (source %s): %d rows read, %d imported, %d rejected, generation %s",
        name,
        source,
        summary.rows_read,
        summary.rows_imported,
        summary.rows_rejected,
        summary.generation,
    )
    return summary


def rebuild(engine: Engine, sources_dir: str | Path) -> ImportSummary:
    """Publish a new generation from the sources' kept records (after a mapping change)."""
    summary = ImportSummary(source=str(sources_dir), phase=INDEXING)
    merged = current(SourceFiles(sources_dir).merged(), date.today().isoformat())
    docs = _counted(documents_from_sorted(merged), summary)
    summary.generation = _publish(engine, docs, Reporter(summary, None))
    return summary


REJECT_COLUMNS = ("line", "field", "value", "reason", "severity")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # A spreadsheet opening this file must show a value, never run it as a formula.
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def write_rejects(errors: Iterable[RowError], path: str | Path) -> int:
    """Write row problems as CSV (line, field, value, reason, severity: `error` for a rejected
    row, `warning` for a value left out of a row that went in); returns the number written."""
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(REJECT_COLUMNS)
        for error in errors:
            writer.writerow(
                [error.line, error.field, _cell(error.value), _cell(error.reason), error.severity]
            )
            count += 1
    return count
