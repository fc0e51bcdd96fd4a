"""Embedded engine: one SQLite file per generation (FTS5 for words; numpy search columns for
places, filters, facets and order, stored in the same file: app/engines/embedded_columns.py)."""

import contextlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.engines import embedded_columns, embedded_match
from app.engines import embedded_sql as sql
from app.engines.base import (
    Engine,
    EngineUnavailable,
    GenerationFailed,
    GenerationWriter,
    Hit,
    SearchResult,
    new_generation_name,
    plan_names_of,
)
from app.search.geo import unit_vector
from app.search.query import SearchQuery
from app.search.suggest import KEY_END, DirectoryNames, provider_keys, typed_key, whole_word_end
from app.vocab.text import has_digit, max_edits

LIVE_NAME = "directory.sqlite3"
SCHEMA_VERSION = "5"
INTERNAL_FIELDS = ("search_text", "name_text", "primary_specialty")

# STRICT tables refuse a value of the wrong type, as a strict Elasticsearch mapping does.
SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE providers(
  id INTEGER PRIMARY KEY, npi TEXT NOT NULL, entity_type TEXT NOT NULL, gender TEXT,
  pcp INTEGER NOT NULL, age_min INTEGER NOT NULL, age_max INTEGER NOT NULL,
  sort_name TEXT NOT NULL, medical_group TEXT) STRICT;
-- Whole documents apart: a search reads only the rows of its page.
CREATE TABLE provider_docs(id INTEGER PRIMARY KEY, doc TEXT NOT NULL) STRICT;
CREATE TABLE provider_terms(
  provider_id INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (provider_id, field, value)) STRICT, WITHOUT ROWID;
-- A location row repeats its provider's columns (the directory's names count groups by location).
CREATE TABLE locations(
  id INTEGER PRIMARY KEY, provider_id INTEGER NOT NULL, ord INTEGER NOT NULL,
  lat REAL NOT NULL, lon REAL NOT NULL, x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,
  city TEXT NOT NULL, zip TEXT NOT NULL, telehealth INTEGER NOT NULL, name TEXT,
  npi TEXT NOT NULL, entity_type TEXT NOT NULL, gender TEXT, pcp INTEGER NOT NULL,
  age_min INTEGER NOT NULL, age_max INTEGER NOT NULL, medical_group TEXT) STRICT;
CREATE TABLE location_terms(
  location_id INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (location_id, field, value)) STRICT, WITHOUT ROWID;
CREATE TABLE location_plans(
  location_id INTEGER NOT NULL, plan TEXT NOT NULL, provider_id INTEGER NOT NULL,
  line_of_business TEXT NOT NULL, accepting TEXT NOT NULL,
  PRIMARY KEY (location_id, plan)) STRICT, WITHOUT ROWID;
-- One row per word-start of each provider's name (app.search.suggest.word_keys): what the
-- search box completes to is a range of keys, read from a B-tree, never a scan of the providers.
CREATE TABLE suggest_keys(
  key TEXT NOT NULL, provider_id INTEGER NOT NULL, popularity INTEGER NOT NULL,
  sort_name TEXT NOT NULL, npi TEXT NOT NULL,
  PRIMARY KEY (key, provider_id)) STRICT, WITHOUT ROWID;
CREATE VIRTUAL TABLE provider_text USING fts5(
  name, words, tokenize = 'unicode61 remove_diacritics 2', detail = 'column');
