"""The FHIR view: the live directory's Plan-Net resources and their search indexes, in one SQLite
file built from the engine's documents (either engine) and swapped in atomically.

The view is derived data: the import runner rebuilds it after every change to the directory, and
the API builds it when it finds none for the live generation. Resources are stored once (a
location several providers share, a network) with the latest lastUpdated of the copies given.
Each search parameter's values (app.fhir.params) are indexed in one table per parameter type.
"""

import contextlib
import functools
import hashlib
import itertools
import json
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from app.fhir import params as P
from app.fhir.dates import parse_range
from app.jobs.lock import waiting_lock
from app.search.geo import unit_vector
from app.vocab.text import fold
from indexer.parallel import chunks, import_workers, ordered_map

LIVE_NAME = "fhir-view.sqlite3"
BUILDING = "building-"
BUILD_LOCK = "build.lock"
VIEW_VERSION = "4"
BODY_LEVEL = 1
INSERT_BATCH = 2000
# Documents a worker makes resources of at a time.
BUILD_CHUNK = 2000

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- Bodies are compressed JSON (zlib): a role's JSON is 1-2 KB and mostly repeated URLs.
CREATE TABLE resources(
  rid INTEGER PRIMARY KEY, type TEXT NOT NULL, key TEXT NOT NULL, updated TEXT NOT NULL,
  body BLOB NOT NULL) STRICT;
CREATE TABLE tokens(param INTEGER NOT NULL, system TEXT, code TEXT NOT NULL,
  rid INTEGER NOT NULL) STRICT;
CREATE TABLE texts(param INTEGER NOT NULL, text TEXT NOT NULL, rid INTEGER NOT NULL) STRICT;
CREATE TABLE strings(param INTEGER NOT NULL, value TEXT NOT NULL, raw TEXT NOT NULL,
  rid INTEGER NOT NULL) STRICT;
CREATE TABLE refs(param INTEGER NOT NULL, target TEXT NOT NULL, rid INTEGER NOT NULL) STRICT;
CREATE TABLE dates(param INTEGER NOT NULL, low TEXT NOT NULL, high TEXT NOT NULL,
  rid INTEGER NOT NULL) STRICT;
-- Each located Location (its rid) with its unit vector: searches near a point read them all
-- into memory once (app.fhir.nearby).
CREATE TABLE positions(key TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
  x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL, rid INTEGER PRIMARY KEY) STRICT;
