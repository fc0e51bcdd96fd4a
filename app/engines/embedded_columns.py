"""The embedded engine's search layout: one generation's filter fields as numpy columns.

Built from the SQLite tables when a generation is published (and again after changes applied in
place), stored in the same file as one BLOB per array, and loaded by each process once per
generation: searching then reads arrays, never rows. Providers are numbered densely in id order;
locations are numbered in spatial order (rows of latitude, then longitude), so that the locations
in a box are a few contiguous ranges. Strings are coded as positions in a sorted vocabulary per
field; "" stands for a missing value.
"""

import io
import json
import sqlite3
from dataclasses import dataclass, fields

import numpy as np

from app.engines import embedded_sql as sql

# Height of one row of the spatial order, in degrees of latitude (about 1.4 miles): a box reads
# at most one row's height beyond its own edges.
ROW_DEGREES = 0.02
# Spatial key = row * ROW_SPAN + (lon + LON_SHIFT): longitudes of one row never reach the next.
ROW_SPAN = 400.0
LON_SHIFT = 200.0
PROVIDER_TERM_FIELDS = tuple(sql.PROVIDER_TERMS.values())
LOCATION_TERM_FIELDS = tuple(sql.LOCATION_TERMS.values())
TABLE = "CREATE TABLE IF NOT EXISTS search_columns(name TEXT PRIMARY KEY, data BLOB NOT NULL)"


def spatial_key(lat, lon):
    """The key locations are ordered by (scalars or arrays)."""
    return np.floor(np.asarray(lat) / ROW_DEGREES) * ROW_SPAN + (np.asarray(lon) + LON_SHIFT)


@dataclass
class Terms:
    """A list-valued field: for each owner the value codes it has, and for each value its owners."""

    owner_ptr: np.ndarray  # int64 [owners + 1]: owner i's codes are codes[owner_ptr[i]:...]
    codes: np.ndarray  # value codes (the narrowest integers that hold them)
    value_ptr: np.ndarray  # int64 [values + 1]: value v's owners are owners[value_ptr[v]:...]
    owners: np.ndarray  # int32

    @classmethod
    def build(cls, owner: np.ndarray, code: np.ndarray, owners: int, values: int) -> "Terms":
        by_owner = np.lexsort((code, owner))
        by_value = np.lexsort((owner, code))
        return cls(
            owner_ptr=_pointers(owner, owners),
            codes=code[by_owner],
            value_ptr=_pointers(code, values),
            owners=owner[by_value].astype(np.int32),
        )

    def having(self, codes, owners: int) -> np.ndarray:
        """Mask over owners of those with any of these value codes."""
        mask = np.zeros(owners, dtype=bool)
        for code in codes:
            mask[self.owners[self.value_ptr[code] : self.value_ptr[code + 1]]] = True
        return mask

    def count(self, chosen: np.ndarray, values: int) -> np.ndarray:
        """How many of the chosen owners (distinct indexes) have each value."""
        return np.bincount(self.codes[ranges(self.owner_ptr, chosen)], minlength=values)


@dataclass
class Columns:
    vocab: dict[str, list[str]]
    # providers, dense in id order
    provider_id: np.ndarray  # int64, ascending
    entity_type: np.ndarray
    gender: np.ndarray
    pcp: np.ndarray  # bool
    age_min: np.ndarray
    age_max: np.ndarray
    medical_group: np.ndarray
    primary_specialty: np.ndarray  # specialty code, -1 without
    name_rank: np.ndarray  # position in (sort_name, npi) order
    npi_rank: np.ndarray  # position in npi order
    provider_location_ptr: np.ndarray  # int64 [providers + 1], into provider_locations
    provider_locations: np.ndarray  # int32: each provider's location indexes, by ord
    specialty: Terms
    language: Terms
    hospital: Terms
    # locations, dense in spatial order
    location_key: np.ndarray  # spatial_key, ascending
    location_provider: np.ndarray  # int32 provider index
    ord: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    city: np.ndarray
    zip: np.ndarray
    telehealth: np.ndarray  # bool
    access: Terms
    open: Terms
    # plan entries, grouped by location
    plan_ptr: np.ndarray  # int64 [locations + 1]
    plan: np.ndarray
    line_of_business: np.ndarray
    accepting: np.ndarray

    @property
    def providers(self) -> int:
        return len(self.provider_id)

    @property
    def locations(self) -> int:
        return len(self.location_key)

    def __post_init__(self):
        self._index = {name: {v: i for i, v in enumerate(vs)} for name, vs in self.vocab.items()}

    def code(self, field: str, value) -> int:
        """The code of a value of a field, -1 when the directory does not hold it."""
        return self._index[field].get(value, -1)

    def codes(self, field: str, values) -> list[int]:
        """The codes of those of the values the directory holds."""
        index = self._index[field]
        return [index[v] for v in values if v in index]

    def nbytes(self) -> int:
        return sum(a.nbytes for a in _arrays(self).values())