CREATE VIRTUAL TABLE provider_vocab USING fts5vocab(provider_text, 'row');
"""
INDEXES = """
CREATE UNIQUE INDEX providers_npi ON providers(npi);
CREATE INDEX providers_sort ON providers(sort_name, npi);
CREATE INDEX provider_terms_lookup ON provider_terms(field, value, provider_id);
CREATE INDEX locations_provider ON locations(provider_id);
CREATE INDEX location_terms_lookup ON location_terms(field, value, location_id);
CREATE INDEX suggest_rank ON suggest_keys(popularity, sort_name, npi);
CREATE INDEX suggest_level ON suggest_keys(popularity, key);
"""
MMAP_BYTES = 1 << 30
CACHE_KIB = 64 * 1024
# Providers are suggested most locations first, one number of locations at a time: where a typed
# prefix matches more keys than this, they are walked in name order (suggest_rank) until enough
# match; fewer are read from their range (suggest_level) and sorted.
SUGGEST_SCAN_ROWS = 2000
DOCUMENTS_PAGE = 1000


def _insert_document(db: sqlite3.Connection, doc: dict) -> None:
    stored = {k: v for k, v in doc.items() if k not in INTERNAL_FIELDS}
    # The provider's filter columns, kept on the provider and copied onto each location.
    filters = (
        doc["npi"],
        doc["entity_type"],
        doc["gender"],
        int(doc["pcp"]),
        doc["age_min"],
        doc["age_max"],
        doc["medical_group"],
    )
    pid = db.execute(
        "INSERT INTO providers(npi, entity_type, gender, pcp, age_min, age_max,"
        " medical_group, sort_name) VALUES (?,?,?,?,?,?,?,?)",
        (*filters, doc["sort_name"]),
    ).lastrowid
    db.execute(
        "INSERT INTO provider_docs VALUES (?, ?)", (pid, json.dumps(stored, separators=(",", ":")))
    )
    db.executemany(
        "INSERT INTO provider_terms VALUES (?,?,?)",
        [
            (pid, name, value)
            for source, name in sql.PROVIDER_TERMS.items()
            for value in doc[source]
        ],
    )
    if doc.get("primary_specialty"):
        db.execute(
            "INSERT INTO provider_terms VALUES (?,?,?)",
            (pid, sql.PRIMARY_SPECIALTY_TERM, doc["primary_specialty"]),
        )
    db.execute(
        "INSERT INTO provider_text(rowid, name, words) VALUES (?, ?, ?)",
        (pid, doc["name_text"], doc["search_text"]),
    )
    db.executemany(
        "INSERT INTO suggest_keys VALUES (?,?,?,?,?)",
        [
            (key, pid, len(doc["locations"]), doc["sort_name"], doc["npi"])
            for key in provider_keys(doc)
        ],
    )
    for ord_, loc in enumerate(doc["locations"]):
        lid = db.execute(
            "INSERT INTO locations(provider_id, ord, lat, lon, x, y, z, city, zip,"
            " telehealth, name, npi, entity_type, gender, pcp, age_min, age_max, medical_group)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                pid,
                ord_,
                loc["lat"],
                loc["lon"],
                *unit_vector(loc["lat"], loc["lon"]),
                loc["city"],
                loc["zip"],
                int(loc["telehealth"]),
                loc.get("name"),
                *filters,
            ),
        ).lastrowid
        terms = [
            (lid, term, value)
            for source, term in sql.LOCATION_TERMS.items()
            for value in loc[source]
        ]
        db.executemany("INSERT INTO location_terms VALUES (?,?,?)", terms)
        db.executemany(
            "INSERT INTO location_plans VALUES (?,?,?,?,?)",
            [(lid, p["plan"], pid, p["line_of_business"], p["accepting"]) for p in loc["plans"]],
        )


def _store_columns(db: sqlite3.Connection) -> None:
    """Write the search columns of the file's current tables, with a new revision to key them."""
    embedded_columns.store(db, embedded_columns.build(db))
    db.execute("INSERT OR REPLACE INTO meta VALUES ('columns', ?)", (uuid.uuid4().hex,))


def _delete_provider(db: sqlite3.Connection, npi: str) -> bool:
    row = db.execute("SELECT id FROM providers WHERE npi = ?", (npi,)).fetchone()
    if row is None:
        return False
    (pid,) = row
    lids = [lid for (lid,) in db.execute("SELECT id FROM locations WHERE provider_id = ?", (pid,))]
    for lid in lids:
        db.execute("DELETE FROM location_terms WHERE location_id = ?", (lid,))
        db.execute("DELETE FROM location_plans WHERE location_id = ?", (lid,))
    db.execute("DELETE FROM locations WHERE provider_id = ?", (pid,))
    db.execute("DELETE FROM provider_terms WHERE provider_id = ?", (pid,))
    db.execute("DELETE FROM provider_text WHERE rowid = ?", (pid,))
    db.execute("DELETE FROM suggest_keys WHERE provider_id = ?", (pid,))
    db.execute("DELETE FROM provider_docs WHERE id = ?", (pid,))
    db.execute("DELETE FROM providers WHERE id = ?", (pid,))
    return True