-- Before the inserts: each insert looks its key up (a resource given again is stored once).
CREATE UNIQUE INDEX resources_key ON resources(key);
"""
INDEXES = """
-- Rows of a type in rid order: listing and paging a type never sorts.
CREATE INDEX resources_type ON resources(type);
CREATE INDEX tokens_code ON tokens(param, code, system, rid);
CREATE INDEX texts_param ON texts(param, text, rid);
CREATE INDEX strings_value ON strings(param, value, rid);
CREATE INDEX refs_target ON refs(param, target, rid);
CREATE INDEX refs_rid ON refs(rid, param, target);
CREATE INDEX dates_param ON dates(param, low, high, rid);
"""
# Resources more than one document gives (a place, a network, a plan, a group, a service).
SHARED_TYPES = frozenset({"Location", "Organization", "InsurancePlan", "HealthcareService"})
# Of those, the ones nearly every document gives again (a worker remembers what it prepared).
SMALL_SHARED_TYPES = frozenset({"Organization", "InsurancePlan"})
_fold = functools.lru_cache(maxsize=1 << 16)(fold)

# Tables that hold each parameter type's values.
TABLES = {P.TOKEN: "tokens", P.STRING: "strings", P.REFERENCE: "refs", P.DATE: "dates"}
EARLIEST, LATEST = "0000-01-01T00:00:00", "9999-12-31T23:59:59"


def now_instant() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reference_key(reference: str) -> str | None:
    """`Type/id` of a reference written relative, absolute, or with a history tail."""
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) < 2 or not parts[-2][:1].isupper():
        return None
    return f"{parts[-2]}/{parts[-1]}"


def instant_key(value: str, *, end: bool = False) -> str:
    """A FHIR date, dateTime or instant as a sortable UTC text `YYYY-MM-DDTHH:MM:SS`; a partial
    date stands for its first second (or, with `end`, its last)."""
    if len(value) == 20 and value[10] == "T" and value[19] == "Z":
        return value[:19]  # the usual UTC instant, read without parsing
    low, high = parse_range(value)
    return high if end else low


class Prepared(NamedTuple):
    """A resource ready to store: its body and its index rows (each without the row id, which
    goes last), made where the CPU is (a worker process on a big directory)."""

    kind: str
    key: str
    updated: str
    body: bytes | None  # None: a shared resource this worker has prepared already
    rows: list[tuple[str, tuple]]
    position: tuple[float, float] | None


def prepare(resource: dict, known: set[str] | None = None) -> Prepared:
    """`resource` ready to store. Networks, plans and groups in `known` come bare (their
    lastUpdated only): nearly every document gives them again."""
    kind, key = resource["resourceType"], f"{resource['resourceType']}/{resource['id']}"
    updated = instant_key((resource.get("meta") or {}).get("lastUpdated") or now_instant())
    if known is not None and kind in SMALL_SHARED_TYPES:
        if key in known:
            return Prepared(kind, key, updated, None, [], None)
        known.add(key)
    stored = dict(resource)
    stored["meta"] = {k: v for k, v in stored.get("meta", {}).items() if k != "lastUpdated"}
    body = zlib.compress(
        json.dumps(stored, ensure_ascii=False, separators=(",", ":")).encode(), BODY_LEVEL
    )
    rows: list[tuple[str, tuple]] = []
    for param in P.BY_RESOURCE[kind].values():
        if param.type == P.TOKEN:
            for system, code, text in param.values(resource):
                if code:
                    rows.append(("tokens", (param.key, system, code)))
                if text:
                    rows.append(("texts", (param.key, _fold(text))))
        elif param.type == P.STRING:
            for value in dict.fromkeys(param.values(resource)):
                rows.append(("strings", (param.key, _fold(value), value)))
        elif param.type == P.REFERENCE:
            for reference in dict.fromkeys(param.values(resource)):
                target = reference_key(reference)
                if target:
                    rows.append(("refs", (param.key, target)))
        elif param.type == P.DATE:
            for start, end in param.values(resource):
                low = instant_key(start) if start else EARLIEST
                high = instant_key(end, end=True) if end else LATEST
                rows.append(("dates", (param.key, low, high)))
    if kind == "PractitionerRole":
        for network, code in P.network_new_patient(resource):
            target = reference_key(network)
            if target:
                rows.append(("tokens", (P.NETWORK_NEW_PATIENT, target, code)))
    position = resource.get("position") if kind == "Location" else None
    where = None
    if position and position.get("latitude") is not None:
        where = (float(position["latitude"]), float(position["longitude"]))
    return Prepared(kind, key, updated, body, rows, where)


_known_here: set[str] = set()


def prepare_documents(docs: list[dict], built_at: str) -> list[Prepared]:
    """Every resource of these documents ready to store (run in a worker process)."""
    from app.fhir.resources import resources_of

    prepared: list[Prepared] = []
    copies = {P.param("Practitioner", name).key: key for name, key in P.ROLE_COPY_KEYS.items()}
    for doc in docs:
        practitioner: list[tuple[str, tuple]] = []
        for resource in resources_of(doc, built_at):
            item = prepare(resource, _known_here)
            if item.kind == "Practitioner":
                practitioner = [
                    (table, (copies[v[0]], *v[1:]))
                    for table, v in item.rows
                    if table in ("tokens", "texts") and v[0] in copies
                ]
            elif item.kind == "PractitionerRole":
                # A document's roles are its practitioner's, given after it.
                item.rows.extend(practitioner)
            prepared.append(item)
    return prepared


class ViewBuilder:
    """A view being written beside the live one."""

    def __init__(self, path: Path):
        self.path = path
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self.pending = 0
        self.counts: dict[str, int] = {}
        self.small: dict[str, str] = {}
        self.rows: dict[str, list[tuple]] = {
            t: [] for t in ("tokens", "texts", "strings", "refs", "dates", "positions")
        }

    def add_all(self, resources: Iterable[dict]) -> None:
        for resource in resources:
            self.add(prepare(resource))

    def add(self, item: Prepared) -> None:
        if item.kind in SHARED_TYPES and self._seen(item.key, item.updated):
            return
        if item.body is None:  # pragma: no cover - only shared resources are given bare
            raise ValueError(f"{item.key} given without its body")
        cursor = self.db.execute(
            "INSERT INTO resources(type, key, updated, body) VALUES (?, ?, ?, ?)",
            (item.kind, item.key, item.updated, item.body),
        )
        rid = cursor.lastrowid
        self.counts[item.kind] = self.counts.get(item.kind, 0) + 1
        for table, values in item.rows:
            self.rows[table].append((*values, rid))
        if item.position is not None:
            lat, lon = item.position
            self.rows["positions"].append((item.key, lat, lon, *unit_vector(lat, lon), rid))
        self.pending += 1
        if self.pending >= INSERT_BATCH:
            self._flush()

    def _seen(self, key: str, updated: str) -> bool:
        """Whether a shared resource is in already (then kept as first given, as recent as its
        latest copy). Networks, plans and groups, given by nearly every document, are
        remembered here; places and services are looked up."""
        if key in self.small:
            if updated > self.small[key]:
                self.small[key] = updated
                self.db.execute("UPDATE resources SET updated = ? WHERE key = ?", (updated, key))
            return True
        row = self.db.execute("SELECT updated FROM resources WHERE key = ?", (key,)).fetchone()
        if row is None:
            if not key.startswith(("Location/", "HealthcareService/")):
                self.small[key] = updated
            return False
        if updated > row[0]:
            self.db.execute("UPDATE resources SET updated = ? WHERE key = ?", (updated, key))
        return True

    def _flush(self) -> None:
        db = self.db
        for table, rows in self.rows.items():
            if rows:
                marks = ",".join("?" * len(rows[0]))
                db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
                rows.clear()
        db.execute("COMMIT")
        db.execute("BEGIN")
        self.pending = 0

    def finish(self, meta: dict[str, str]) -> None:
        self._flush()
        self.db.execute("COMMIT")
        self.db.executescript(INDEXES)
        rows = {**meta, "version": VIEW_VERSION, "counts": json.dumps(self.counts)}
        self.db.executemany("INSERT INTO meta VALUES (?, ?)", list(rows.items()))
        self.db.execute("ANALYZE")
        self.db.close()

    def discard(self) -> None:
        self.db.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def view_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "fhir"


_build_lock = threading.Lock()


def build_view(
    engine,
    data_dir: str | Path,
    documents: Iterable[dict] | None = None,
    *,
    unless: Callable[[], bool] | None = None,
) -> Path:
    """Build the view of the engine's live directory and make it live atomically, one build at
    a time on this machine (`unless` is asked once the others are done: whether the view one of
    them made will do). A big directory's resources are made in parallel processes
    (PD_IMPORT_WORKERS, as imports)."""
    directory = view_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    live = directory / LIVE_NAME
    with _build_lock, waiting_lock(directory / BUILD_LOCK):
        if unless is not None and unless():
            return live
        for left in directory.glob(f"{BUILDING}*"):  # by a build that died
            left.unlink(missing_ok=True)
        generation = engine.live_generation()
        built_at = now_instant()
        docs = iter(engine.documents() if documents is None else documents)
        first = list(itertools.islice(docs, BUILD_CHUNK))
        # A directory that fits one chunk is quicker here than a pool is to start.
        workers = import_workers() if len(first) == BUILD_CHUNK else 1
        parts = itertools.chain([first], chunks(docs, BUILD_CHUNK))
        path = directory / f"{BUILDING}{os.getpid()}.sqlite3"
        builder = ViewBuilder(path)
        try:
            work = functools.partial(prepare_documents, built_at=built_at)
            for prepared in ordered_map(work, parts, workers, initializer=_known_here.clear):
                for item in prepared:
                    builder.add(item)
            builder.finish({"generation": generation, "built_at": built_at})
        except BaseException:
            builder.discard()
            raise
        os.replace(path, live)
    return live


@dataclass
class Stored:
    """One resource as the view holds it."""

    rid: int
    type: str
    key: str
    updated: str
    body: bytes  # compressed JSON

    @property
    def id(self) -> str:
        return self.key.split("/", 1)[1]

    def resource(self) -> dict:
        resource = json.loads(zlib.decompress(self.body))
        meta = resource.setdefault("meta", {})
        meta["versionId"] = self.version
        meta["lastUpdated"] = self.updated + "Z"
        return resource

    @property
    def version(self) -> str:
        digest = hashlib.blake2b(self.updated.encode() + b"\n" + self.body, digest_size=6)
        return digest.hexdigest()


class FhirView:
    """The live view, opened read-only; one connection per thread."""

    def __init__(self, path: Path):
        self.path = path
        self.inode = os.stat(path).st_ino
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.db.execute("PRAGMA query_only = ON")
        self.db.execute("PRAGMA mmap_size = 1073741824")
        self.db.execute("PRAGMA cache_size = -65536")
        meta = dict(self.db.execute("SELECT key, value FROM meta"))
        self.generation = meta["generation"]
        self.version = meta.get("version")
        self.built_at = meta["built_at"]
        self.counts: dict[str, int] = json.loads(meta["counts"])

    def close(self) -> None:
        self.db.close()

    def serves(self, generation: str) -> bool:
        """Whether this view is of that generation and of this code's layout."""
        return self.generation == generation and self.version == VIEW_VERSION

    def _stored(self, rows) -> list[Stored]:
        return [Stored(*row) for row in rows]

    def read(self, kind: str, resource_id: str) -> Stored | None:
        row = self.db.execute(
            "SELECT rid, type, key, updated, body FROM resources WHERE key = ?",
            (f"{kind}/{resource_id}",),
        ).fetchone()
        return Stored(*row) if row else None

    def by_rids(self, rids: list[int]) -> list[Stored]:
        """Resources in the order of `rids`."""
        if not rids:
            return []
        found = {}
        for start in range(0, len(rids), 500):
            chunk = rids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                f"SELECT rid, type, key, updated, body FROM resources WHERE rid IN ({marks})",
                chunk,
            ):
                found[row[0]] = Stored(*row)
        return [found[r] for r in rids if r in found]

    def by_keys(self, keys: Iterable[str]) -> list[Stored]:
        keys = list(dict.fromkeys(keys))
        found: list[Stored] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.extend(
                self._stored(
                    self.db.execute(
                        "SELECT rid, type, key, updated, body FROM resources"
                        f" WHERE key IN ({marks}) ORDER BY rid",
                        chunk,
                    )
                )
            )
        return found

    def iter_resources(self, kind: str, since: str | None = None) -> Iterator[Stored]:
        """Every resource of a type (updated after `since`, an instant key), in view order,
        read a page at a time."""
        after = 0
        while True:
            sql = "SELECT rid, type, key, updated, body FROM resources WHERE type = ? AND rid > ?"
            args: list = [kind, after]
            if since:
                sql += " AND updated > ?"
                args.append(since)
            rows = self.db.execute(sql + " ORDER BY rid LIMIT 1000", args).fetchall()
            if not rows:
                return
            yield from self._stored(rows)
            after = rows[-1][0]

    def iter_json(self, kind: str, since: str | None = None) -> Iterator[str]:
        """Each resource of a type as one line of NDJSON (no newline)."""
        for stored in self.iter_resources(kind, since):
            yield json.dumps(stored.resource(), ensure_ascii=False, separators=(",", ":"))

    def count(self, kind: str, since: str | None = None) -> int:
        if not since:
            return self.counts.get(kind, 0)
        (n,) = self.db.execute(
            "SELECT count(*) FROM resources WHERE type = ? AND updated > ?", (kind, since)
        ).fetchone()
        return n

    # -- search --------------------------------------------------------------------------------
    def run(self, sql: str, args: list) -> list[tuple]:
        return self.db.execute(sql, args).fetchall()
