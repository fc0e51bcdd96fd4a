"""Value types that flow through the import: row problems, skipped rows and the import summary."""

from dataclasses import dataclass, field

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class RowError:
    """A problem with one roster row or one of its cells.

    An `error` keeps the row out of the directory; a `warning` names a value that was left out
    (or mended) while the row went in.
    """

    line: int
    field: str
    value: str
    reason: str
    severity: str = ERROR

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
            "severity": self.severity,
        }


def warning(line: int, field: str, value: str, reason: str) -> RowError:
    return RowError(line, field, value, reason, WARNING)


@dataclass(frozen=True)
class Skipped:
    """A row a layout's filter leaves out on purpose (counted, never reported as a problem)."""

    reason: str


@dataclass
class ImportSummary:
    """What an import read, kept, skipped and rejected, and how far it has got (the phase and
    counts of indexer.progress, which only grow while it runs)."""

    source: str
    phase: str = "reading"
    rows_read: int = 0
    rows_validated: int = 0
    rows_imported: int = 0
    rows_with_warnings: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    providers: int = 0
    locations: int = 0
    # Records of every source merged into documents so far, of all there are to merge.
    records_indexed: int = 0
    records_to_index: int = 0
    # Documents the engine has acknowledged.
    providers_indexed: int = 0
    generation: str | None = None
    errors: list[RowError] = field(default_factory=list)
    changes: dict[str, int] | None = None

    @property
    def warnings(self) -> list[RowError]:
        return [e for e in self.errors if e.severity == WARNING]

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_with_warnings": self.rows_with_warnings,
            "rows_rejected": self.rows_rejected,
            "rows_skipped": self.rows_skipped,
            "providers": self.providers,
            "locations": self.locations,
            "generation": self.generation,
            "changes": self.changes,
        }