class EmbeddedWriter(GenerationWriter):
    def __init__(self, directory: Path):
        self.directory = directory
        self.name = new_generation_name()
        self.path = directory / f"directory-{self.name}.sqlite3.building"
        directory.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self.written = 0
        self.plan_names: dict[str, str] = {}

    def write(
        self, documents: Iterable[dict], acknowledged: Callable[[int], None] | None = None
    ) -> int:
        count = 0
        for doc in plan_names_of(documents, self.plan_names):
            _insert_document(self.db, doc)
            count += 1
            if acknowledged is not None:
                acknowledged(count)
        self.written += count
        return count

    def publish(self, expected: int) -> None:
        db = self.db
        try:
            (stored,) = db.execute("SELECT COUNT(*) FROM providers").fetchone()
            if stored != expected:
                raise GenerationFailed(f"generation holds {stored} providers, expected {expected}")
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("generation", self.name),
                    ("schema", SCHEMA_VERSION),
                    ("plan_names", json.dumps(self.plan_names, sort_keys=True)),
                ],
            )
            db.execute("COMMIT")
            db.executescript(INDEXES)
            db.execute("INSERT INTO provider_text(provider_text) VALUES ('optimize')")
            db.execute("ANALYZE")
            db.execute("BEGIN")
            _store_columns(db)
            db.execute("COMMIT")
            db.close()
            with open(self.path, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(self.path, self.directory / LIVE_NAME)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        self.path.unlink(missing_ok=True)


# The live file's search columns, shared by every thread of the process: (key, columns) by path.
_COLUMNS: dict[str, tuple[tuple, embedded_columns.Columns]] = {}
_COLUMNS_LOCK = threading.Lock()


class _Snapshot:
    """One open, read-only view of the live file, with the words it knows for fuzzy matching."""

    def __init__(self, path: Path, inode: int):
        self.path = str(path)
        self.inode = inode
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.db.execute("PRAGMA temp_store = MEMORY")
        # Map the file and keep a large page cache: searches jump around the whole file.
        self.db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        # Changes applied in place (deltas) lock the file for a moment: wait, do not fail.
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.generation = self.db.execute(
            "SELECT value FROM meta WHERE key = 'generation'"
        ).fetchone()[0]
        self.refresh()

    def refresh(self) -> None:
        """Forget what was read from the file; called when another connection changed it."""
        self.data_version = self.db.execute("PRAGMA data_version").fetchone()[0]
        self._vocabulary = None
        self._names: DirectoryNames | None = None
        self._levels: list[int] | None = None
        row = self.db.execute("SELECT value FROM meta WHERE key = 'plan_names'").fetchone()
        self.plan_names = json.loads(row[0]) if row else {}
        row = self.db.execute("SELECT value FROM meta WHERE key = 'columns'").fetchone()
        self.columns_revision = row[0] if row else None

    @property
    def columns(self) -> embedded_columns.Columns:
        """The search columns, read once per process for each revision of the file."""
        key = (self.path, self.inode, self.columns_revision)
        with _COLUMNS_LOCK:
            cached = _COLUMNS.get(self.path)
            if cached is None or cached[0] != key:
                if self.columns_revision is None:  # a file written before columns were kept
                    loaded = embedded_columns.build(self.db)
                else:
                    loaded = embedded_columns.load(self.db)
                cached = _COLUMNS[self.path] = (key, loaded)
        return cached[1]

    @property
    def vocabulary(self) -> list[str]:
        if self._vocabulary is None:
            terms = [t for (t,) in self.db.execute("SELECT term FROM provider_vocab")]
            self.known_words = frozenset(terms)
            # Typos are looked up among words only: numbers and codes match exactly.
            self._vocabulary = [t for t in terms if not has_digit(t)] or terms
        return self._vocabulary

    @property
    def popularity_levels(self) -> list[int]:
        """The numbers of locations providers have, most first."""
        if self._levels is None:
            self._levels = [
                level
                for (level,) in self.db.execute(
                    "SELECT DISTINCT popularity FROM suggest_keys ORDER BY popularity DESC"
                )
            ]
        return self._levels

    @property
    def names(self) -> DirectoryNames:
        if self._names is None:
            db = self.db
            terms: dict[str, dict[str, int]] = {"specialty": {}, "language": {}}
            for field, value, count in db.execute(
                "SELECT field, value, COUNT(*) FROM provider_terms"
                " WHERE field IN ('specialty', 'language') GROUP BY field, value"
            ):
                terms[field][value] = count
            self._names = DirectoryNames(
                groups=dict(
                    db.execute(
                        "SELECT medical_group, COUNT(*) FROM locations"
                        " WHERE medical_group <> '' GROUP BY medical_group"
                    ).fetchall()
                ),
                offices={
                    (name, city): count
                    for name, city, count in db.execute(
                        "SELECT name, city, COUNT(*) FROM locations WHERE name <> ''"
                        " GROUP BY name, city"
                    )
                },
                cities=dict(
                    db.execute(
                        "SELECT city, COUNT(*) FROM locations WHERE city <> '' GROUP BY city"
                    ).fetchall()
                ),
                specialties=terms["specialty"],
                languages=terms["language"],
            )
        return self._names


class EmbeddedEngine(Engine):
    name = "embedded"

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.live_path = self.directory / LIVE_NAME
        self._local = threading.local()

    # -- generations -------------------------------------------------------------------------
    def new_generation(self) -> EmbeddedWriter:
        return EmbeddedWriter(self.directory)

    def apply_changes(self, upserts: Iterable[dict], deletions: Iterable[str]) -> dict:
        if not self.live_path.exists():
            raise EngineUnavailable("the directory has not been built yet")
        db = sqlite3.connect(self.live_path, isolation_level=None, timeout=30)
        try:
            db.execute("BEGIN IMMEDIATE")
            names = json.loads(
                db.execute("SELECT value FROM meta WHERE key = 'plan_names'").fetchone()[0]
            )
            deleted = sum(_delete_provider(db, npi) for npi in deletions)
            written = 0
            for doc in plan_names_of(upserts, names):
                _delete_provider(db, doc["npi"])
                _insert_document(db, doc)
                written += 1
            db.execute(
                "UPDATE meta SET value = ? WHERE key = 'plan_names'",
                (json.dumps(names, sort_keys=True),),
            )
            _store_columns(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return {"upserted": written, "deleted": deleted}

    def remove_unpublished(self) -> int:
        leftovers = list(self.directory.glob("directory-*.sqlite3.building"))
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(leftovers)

    def generations(self) -> list[dict]:
        found = []
        try:
            live = self._snapshot().generation
        except EngineUnavailable:
            live = None
        if live:
            found.append({"name": live, "live": True})
        for path in sorted(self.directory.glob("directory-*.sqlite3.building"), reverse=True):
            found.append(
                {"name": path.name.split("-", 1)[1].split(".")[0], "live": False, "building": True}
            )
        return found

    # -- reading -----------------------------------------------------------------------------
    def _snapshot(self) -> _Snapshot:
        try:
            inode = os.stat(self.live_path).st_ino
        except FileNotFoundError as exc:
            raise EngineUnavailable(
                "the directory has not been built yet: run `provider-directory import`"
            ) from exc
        snap = getattr(self._local, "snapshot", None)
        if snap is None or snap.inode != inode:
            if snap is not None:
                snap.db.close()
            try:
                snap = _Snapshot(self.live_path, inode)
            except sqlite3.Error as exc:
                raise EngineUnavailable(f"the directory file cannot be read: {exc}") from exc
            self._local.snapshot = snap
        elif snap.db.execute("PRAGMA data_version").fetchone()[0] != snap.data_version:
            snap.refresh()
        return snap

    def close(self) -> None:
        snap = getattr(self._local, "snapshot", None)
        if snap is not None:
            snap.db.close()
            self._local.snapshot = None

    def health(self) -> dict:
        snap = self._snapshot()
        (providers,) = snap.db.execute("SELECT COUNT(*) FROM providers").fetchone()
        (locations,) = snap.db.execute("SELECT COUNT(*) FROM locations").fetchone()
        return {
            "engine": self.name,
            "generation": snap.generation,
            "providers": providers,
            "locations": locations,
        }

    def plan_names(self) -> dict[str, str]:
        return self._snapshot().plan_names

    def documents(self) -> Iterator[dict]:
        # A connection of its own: the caller may search on this thread between pages.
        db = sqlite3.connect(f"file:{self.live_path}?mode=ro", uri=True)
        try:
            after = ""
            while True:
                rows = db.execute(
                    "SELECT p.npi, d.doc FROM providers p JOIN provider_docs d ON d.id = p.id"
                    " WHERE p.npi > ? ORDER BY p.npi LIMIT ?",
                    (after, DOCUMENTS_PAGE),
                ).fetchall()
                if not rows:
                    return
                for _npi, doc in rows:
                    yield json.loads(doc)
                after = rows[-1][0]
        finally:
            db.close()

    def live_generation(self) -> str:
        return self._snapshot().generation

    def get(self, npi: str) -> dict | None:
        row = self._snapshot().db.execute(
            "SELECT d.doc FROM providers p JOIN provider_docs d ON d.id = p.id WHERE p.npi = ?",
            (npi,),
        )
        found = row.fetchone()
        return json.loads(found[0]) if found else None

    def directory_names(self) -> DirectoryNames:
        return self._snapshot().names

    def suggest(self, prefix_words: tuple[str, ...], limit: int) -> list[dict]:
        snap = self._snapshot()
        db = snap.db
        typed = typed_key(prefix_words)
        levels = snap.popularity_levels
        exact = self._suggest_ids(db, levels, typed, whole_word_end(typed), limit, ())
        started = self._suggest_ids(db, levels, typed, typed + KEY_END, limit - len(exact), exact)
        ids = exact + started
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        facts = {
            pid: row
            for pid, *row in db.execute(
                "SELECT p.id, p.npi, p.sort_name, json_extract(d.doc, '$.display_name'),"
                " json_extract(d.doc, '$.specialty_codes[0]'),"
                " json_extract(d.doc, '$.locations[0].city'),"
                " json_array_length(d.doc, '$.locations')"
                f" FROM providers p JOIN provider_docs d ON d.id = p.id WHERE p.id IN ({marks})",
                ids,
            )
        }
        found = []
        for pid in ids:
            npi, sort_name, label, specialty, city, popularity = facts[pid]
            found.append(
                {
                    "kind": "provider",
                    "npi": npi,
                    "label": label,
                    "sort_name": sort_name,
                    "popularity": popularity,
                    "exact": pid in exact,
                    "specialty": specialty,
                    "city": city,
                }
            )
        return found

    @staticmethod
    def _suggest_ids(
        db: sqlite3.Connection,
        levels: list[int],
        start: str,
        stop: str,
        limit: int,
        skip: Iterable[int],
    ) -> list[int]:
        """The best `limit` providers (most locations, then sort_name and NPI) with a key in
        [start, stop), leaving out `skip`."""
        skip = set(skip)
        found: list[int] = []
        params = {"start": start, "stop": stop}
        for level in levels:
            if len(found) >= limit:
                break
            params["level"] = level
            where = "popularity = :level AND key >= :start AND key < :stop"
            rows = db.execute(
                "SELECT provider_id, sort_name, npi FROM suggest_keys INDEXED BY suggest_level"
                f" WHERE {where} LIMIT {SUGGEST_SCAN_ROWS + 1}",
                params,
            ).fetchall()
            if len(rows) > SUGGEST_SCAN_ROWS:
                # A common prefix: walking this level in name order soon finds enough.
                rows = db.execute(
                    "SELECT provider_id, sort_name, npi FROM suggest_keys INDEXED BY suggest_rank"
                    f" WHERE {where} ORDER BY sort_name, npi",
                    params,
                )
            else:
                rows = sorted(rows, key=lambda r: (r[1], r[2]))
            for pid, _sort_name, _npi in rows:
                if pid not in skip and pid not in found:
                    found.append(pid)
                    if len(found) == limit:
                        break
        return found

    def search(self, query: SearchQuery) -> SearchResult:
        snap = self._snapshot()
        db = snap.db
        columns = snap.columns
        text = None
        if query.text:
            matches = self._word_matches(snap, query.text)
            if matches is None:
                return SearchResult(total=0, hits=[], facets={f: {} for f in query.facets})
            text = self._text_scores(db, columns, query.text, matches)
        npi_provider = None
        if query.npi:
            row = db.execute(*sql.provider_of_npi(query.npi)).fetchone()
            npi_provider = self._dense(columns, row[0]) if row else -1
        found = embedded_match.search(
            columns, query, text, npi_provider, self._resume(db, columns, query)
        )
        more = len(found.providers) > query.limit
        hits = self._load_hits(db, columns, query, found)
        return SearchResult(total=found.total, hits=hits, facets=found.facets, more=more)

    @staticmethod
    def _dense(columns: embedded_columns.Columns, provider_id: int) -> int:
        return int(np.searchsorted(columns.provider_id, provider_id))

    @staticmethod
    def _text_scores(db, columns, words, matches) -> tuple[np.ndarray, np.ndarray]:
        """The providers the words found (indexes) with the words' part of the score."""
        try:
            db.execute("DROP TABLE IF EXISTS temp.t")
            # Materialised first: as a subquery in a join, FTS5 would run the MATCH per row.
            db.execute("CREATE TEMP TABLE t(pid INTEGER PRIMARY KEY, score REAL NOT NULL)")
            db.execute(*sql.text_matches(matches))
            for word, found in zip(words, matches, strict=True):
                # One typo is worth a tier only for words that may carry two.
                close = [t for t, edits in found.items() if edits == 1]
                db.execute(*sql.word_score(word, close if max_edits(word) == 2 else []))
            rows = db.execute("SELECT pid, score FROM temp.t").fetchall()
        finally:
            db.execute("DROP TABLE IF EXISTS temp.t")
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        scores = np.array([r[1] for r in rows], dtype=np.float64)
        return np.searchsorted(columns.provider_id, ids), scores

    def _resume(self, db, columns, query: SearchQuery) -> embedded_match.Resume | None:
        """Where the cursor's page resumes, in the columns' terms."""
        if query.after is None:
            return None
        *number, npi = query.after
        if query.sort == "distance":
            statement, ranks = sql.first_after_npi(npi), columns.npi_rank
        else:
            statement, ranks = sql.first_after_name(str(number.pop()), npi), columns.name_rank
        row = db.execute(*statement).fetchone()
        rank = int(ranks[self._dense(columns, row[0])]) if row else columns.providers
        value = number[0] if number else None
        if value is not None and not isinstance(value, int | float):
            rank, value = columns.providers, 0.0  # not a cursor this search wrote: nothing after
        return embedded_match.Resume(value=value, rank=rank)

    @staticmethod
    def _word_matches(snap: _Snapshot, words: tuple[str, ...]) -> list[dict[str, int]] | None:
        """For each word, the directory's words it matches with how many edits; None when a word
        matches none (then nobody is found)."""
        found = []
        for word in words:
            edits = max_edits(word)
            if edits == 0:
                near = {word: 0} if snap.vocabulary and word in snap.known_words else {}
            else:
                near = {
                    term: int(distance)
                    for term, distance, _i in process.extract(
                        word, snap.vocabulary, scorer=OSA.distance, score_cutoff=edits, limit=None
                    )
                }
            if not near:
                return None
            found.append(near)
        return found

    @staticmethod
    def _load_hits(db, columns, query: SearchQuery, found: embedded_match.Found) -> list[Hit]:
        chosen = found.providers[: query.limit]
        if not len(chosen):
            return []
        ids = columns.provider_id[chosen].tolist()
        rows = {pid: row for pid, *row in db.execute(*sql.page_rows(ids))}
        hits = []
        for i, pid in enumerate(ids):
            npi, sort_name, doc = rows[pid]
            if query.sort == "distance":
                sort = [float(found.near[i]), npi]
            elif query.sort == "relevance":
                sort = [float(found.score[i]), sort_name, npi]
            else:
                sort = [sort_name, npi]
            located = found.matched[i] if found.matched is not None else None
            hits.append(Hit(doc=json.loads(doc), matched_locations=located, sort=sort))
        return hits
