"""Embedded engine: one SQLite file per generation (FTS5 for words, R*Tree for geography)."""

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

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
from app.search.geo import EARTH_RADIUS_MILES, bounding_box
from app.search.query import SearchQuery, plan_filter_keys, plan_keys
from indexer.text import max_edits

LIVE_NAME = "directory.sqlite3"
SCHEMA_VERSION = "1"
INTERNAL_FIELDS = ("search_text", "name_text")

# STRICT tables refuse a value of the wrong type, as a strict Elasticsearch mapping does.
SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE providers(
  id INTEGER PRIMARY KEY, npi TEXT NOT NULL, entity_type TEXT NOT NULL, gender TEXT,
  pcp INTEGER NOT NULL, age_min INTEGER NOT NULL, age_max INTEGER NOT NULL,
  sort_name TEXT NOT NULL, medical_group TEXT, doc TEXT NOT NULL) STRICT;
CREATE TABLE provider_terms(
  provider_id INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL) STRICT;
CREATE TABLE locations(
  id INTEGER PRIMARY KEY, provider_id INTEGER NOT NULL, ord INTEGER NOT NULL,
  lat REAL NOT NULL, lon REAL NOT NULL, city TEXT NOT NULL, zip TEXT NOT NULL,
  telehealth INTEGER NOT NULL) STRICT;
CREATE TABLE location_terms(
  location_id INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL) STRICT;
CREATE TABLE location_plans(
  location_id INTEGER NOT NULL, provider_id INTEGER NOT NULL, plan TEXT NOT NULL,
  line_of_business TEXT NOT NULL, accepting TEXT NOT NULL) STRICT;
CREATE VIRTUAL TABLE location_geo USING rtree(id, min_lat, max_lat, min_lon, max_lon);
CREATE VIRTUAL TABLE provider_text USING fts5(
  words, tokenize = 'unicode61 remove_diacritics 2', detail = 'column');
