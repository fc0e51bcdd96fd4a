"""The project's own roster CSV layout, read one row at a time."""

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from indexer.sources.text_files import open_text


class RosterFormatError(ValueError):
    """The file cannot be read as a roster at all (no header, missing required columns)."""


# Only the key decides whether a row is in (see indexer.validate); a file without these columns
# cannot be a roster at all.
REQUIRED_COLUMNS = ("npi", "zip")


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (physical line number, row) for each data row; the header is line 1."""
    reader = csv.DictReader(stream)
    if reader.fieldnames is None:
        raise RosterFormatError("the file is empty: expected a header row")
    header = [name.strip() for name in reader.fieldnames]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RosterFormatError(f"missing required column(s): {', '.join(missing)}")
    reader.fieldnames = header
    for row in reader:
        # line_num is the physical line the row ended on; quoted newlines make rows span lines.
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        if None in row:
            values["__extra__"] = "|".join(row[None])
        yield reader.line_num, values


def open_roster(path: str | Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Read a roster CSV file lazily."""
    with open_text(path) as fh:
        yield from read_rows(fh)
