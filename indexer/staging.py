"""Sorted record files: how rosters are merged by provider without holding a roster in memory.

Validated records are sorted on disk in bounded chunks (an external merge sort) by their key,
npi + location_id + plan, then kept per source as one JSON-lines file in key order. The directory
is the key-ordered merge of every source's file: one provider's records arrive together, so
documents are built one provider at a time.
"""

import contextlib
import heapq
import itertools
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import orjson

from indexer.records import RowError, warning

CHUNK_RECORDS = 20_000
# Records pickled together in a sort run: one call per block, not per record.
RUN_BLOCK = 500
# Runs read at once in a merge (one open file each); more are merged in passes.
MAX_FAN_IN = 200
# A kept record: one JSON object a line, keys sorted (files of one roster compare equal).
KEPT_FORMAT = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def record_key(record: dict) -> tuple[str, str, str]:
    """npi, location_id, plan ("" for a listing without a plan)."""
    return record["npi"], record["location_id"], record.get("plan") or ""


def _dump_run(records: Iterable[dict], directory: str) -> str:
    """A sorted run, pickled: it lives only as long as the sort (quicker to write and read back
    than JSON)."""
    fd, path = tempfile.mkstemp(suffix=".run", dir=directory)
    source = iter(records)
    with os.fdopen(fd, "wb") as fh:
        # Blocks of records, each pickled on its own with its own memo (a pickler and an
        # unpickler shared across blocks would have to keep their memos in step).
        while block := list(itertools.islice(source, RUN_BLOCK)):
            pickle.dump(block, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _load_run(path: str) -> Iterator[dict]:
    with open(path, "rb") as fh:
        while True:
            try:
                block = pickle.load(fh)
            except EOFError:
                return
            yield from block


def _load(path: str) -> Iterator[dict]:
    with open(path, "rb") as fh:
        for line in fh:
            yield orjson.loads(line)


def sorted_run(records: list[dict], key: Callable[[dict], tuple], directory: str) -> str:
    """Sort `records` by `key` (in place) and write them as one run of an external sort."""
    records.sort(key=key)
    return _dump_run(records, directory)


def merged_runs(runs: list[str], key: Callable[[dict], tuple], directory: str) -> Iterator[dict]:
    """The records of sorted runs, in key order; the runs are removed once read, or when the
    reader stops. More than MAX_FAN_IN runs are first merged in passes: a run read is a file
    open."""
    runs = list(runs)
    try:
        while len(runs) > MAX_FAN_IN:
            group, rest = runs[:MAX_FAN_IN], runs[MAX_FAN_IN:]
            merged = _dump_run(heapq.merge(*map(_load_run, group), key=key), directory)
            for run in group:
                os.unlink(run)
            runs = [*rest, merged]
        yield from heapq.merge(*map(_load_run, runs), key=key)
    finally:
        for run in runs:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(run)


def external_sort(
    records: Iterable[dict],
    key: Callable[[dict], tuple],
    workdir: str,
    chunk: int = CHUNK_RECORDS,
    sorted_all: Callable[[int], None] | None = None,
) -> Iterator[dict]:
    """Records in key order, sorting at most `chunk` of them in memory at a time.

    Every record is read before the first comes out; `sorted_all(count)` is told then."""
    runs: list[str] = []
    source = iter(records)
    count = 0
    while batch := list(itertools.islice(source, chunk)):
        count += len(batch)
        runs.append(sorted_run(batch, key, workdir))
    if sorted_all is not None:
        sorted_all(count)
    yield from merged_runs(runs, key, workdir)


def one_location_per_place(
    records: Iterable[dict],
    errors: list[RowError],
    warned_lines: set[int],
    merged: Callable[[dict], None] | None = None,
) -> Iterator[dict]:
    """Records of one provider at two location ids whose addresses are one place (spelt two ways:
    `115 MALL DRIVE` / `115 Mall Dr`) under the location id of the first line, with a warning; a
    moved record that then repeats one already there (same plan, or both without) is that record
    (and is passed to `merged`, not yielded).

    Takes and yields records in key order (then line); one provider is held at a time.
    """
    for _npi, group in itertools.groupby(records, key=lambda r: r["npi"]):
        batch = list(group)
        ids_at: dict[str | None, set[str]] = {}
        for record in batch:
            ids_at.setdefault(record.get("place"), set()).add(record["location_id"])
        if all(len(ids) == 1 for place, ids in ids_at.items() if place is not None):
            yield from batch  # no place under two ids: nothing to merge, already in key order
            continue
        first_at: dict[str, dict] = {}
        seen: set[tuple] = set()
        out = []
        for record in sorted(batch, key=lambda r: r["line"]):
            place = record.get("place")
            first = first_at.setdefault(place, record) if place else record
            if first["location_id"] != record["location_id"]:
                errors.append(
                    warning(
                        record["line"],
                        "address",
                        record.get("address", ""),
                        f"same place as line {first['line']} ({first.get('address', '')}, "
                        f"location {first['location_id']}); listed as one location",
                    )
                )
                warned_lines.add(record["line"])
                record["location_id"] = first["location_id"]
                if record_key(record) in seen:
                    if merged is not None:
                        merged(record)
                    continue
            seen.add(record_key(record))
            out.append(record)
        yield from sorted(out, key=lambda r: (*record_key(r), r["line"]))


def without_duplicates(
    records: Iterable[dict], errors: list[RowError], rejected_lines: set[int]
) -> Iterator[dict]:
    """Drop the second and later records with one key (records sorted by key, then line)."""
    previous: dict | None = None
    for record in records:
        if previous is not None and record_key(previous) == record_key(record):
            errors.append(
                RowError(
                    record["line"],
                    "plan",
                    record.get("plan") or "",
                    f"duplicate of line {previous['line']} (same npi, location_id and plan)",
                )
            )
            rejected_lines.add(record["line"])
            continue
        previous = record
        yield record


def current(records: Iterable[dict], today: str) -> Iterator[dict]:
    """Records not terminated as of `today` (ISO date)."""
    for record in records:
        ends = record.get("terminated_on")
        if ends is None or ends > today:
            yield record


def tagged(source: str, records: Iterable[dict]) -> Iterator[dict]:
    """Records marked with the source they come from."""
    for record in records:
        record["source"] = source
        yield record


class SourceFiles:
    """Each source's current records, one key-ordered JSON-lines file per source."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def path(self, source: str) -> Path:
        return self.directory / f"{source}.jsonl"

    def sources(self) -> list[str]:
        if not self.directory.exists():
            return []
        return sorted(p.stem for p in self.directory.glob("*.jsonl"))

    def staged(self, source: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self.directory / f"{source}.jsonl.staged"

    def write(self, path: Path, records: Iterable[dict]) -> Iterator[dict]:
        """Write records to `path` as they pass through."""
        with open(path, "wb") as fh:
            for record in records:
                fh.write(orjson.dumps(record, option=KEPT_FORMAT))
                yield record

    def read(self, path: Path) -> Iterator[dict]:
        yield from _load(str(path))

    def count(self, source: str) -> int:
        """How many records a source keeps (one a line), without reading them as records."""
        lines = 0
        with open(self.path(source), "rb") as fh:
            while block := fh.read(1 << 20):
                lines += block.count(b"\n")
        return lines

    def merged(self, replace: dict[str, Iterable[dict]] | None = None) -> Iterator[dict]:
        """Every source's records in key order; `replace` stands in for some sources' files."""
        replace = replace or {}
        streams = [
            tagged(source, replace[source] if source in replace else self.read(self.path(s)))
            for source in sorted(set(self.sources()) | set(replace))
            for s in [source]
        ]
        return heapq.merge(*streams, key=record_key)

    def commit(self, source: str) -> None:
        os.replace(self.staged(source), self.path(source))

    def discard(self, source: str) -> None:
        self.staged(source).unlink(missing_ok=True)
