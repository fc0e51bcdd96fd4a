"""What an import is asked to do, whichever door it came in by: the CLI, POST /v1/imports, a Celery
task. The one object every door builds and the one runner takes."""

from dataclasses import asdict, dataclass

from app.vocab.codes import SOURCE_CODE
from indexer.pipeline import DEFAULT_SOURCE

MODES = ("full", "delta")


@dataclass(frozen=True, kw_only=True)
class ImportRequest:
    """An import of one roster (or of several Plan-Net files) into one source.

    files: paths to read — one .csv/.xlsx roster, or .json/.ndjson Plan-Net files and folders of
        them, read together. A job's files are its saved uploads.
    source: which source the roster stands for; the directory merges all sources.
    layout: a shipped layout name or a layout file; None for the project's own layout.
    mode: "full" (the roster is the whole source) or "delta" (rows add, change, terminate).
    requested_by: who asked (a staff key's name, or the user at the command line), for the record.

    The street geocoder is not part of the request: the runner takes it from the configuration
    (PD_GEOCODER…), the same for every door.
    """

    files: tuple[str, ...]
    source: str = DEFAULT_SOURCE
    layout: str | None = None
    mode: str = "full"
    requested_by: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.files, str) or not self.files:
            raise ValueError("an import needs one or more files")
        object.__setattr__(self, "files", tuple(str(f) for f in self.files))
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if not SOURCE_CODE.match(self.source):
            raise ValueError(
                f"a source is lowercase letters, digits and '-' (e.g. sunrise), not {self.source!r}"
            )

    def as_dict(self) -> dict:
        """JSON-ready: what a job record keeps."""
        return {**asdict(self), "files": list(self.files)}

    @classmethod
    def from_dict(cls, data: dict) -> "ImportRequest":
        return cls(
            files=tuple(data["files"]),
            source=data.get("source", DEFAULT_SOURCE),
            layout=data.get("layout"),
            mode=data.get("mode", "full"),
            requested_by=data.get("requested_by"),
        )
