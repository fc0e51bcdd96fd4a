"""Bulk files of the directory's Plan-Net resources (FHIR Bulk Data Access 2.0): one NDJSON file
per resource type and a manifest, written from a FHIR view, and published into a folder
atomically.

A set is a folder: `<Type>.ndjson` for each type with at least one resource (types with none get
no file and no manifest entry, as the Bulk Data spec asks), a gzip copy `<Type>.ndjson.gz` of each
(written in the same pass, so it is served without compressing per request), `manifest.json` and
`digests.json` (each file's SHA-256, the files' strong ETags). The manifest keeps file names as
its `url`s and `request` relative to the FHIR base (`$export?…`): whoever serves the set makes
them absolute for the host that was asked.

A published folder holds `sets/<stamp>/` and a symlink `current` to the newest complete set; the
link is replaced in one rename only once every file of the new set is on disk, and the previous
set is kept (a reader may still be downloading it) until the next publish.
"""

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from app.fhir.dates import FORMAT, parse_range
from app.fhir.params import RESOURCE_TYPES
from app.jobs.lock import waiting_lock

NDJSON_MIMETYPE = "application/fhir+ndjson"
MANIFEST_NAME = "manifest.json"
DIGESTS_NAME = "digests.json"
SETS_DIR = "sets"
CURRENT_LINK = "current"
LOCK_NAME = ".publish.lock"
# Lines gathered before one write to the plain and gzip files (one page of the view).
LINES_PER_WRITE = 1000
# Fast enough to keep up with the view, most of the size gain of higher levels.
GZIP_LEVEL = 6

Progress = Callable[[int], None]


def file_name(kind: str) -> str:
    return f"{kind}.ndjson"


def gzip_name(name: str) -> str:
    return f"{name}.gz"


def transaction_time(view) -> str:
    """The view's build instant as a FHIR instant: nothing in the set is newer."""
    return parse_range(view.built_at)[0] + "Z"


def export_request(types: Iterable[str] | None = None, since: str | None = None) -> str:
    """The kick-off request a set answers, relative to the FHIR base."""
    query = []
    if types:
        query.append("_type=" + ",".join(types))
    if since:
        query.append("_since=" + since)
    return "$export" + ("?" + "&".join(query) if query else "")


def write_set(
    view,
    directory: str | Path,
    types: Iterable[str] | None = None,
    since: str | None = None,
    *,
    request: str | None = None,
    progress: Progress | None = None,
) -> dict:
    """Write the view's resources of `types` (all Plan-Net types by default) updated after
    `since` (an instant key) into `directory`, one file per type, streamed a page at a time.

    `progress(resources written so far)` is called after every page; it may raise to stop the
    writing. Returns the manifest (also written to manifest.json, last).
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    kinds = list(types or RESOURCE_TYPES)
    output, digests, written = [], {}, 0
    for kind in kinds:
        if view.count(kind, since) == 0:
            continue
        name = file_name(kind)
        count, digest = _write_ndjson(view.iter_json(kind, since), folder / name, written, progress)
        written += count
        output.append({"type": kind, "url": name, "count": count})
        digests[name] = digest
    manifest = {
        "transactionTime": transaction_time(view),
        "request": request or export_request(types, since),
        "requiresAccessToken": False,
        "output": output,
        "error": [],
    }
    _write_json(folder / DIGESTS_NAME, digests)
    _write_json(folder / MANIFEST_NAME, manifest)
    _sync_dir(folder)
    return manifest


def _write_ndjson(
    lines: Iterable[str], path: Path, before: int, progress: Progress | None
) -> tuple[int, str]:
    """Write lines to `path` and its gzip copy; (lines written, SHA-256 of the plain file)."""
    digest = hashlib.sha256()
    count = 0
    with (
        open(path, "wb") as plain,
        open(path.with_name(gzip_name(path.name)), "wb") as raw,
        # mtime 0: the same lines always give the same gzip bytes.
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as packed,
    ):
        page: list[str] = []

        def flush() -> None:
            data = "".join(page).encode("utf-8")
            plain.write(data)
            packed.write(data)
            digest.update(data)
            page.clear()
            if progress is not None:
                progress(before + count)

        for line in lines:
            page.append(line + "\n")
            count += 1
            if len(page) >= LINES_PER_WRITE:
                flush()
        if page:
            flush()
        packed.close()
        for fh in (plain, raw):
            fh.flush()
            os.fsync(fh.fileno())
    return count, digest.hexdigest()


def _write_json(path: Path, value) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(value, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- publishing ---------------------------------------------------------------------------------


def current_set(target_dir: str | Path) -> Path | None:
    """The newest complete set published into `target_dir`, or None."""
    link = Path(target_dir) / CURRENT_LINK
    try:
        return link.parent / os.readlink(link)
    except FileNotFoundError:
        return None


def publish(view, target_dir: str | Path) -> tuple[Path, dict]:
    """Write every resource of the view as a new set under `target_dir` and make it current in
    one rename; keep the previous set, remove older ones. Returns (the set's folder, manifest)."""
    target = Path(target_dir)
    sets = target / SETS_DIR
    sets.mkdir(parents=True, exist_ok=True)
    # One publish into a folder at a time (on this machine).
    with waiting_lock(target / LOCK_NAME):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        partial = sets / f".{stamp}.partial"
        try:
            manifest = write_set(view, partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        final = sets / stamp
        os.rename(partial, final)
        previous = current_set(target)
        _point_current(target, final)
        keep = {final.name} | ({previous.name} if previous else set())
        for old in sets.iterdir():
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
    return final, manifest


def _point_current(target: Path, folder: Path) -> None:
    link = target / CURRENT_LINK
    tmp = target / f".{CURRENT_LINK}-{os.getpid()}-{threading.get_ident()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(os.path.relpath(folder, target), tmp)
    os.replace(tmp, link)
    _sync_dir(target)


# -- reading a set ------------------------------------------------------------------------------


class BulkSet:
    """A complete set on disk: its manifest and its files' digests."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        self.digests: dict[str, str] = json.loads(
            (folder / DIGESTS_NAME).read_text(encoding="utf-8")
        )

    @property
    def moment(self) -> datetime:
        """The set's transactionTime (its Last-Modified)."""
        low = parse_range(self.manifest["transactionTime"])[0]
        return datetime.strptime(low, FORMAT).replace(tzinfo=UTC)

    def path(self, name: str) -> Path | None:
        """The file of that name when it belongs to the set."""
        return self.folder / name if name in self.digests else None

    def manifest_with(self, file_url: Callable[[str], str], request_url: str) -> dict:
        """The manifest with absolute URLs."""
        return {
            **self.manifest,
            "request": request_url,
            "output": [{**item, "url": file_url(item["url"])} for item in self.manifest["output"]],
        }
