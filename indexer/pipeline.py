"""Roster file -> validated, enriched records -> provider documents -> a new live generation."""

import csv
import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from app.engines.base import Engine
from indexer.documents import DirectoryBuilder
from indexer.enrich import enrich
from indexer.geocode import Locate
from indexer.layout import Layout, read_with_layout
from indexer.records import ImportSummary, RowError
from indexer.sources.csv_roster import open_roster
from indexer.sources.plannet import read_plannet
from indexer.sources.xlsx_roster import read_xlsx_rows, xlsx_header
from indexer.validate import validate_rows

log = logging.getLogger(__name__)

Progress = Callable[[ImportSummary], None]


def collect(
    rows: Iterable[tuple[int, dict[str, str]]],
    summary: ImportSummary,
    progress: Progress | None = None,
    every: int = 1000,
    locate: Locate | None = None,
) -> DirectoryBuilder:
    """Validate and enrich every row; good rows go into the builder, bad ones into the summary."""
    builder = DirectoryBuilder()
    rejected_lines: set[int] = set()
    for line, record, errors in validate_rows(rows):
        summary.rows_read += 1
        if record is not None:
            errors = enrich(record, locate) or builder.add(record)
        if errors:
            summary.errors.extend(errors)
            rejected_lines.add(line)
        if progress and summary.rows_read % every == 0:
            summary.rows_rejected = len(rejected_lines)
            progress(summary)
    summary.rows_rejected = len(rejected_lines)
    summary.rows_imported = summary.rows_read - summary.rows_rejected
    summary.providers = len(builder)
    summary.locations = builder.location_count
    return builder


def roster_rows(
    path: str | Path, layout: Layout | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a roster file in the project's own layout: .csv, .xlsx (a spreadsheet), or FHIR
    Plan-Net as a .json Bundle or .ndjson resources.

    Headers are checked now, before any row is read.
    """
    suffix = Path(path).suffix.lower()
    if suffix in (".json", ".ndjson"):
        return read_plannet([path])
    if suffix == ".xlsx":
        if layout is None:
            return read_xlsx_rows(path)
        layout.check_header(xlsx_header(path))
        return layout.translate(read_xlsx_rows(path, require_columns=False))
    if layout is not None:
        return read_with_layout(path, layout)
    return open_roster(path)


def import_roster(
    engine: Engine,
    path: str | Path,
    progress: Progress | None = None,
    locate: Locate | None = None,
    layout: Layout | None = None,
) -> ImportSummary:
    """Build a new generation from a roster CSV and make it live; the old one serves until then.

    Rows that fail validation are reported in the summary and left out; anything that goes wrong
    with the engine discards the half-built generation and re-raises.
    """
    summary = ImportSummary(source=str(path))
    rows = roster_rows(path, layout)
    builder = collect(rows, summary, progress, locate=locate)
    if layout is not None:
        # Report the roster's own column names, which the people fixing it know.
        summary.errors = [
            dataclasses.replace(e, field=layout.source_name(e.field)) for e in summary.errors
        ]
    with engine.new_generation() as generation:
        written = generation.write(builder.documents())
        generation.publish(expected=written)
    summary.generation = generation.name
    log.info(
        "import %s: %d rows read, %d imported, %d rejected, generation %s",
        path,
        summary.rows_read,
        summary.rows_imported,
        summary.rows_rejected,
        generation.name,
    )
    return summary


REJECT_COLUMNS = ("line", "field", "value", "reason")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # A spreadsheet opening this file must show a value, never run it as a formula.
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def write_rejects(errors: Iterable[RowError], path: str | Path) -> int:
    """Write rejected rows as CSV (line, field, value, reason); returns the number written."""
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(REJECT_COLUMNS)
        for error in errors:
            writer.writerow([error.line, error.field, _cell(error.value), _cell(error.reason)])
            count += 1
    return count