def ranges(ptr: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The positions ptr[i]..ptr[i+1] of every chosen i, concatenated."""
    starts = ptr[chosen]
    lengths = ptr[chosen + 1] - starts
    return spans(starts, lengths)


def spans(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """start, start+1, ... for each (start, length), concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total, dtype=np.int64)


def _pointers(owner: np.ndarray, owners: int) -> np.ndarray:
    ptr = np.zeros(owners + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=owners), out=ptr[1:])
    return ptr


def _columns_of(rows: list[tuple], width: int) -> list[list]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _encode(values: list) -> tuple[np.ndarray, list[str]]:
    """Codes of the values in their field's sorted vocabulary (None coded as "")."""
    vocab = sorted({v or "" for v in values})
    return _coded(values, vocab), vocab


def _coded(values: list, vocab: list[str]) -> np.ndarray:
    index = {v: i for i, v in enumerate(vocab)}
    # The narrowest integers that hold the codes: most fields have a few dozen values.
    dtype = np.int8 if len(vocab) < 1 << 7 else np.int16 if len(vocab) < 1 << 15 else np.int32
    return np.fromiter((index[v or ""] for v in values), dtype=dtype, count=len(values))


def build(db: sqlite3.Connection) -> Columns:
    """Read the generation's tables into columns."""
    vocab: dict[str, list[str]] = {}

    def encoded(name: str, values: list) -> np.ndarray:
        codes, vocab[name] = _encode(values)
        return codes

    rows = db.execute(
        "SELECT id, entity_type, gender, pcp, age_min, age_max, medical_group FROM providers"
        " ORDER BY id"
    ).fetchall()
    pids, entity, gender, pcp, age_min, age_max, group = _columns_of(rows, 7)
    del rows
    provider_id = np.array(pids, dtype=np.int64)
    providers = len(provider_id)

    def dense(ids) -> np.ndarray:
        return np.searchsorted(provider_id, np.array(ids, dtype=np.int64)).astype(np.int32)

    def rank(order_by: str) -> np.ndarray:
        ids = [i for (i,) in db.execute(f"SELECT id FROM providers ORDER BY {order_by}")]
        ranks = np.empty(providers, dtype=np.int32)
        ranks[dense(ids)] = np.arange(providers, dtype=np.int32)
        return ranks

    term_rows = db.execute(
        "SELECT provider_id, field, value FROM provider_terms",
    ).fetchall()
    by_field: dict[str, tuple[list, list]] = {}
    for pid, field, value in term_rows:
        owners, values = by_field.setdefault(field, ([], []))
        owners.append(pid)
        values.append(value)
    del term_rows
    # Primary specialties are coded in the specialty vocabulary: the ranking compares them.
    primary_owners, primary_values = by_field.get(sql.PRIMARY_SPECIALTY_TERM, ([], []))
    vocab["specialty"] = sorted(set(by_field.get("specialty", ([], []))[1] + primary_values))
    provider_terms = {}
    for field in PROVIDER_TERM_FIELDS:
        owners, values = by_field.get(field, ([], []))
        if field not in vocab:
            vocab[field] = sorted(set(values))
        codes = _coded(values, vocab[field])
        provider_terms[field] = Terms.build(dense(owners), codes, providers, len(vocab[field]))
    primary = np.full(providers, -1, dtype=np.int32)
    primary[dense(primary_owners)] = _coded(primary_values, vocab["specialty"])

    rows = db.execute(
        "SELECT id, provider_id, ord, lat, lon, x, y, z, city, zip, telehealth FROM locations"
    ).fetchall()
    lids, lpids, ords, lats, lons, xs, ys, zs, cities, zips, tele = _columns_of(rows, 11)
    del rows
    key = spatial_key(np.array(lats, dtype=np.float64), np.array(lons, dtype=np.float64))
    order = np.argsort(key, kind="stable")
    location_id = np.array(lids, dtype=np.int64)[order]
    locations = len(location_id)
    by_id = np.argsort(location_id)  # location id order -> spatial position
    sorted_ids = location_id[by_id]

    def located(ids) -> np.ndarray:
        return by_id[np.searchsorted(sorted_ids, np.array(ids, dtype=np.int64))].astype(np.int32)

    location_provider = dense(lpids)[order]
    ord_ = np.array(ords, dtype=np.int32)[order]

    location_terms = {}
    for field in LOCATION_TERM_FIELDS:
        found = db.execute(
            "SELECT location_id, value FROM location_terms WHERE field = ?", (field,)
        ).fetchall()
        owners = [r[0] for r in found]
        codes = encoded(field, [r[1] for r in found])
        location_terms[field] = Terms.build(located(owners), codes, locations, len(vocab[field]))

    plan_rows = db.execute(
        "SELECT location_id, plan, line_of_business, accepting FROM location_plans"
    ).fetchall()
    plan_location = located([r[0] for r in plan_rows])
    plan = encoded("plan", [r[1] for r in plan_rows])
    lob = encoded("line_of_business", [r[2] for r in plan_rows])
    accepting = encoded("accepting", [r[3] for r in plan_rows])
    del plan_rows
    by_location = np.argsort(plan_location, kind="stable")

    # Each provider's locations in ord order.
    by_provider = np.lexsort((ord_, location_provider))
    return Columns(
        vocab=vocab,
        provider_id=provider_id,
        entity_type=encoded("entity_type", entity),
        gender=encoded("gender", gender),
        pcp=np.array(pcp, dtype=bool),
        age_min=np.array(age_min, dtype=np.int16),
        age_max=np.array(age_max, dtype=np.int16),
        medical_group=encoded("medical_group", group),
        primary_specialty=primary,
        name_rank=rank("sort_name, npi"),
        npi_rank=rank("npi"),
        provider_location_ptr=_pointers(location_provider, providers),
        provider_locations=by_provider.astype(np.int32),
        specialty=provider_terms["specialty"],
        language=provider_terms["language"],
        hospital=provider_terms["hospital"],
        location_key=key[order],
        location_provider=location_provider,
        ord=ord_,
        x=np.array(xs, dtype=np.float64)[order],
        y=np.array(ys, dtype=np.float64)[order],
        z=np.array(zs, dtype=np.float64)[order],
        city=encoded("city", cities)[order],
        zip=encoded("zip", zips)[order],
        telehealth=np.array(tele, dtype=bool)[order],
        access=location_terms["access"],
        open=location_terms["open"],
        plan_ptr=_pointers(plan_location, locations),
        plan=plan[by_location],
        line_of_business=lob[by_location],
        accepting=accepting[by_location],
    )


