"""Value types that flow through the import: a row error and the import summary."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowError:
    """Why one roster row (or one of its cells) was rejected."""

    line: int
    field: str
    value: str
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "value": self.value, "reason": self.reason}


@dataclass
class ImportSummary:
    """What an import read, kept and rejected."""

    source: str
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    providers: int = 0
    locations: int = 0
    generation: str | None = None
    errors: list[RowError] = field(default_factory=list)
    changes: dict[str, int] | None = None

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_rejected": self.rows_rejected,
            "providers": self.providers,
            "locations": self.locations,
            "generation": self.generation,
            "changes": self.changes,
        }