CREATE VIRTUAL TABLE provider_vocab USING fts5vocab(provider_text, 'row');
"""
INDEXES = """
CREATE UNIQUE INDEX providers_npi ON providers(npi);
CREATE INDEX providers_sort ON providers(sort_name, npi);
CREATE INDEX provider_terms_lookup ON provider_terms(field, value, provider_id);
CREATE INDEX provider_terms_owner ON provider_terms(provider_id, field);
CREATE INDEX locations_provider ON locations(provider_id);
CREATE INDEX location_terms_lookup ON location_terms(field, value, location_id);
CREATE INDEX location_plans_location ON location_plans(location_id);
"""
PROVIDER_TERM_FIELDS = {
    "specialty": "specialty_codes",
    "language": "languages",
    "hospital": "hospital_affiliations",
}
# Public facet name -> how to count it (see _facets).
PROVIDER_TERM_FACETS = {"specialty": "specialty", "language": "language"}
PLAN_FACETS = {
    "plan": "plan",
    "line_of_business": "line_of_business",
    "accepting_new_patients": "accepting",
}

DISTANCE_SQL = (
    f"(2 * {EARTH_RADIUS_MILES!r} * asin(min(1.0, sqrt("
    "pow(sin(radians(l.lat - :lat) / 2), 2) + "
    "cos(radians(:lat)) * cos(radians(l.lat)) * pow(sin(radians(l.lon - :lon) / 2), 2)))))"
)


def _placeholders(prefix: str, values, params: dict) -> str:
    names = []
    for i, value in enumerate(values):
        key = f"{prefix}{i}"
        params[key] = value
        names.append(f":{key}")
    return ", ".join(names)


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

    def write(self, documents: Iterable[dict]) -> int:
        count = 0
        db = self.db
        for doc in plan_names_of(documents, self.plan_names):
            stored = {k: v for k, v in doc.items() if k not in INTERNAL_FIELDS}
            cur = db.execute(
                "INSERT INTO providers(npi, entity_type, gender, pcp, age_min, age_max, sort_name,"
                " medical_group, doc) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    doc["npi"],
                    doc["entity_type"],
                    doc["gender"],
                    int(doc["pcp"]),
                    doc["age_min"],
                    doc["age_max"],
                    doc["sort_name"],
                    doc["medical_group"],
                    json.dumps(stored, separators=(",", ":")),
                ),
            )
            pid = cur.lastrowid
            db.executemany(
                "INSERT INTO provider_terms VALUES (?,?,?)",
                [
                    (pid, name, value)
                    for name, source in PROVIDER_TERM_FIELDS.items()
                    for value in doc[source]
                ],
            )
            db.execute(
                "INSERT INTO provider_text(rowid, words) VALUES (?, ?)", (pid, doc["search_text"])
            )
            for ord_, loc in enumerate(doc["locations"]):
                lid = db.execute(
                    "INSERT INTO locations(provider_id, ord, lat, lon, city, zip, telehealth)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (
                        pid,
                        ord_,
                        loc["lat"],
                        loc["lon"],
                        loc["city"],
                        loc["zip"],
                        int(loc["telehealth"]),
                    ),
                ).lastrowid
                db.execute(
                    "INSERT INTO location_geo VALUES (?,?,?,?,?)",
                    (lid, loc["lat"], loc["lat"], loc["lon"], loc["lon"]),
                )
                terms = [(lid, "access", a) for a in loc["accessibility"]]
                keys = dict.fromkeys(k for plan in loc["plans"] for k in plan_keys(plan))
                terms.extend((lid, "plan_key", k) for k in keys)
                db.executemany("INSERT INTO location_terms VALUES (?,?,?)", terms)
                db.executemany(
                    "INSERT INTO location_plans VALUES (?,?,?,?,?)",
                    [
                        (lid, pid, p["plan"], p["line_of_business"], p["accepting"])
                        for p in loc["plans"]
                    ],
                )
            count += 1
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
            # Without statistics the planner may walk a B-tree instead of the R*Tree.
            db.execute("ANALYZE")
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


class _Snapshot:
    """One open, read-only view of the live file, with the words it knows for fuzzy matching."""

    def __init__(self, path: Path, inode: int):
        self.inode = inode
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.db.execute("PRAGMA temp_store = MEMORY")
        self.generation = self.db.execute(
            "SELECT value FROM meta WHERE key = 'generation'"
        ).fetchone()[0]
        self._vocabulary: list[str] | None = None
        row = self.db.execute("SELECT value FROM meta WHERE key = 'plan_names'").fetchone()
        self.plan_names = json.loads(row[0]) if row else {}

    @property
    def vocabulary(self) -> list[str]:
        if self._vocabulary is None:
            self._vocabulary = [t for (t,) in self.db.execute("SELECT term FROM provider_vocab")]
            self.known_words = frozenset(self._vocabulary)
        return self._vocabulary


class EmbeddedEngine(Engine):
    name = "embedded"

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.live_path = self.directory / LIVE_NAME
        self._local = threading.local()

    # -- generations -------------------------------------------------------------------------
    def new_generation(self) -> EmbeddedWriter:
        return EmbeddedWriter(self.directory)

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

    def get(self, npi: str) -> dict | None:
        row = self._snapshot().db.execute("SELECT doc FROM providers WHERE npi = ?", (npi,))
        found = row.fetchone()
        return json.loads(found[0]) if found else None

    def search(self, query: SearchQuery) -> SearchResult:
        snap = self._snapshot()
        db = snap.db
        params: dict = {}
        fts = self._fts_expression(snap, query.text) if query.text else None
        if query.text and fts is None:
            return SearchResult(total=0, hits=[], facets={f: {} for f in query.facets})
        try:
            db.execute("DROP TABLE IF EXISTS temp.m")
            db.execute("DROP TABLE IF EXISTS temp.h")
            db.execute("CREATE TEMP TABLE m AS " + self._matched_sql(query, params), params)
            params_h: dict = {}
            db.execute("CREATE TEMP TABLE h AS " + self._hits_sql(query, fts, params_h), params_h)
            (total,) = db.execute("SELECT COUNT(*) FROM temp.h").fetchone()
            page = self._page(db, query)
            more = len(page) > query.limit
            page = page[: query.limit]
            hits = self._load_hits(db, query, page)
            facets = self._facets(db, query) if query.facets else {}
        finally:
            db.execute("DROP TABLE IF EXISTS temp.m")
            db.execute("DROP TABLE IF EXISTS temp.h")
        return SearchResult(total=total, hits=hits, facets=facets, more=more)

    # -- query building ----------------------------------------------------------------------
    @staticmethod
    def _fts_expression(snap: _Snapshot, words: tuple[str, ...]) -> str | None:
        groups = []
        for word in words:
            edits = max_edits(word)
            if edits == 0:
                candidates = [word] if snap.vocabulary and word in snap.known_words else []
            else:
                candidates = [
                    term
                    for term, _score, _i in process.extract(
                        word, snap.vocabulary, scorer=OSA.distance, score_cutoff=edits, limit=None
                    )
                ]
            if not candidates:
                return None
            groups.append("(" + " OR ".join(f'"{c}"' for c in sorted(candidates)) + ")")
        return " AND ".join(groups)

    @staticmethod
    def _matched_sql(query: SearchQuery, params: dict) -> str:
        where = ["1"]
        source = "locations l"
        distance = "NULL"
        if query.geo:
            geo = query.geo
            params.update(lat=geo.lat, lon=geo.lon, radius=geo.radius_miles)
            min_lat, max_lat, min_lon, max_lon = bounding_box(geo.lat, geo.lon, geo.radius_miles)
            params.update(min_lat=min_lat, max_lat=max_lat, min_lon=min_lon, max_lon=max_lon)
            source = "location_geo g JOIN locations l ON l.id = g.id"
            where.append(
                "g.max_lat >= :min_lat AND g.min_lat <= :max_lat"
                " AND g.max_lon >= :min_lon AND g.min_lon <= :max_lon"
            )
            distance = DISTANCE_SQL
            where.append(f"{DISTANCE_SQL} <= :radius")
        if query.has_plan_filter:
            keys = _placeholders("pk", plan_filter_keys(query), params)
            where.append(
                "l.id IN (SELECT location_id FROM location_terms"
                f" WHERE field = 'plan_key' AND value IN ({keys}))"
            )
        if query.telehealth is not None:
            params["telehealth"] = int(query.telehealth)
            where.append("l.telehealth = :telehealth")
        if query.cities:
            where.append(f"l.city IN ({_placeholders('city', query.cities, params)})")
        if query.zips:
            where.append(f"l.zip IN ({_placeholders('zip', query.zips, params)})")
        for i, code in enumerate(query.accessibility):
            params[f"acc{i}"] = code
            where.append(
                "l.id IN (SELECT location_id FROM location_terms"
                f" WHERE field = 'access' AND value = :acc{i})"
            )
        return (
            f"SELECT l.id AS lid, l.provider_id AS pid, l.ord AS ord, {distance} AS d"
            f" FROM {source} WHERE {' AND '.join(where)}"
        )

    @staticmethod
    def _hits_sql(query: SearchQuery, fts: str | None, params: dict) -> str:
        where = ["1"]
        score = "0.0"
        source = "providers p JOIN (SELECT pid, MIN(d) AS d FROM temp.m GROUP BY pid) md"
        source += " ON md.pid = p.id"
        if fts is not None:
            params["fts"] = fts
            source += (
                " JOIN (SELECT rowid AS pid, -bm25(provider_text) AS score FROM provider_text"
                " WHERE provider_text MATCH :fts) t ON t.pid = p.id"
            )
            score = "t.score"
        if query.npi:
            params["npi"] = query.npi
            where.append("p.npi = :npi")
        if query.entity_types:
            where.append(f"p.entity_type IN ({_placeholders('et', query.entity_types, params)})")
        if query.pcp is not None:
            params["pcp"] = int(query.pcp)
            where.append("p.pcp = :pcp")
        if query.genders:
            where.append(f"p.gender IN ({_placeholders('g', query.genders, params)})")
        if query.age is not None:
            params["age"] = query.age
            where.append("p.age_min <= :age AND p.age_max >= :age")
        if query.groups:
            where.append(f"p.medical_group IN ({_placeholders('grp', query.groups, params)})")
        for name, values in (
            ("specialty", query.specialties),
            ("language", query.languages),
            ("hospital", query.hospitals),
        ):
            if values:
                where.append(
                    "p.id IN (SELECT provider_id FROM provider_terms"
                    f" WHERE field = '{name}' AND value IN ({_placeholders(name, values, params)}))"
                )
        return (
            f"SELECT p.id AS pid, p.npi AS npi, p.sort_name AS sort_name, md.d AS d,"
            f" {score} AS score FROM {source} WHERE {' AND '.join(where)}"
        )

    @staticmethod
    def _page(db: sqlite3.Connection, query: SearchQuery) -> list[tuple]:
        key, direction = {
            "distance": ("d", ">"),
            "name": ("sort_name", ">"),
            "relevance": ("score", "<"),
        }[query.sort]
        order = "DESC" if direction == "<" else "ASC"
        params: dict = {"limit": query.limit + 1}
        where = "1"
        if query.after is not None:
            params["k"], params["npi"] = query.after
            where = f"({key} {direction} :k OR ({key} = :k AND npi > :npi))"
        return db.execute(
            f"SELECT pid, npi, {key} FROM temp.h WHERE {where} ORDER BY {key} {order}, npi ASC"
            " LIMIT :limit",
            params,
        ).fetchall()

    @staticmethod
    def _load_hits(db: sqlite3.Connection, query: SearchQuery, page: list[tuple]) -> list[Hit]:
        if not page:
            return []
        ids = [pid for pid, _npi, _k in page]
        marks = ",".join("?" * len(ids))
        docs = dict(db.execute(f"SELECT id, doc FROM providers WHERE id IN ({marks})", ids))
        matched: dict[int, list[int]] = {}
        if query.has_location_filter:
            for pid, ord_ in db.execute(
                f"SELECT pid, ord FROM temp.m WHERE pid IN ({marks}) ORDER BY ord", ids
            ):
                matched.setdefault(pid, []).append(ord_)
        return [
            Hit(
                doc=json.loads(docs[pid]),
                matched_locations=matched.get(pid) if query.has_location_filter else None,
                sort=[key, npi],
            )
            for pid, npi, key in page
        ]

    @staticmethod
    def _facets(db: sqlite3.Connection, query: SearchQuery) -> dict[str, dict[str, int]]:
        facets: dict[str, dict[str, int]] = {}
        for name in query.facets:
            if name in PROVIDER_TERM_FACETS:
                sql = (
                    "SELECT value, COUNT(*) FROM provider_terms"
                    f" WHERE field = '{PROVIDER_TERM_FACETS[name]}'"
                    " AND provider_id IN (SELECT pid FROM temp.h) GROUP BY value"
                )
                params: dict = {}
            elif name == "gender":
                sql = (
                    "SELECT gender, COUNT(*) FROM providers WHERE gender IS NOT NULL"
                    " AND id IN (SELECT pid FROM temp.h) GROUP BY gender"
                )
                params = {}
            elif name == "city":
                sql = (
                    "SELECT l.city, COUNT(DISTINCT m.pid) FROM temp.m m"
                    " JOIN locations l ON l.id = m.lid"
                    " WHERE m.pid IN (SELECT pid FROM temp.h) GROUP BY l.city"
                )
                params = {}
            else:
                column = PLAN_FACETS[name]
                params = {}
                conditions = ["m.pid IN (SELECT pid FROM temp.h)"]
                for col, values, prefix in (
                    ("plan", query.plans, "fp"),
                    ("line_of_business", query.lines_of_business, "fl"),
                    ("accepting", query.accepting, "fa"),
                ):
                    if values:
                        conditions.append(f"lp.{col} IN ({_placeholders(prefix, values, params)})")
                sql = (
                    f"SELECT lp.{column}, COUNT(DISTINCT lp.provider_id) FROM temp.m m"
                    " JOIN location_plans lp ON lp.location_id = m.lid"
                    f" WHERE {' AND '.join(conditions)} GROUP BY lp.{column}"
                )
            facets[name] = {value: count for value, count in db.execute(sql, params) if value}
        return facets