def _arrays(columns: Columns) -> dict[str, np.ndarray]:
    found = {}
    for f in fields(Columns):
        value = getattr(columns, f.name)
        if isinstance(value, Terms):
            for part in fields(Terms):
                found[f"{f.name}.{part.name}"] = getattr(value, part.name)
        elif isinstance(value, np.ndarray):
            found[f.name] = value
    return found


def store(db: sqlite3.Connection, columns: Columns) -> None:
    """Write the columns into the file (inside the caller's transaction)."""
    db.execute(TABLE)
    db.execute("DELETE FROM search_columns")
    rows = [("vocab", json.dumps(columns.vocab, separators=(",", ":")).encode())]
    for name, array in _arrays(columns).items():
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        rows.append((name, buffer.getvalue()))
    db.executemany("INSERT INTO search_columns VALUES (?, ?)", rows)


def load(db: sqlite3.Connection) -> Columns:
    """Read the columns stored by `store`."""
    blobs = dict(db.execute("SELECT name, data FROM search_columns"))
    arrays = {
        name: np.load(io.BytesIO(data), allow_pickle=False)
        for name, data in blobs.items()
        if name != "vocab"
    }
    values: dict = {"vocab": json.loads(blobs["vocab"])}
    for f in fields(Columns):
        if f.name == "vocab":
            continue
        if f.name in arrays:
            values[f.name] = arrays[f.name]
        else:
            values[f.name] = Terms(**{p.name: arrays[f"{f.name}.{p.name}"] for p in fields(Terms)})
    return Columns(**values)
