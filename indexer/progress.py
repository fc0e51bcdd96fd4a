"""How far an import has got: its phase, and a progress callback called at most every half second.

A full import goes through three phases, each with counts that move while it runs:

- `reading`: rows read from the files and validated (`rows_read`, `rows_validated`; rejected rows
  are counted as they are found);
- `indexing`: the sorted records merged into provider documents (`records_indexed` of
  `records_to_index`) and the documents the engine has acknowledged (`providers_indexed`). A row
  is known to be imported only here, once the duplicate check (which needs key order) has passed
  it, so `rows_imported` and `rows_with_warnings` move in this phase;
- `publishing`: the engine finishes the new generation (indexes, refresh, count) and swaps it in.

The job runner adds `fhir-view` (the FHIR view is rebuilt before the import lets go of the lock)
and `done`. Every count only ever grows, and at the end each equals the summary's.
"""

import time
from collections.abc import Callable

from indexer.records import ImportSummary

READING, INDEXING, PUBLISHING = "reading", "indexing", "publishing"
FHIR_VIEW, DONE = "fhir-view", "done"
PHASES = (READING, INDEXING, PUBLISHING, FHIR_VIEW, DONE)
# What an import job reports as its progress, as the summary names it.
PROGRESS_FIELDS = (
    "phase",
    "rows_read",
    "rows_validated",
    "rows_imported",
    "rows_with_warnings",
    "rows_rejected",
    "rows_skipped",
    "records_to_index",
    "records_indexed",
    "providers_indexed",
)
PROGRESS_EVERY_SECONDS = 0.5

Progress = Callable[[ImportSummary], None]


class Reporter:
    """Calls `progress(summary)` on every phase change and otherwise at most every `every`
    seconds: `tick()` is cheap enough to call for each row."""

    def __init__(self, summary: ImportSummary, progress: Progress | None):
        self.summary = summary
        self.progress = progress
        self.every = PROGRESS_EVERY_SECONDS
        self.due = time.monotonic() + self.every

    def tick(self) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if now >= self.due:
            self.due = now + self.every
            self.progress(self.summary)

    def phase(self, name: str) -> None:
        self.summary.phase = name
        self.report()

    def report(self) -> None:
        """Report now, whatever the time since the last report."""
        if self.progress is not None:
            self.due = time.monotonic() + self.every
            self.progress(self.summary)


def progress_of(summary: ImportSummary) -> dict:
    """The summary's progress fields by name."""
    return {name: getattr(summary, name) for name in PROGRESS_FIELDS}
