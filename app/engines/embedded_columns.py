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


# Rows read from SQLite at a time while the columns are built: memory stays flat in the directory's
# size (the arrays themselves aside), rather than holding every row as Python objects.
READ_BATCH = 50_000


class _Vocabulary:
    """A text column's values coded as they are read, in first-seen order; `final` recodes them
    as positions in the sorted vocabulary the columns keep ("" for a missing value)."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def code(self, values) -> np.ndarray:
        seen = self.seen
        return np.fromiter(
            (seen.setdefault(v or "", len(seen)) for v in values), dtype=np.int32, count=len(values)
        )

    def final(self, codes: np.ndarray, vocab: list[str] | None = None):
        """(codes in the sorted vocabulary, narrowest integers; the vocabulary)."""
        vocab = sorted(self.seen) if vocab is None else vocab
        index = {v: i for i, v in enumerate(vocab)}
        recode = np.zeros(max(len(self.seen), 1), dtype=np.int32)
        for value, first_seen in self.seen.items():
            recode[first_seen] = index[value]
        return recode[codes].astype(_narrowest(len(vocab))), vocab


def _narrowest(values: int):
    """The narrowest integers that hold codes of `values` values: most fields have a few dozen."""
    return np.int8 if values < 1 << 7 else np.int16 if values < 1 << 15 else np.int32


def _read(db: sqlite3.Connection, query: str, kinds: tuple, params: tuple = ()) -> list:
    """The columns of a query's rows, read a batch at a time: an array of each numeric column
    (`kinds[i]` its dtype), and (codes, _Vocabulary) for each text column (`kinds[i]` None)."""
    parts: list[list[np.ndarray]] = [[] for _ in kinds]
    vocabularies = [_Vocabulary() if kind is None else None for kind in kinds]
    cursor = db.execute(query, params)
    while rows := cursor.fetchmany(READ_BATCH):
        for i, values in enumerate(zip(*rows, strict=True)):
            vocabulary = vocabularies[i]
            if vocabulary is None:
                parts[i].append(np.array(values, dtype=kinds[i]))
            else:
                parts[i].append(vocabulary.code(values))
    columns: list = []
    for kind, chunks, vocabulary in zip(kinds, parts, vocabularies, strict=True):
        array = np.concatenate(chunks) if chunks else np.zeros(0, dtype=kind or np.int32)
        columns.append(array if vocabulary is None else (array, vocabulary))
    return columns


def _coded(column, vocab: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    codes, vocabulary = column
    return vocabulary.final(codes, vocab)


def build(db: sqlite3.Connection) -> Columns:
    """Read the generation's tables into columns."""
    vocab: dict[str, list[str]] = {}

    def encoded(name: str, column) -> np.ndarray:
        codes, vocab[name] = _coded(column)
        return codes

    pids, entity, gender, pcp, age_min, age_max, group = _read(
        db,
        "SELECT id, entity_type, gender, pcp, age_min, age_max, medical_group FROM providers"
        " ORDER BY id",
        (np.int64, None, None, bool, np.int16, np.int16, None),
    )
    provider_id = pids
    providers = len(provider_id)

    def dense(ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(provider_id, ids).astype(np.int32)

    def rank(order_by: str) -> np.ndarray:
        (ids,) = _read(db, f"SELECT id FROM providers ORDER BY {order_by}", (np.int64,))
        ranks = np.empty(providers, dtype=np.int32)
        ranks[dense(ids)] = np.arange(providers, dtype=np.int32)
        return ranks

    def provider_field(field: str) -> list:
        return _read(
            db,
            "SELECT provider_id, value FROM provider_terms WHERE field = ?",
            (np.int64, None),
            (field,),
        )

    # Primary specialties are coded in the specialty vocabulary: the ranking compares them.
    primary_owners, primary_values = provider_field(sql.PRIMARY_SPECIALTY_TERM)
    provider_terms = {}
    for field in PROVIDER_TERM_FIELDS:
        owners, values = provider_field(field)
        if field == "specialty":
            vocab[field] = sorted(set(values[1].seen) | set(primary_values[1].seen))
        codes, vocab[field] = _coded(values, vocab.get(field))
        provider_terms[field] = Terms.build(dense(owners), codes, providers, len(vocab[field]))
    primary = np.full(providers, -1, dtype=np.int32)
    primary[dense(primary_owners)] = _coded(primary_values, vocab["specialty"])[0]

    lids, lpids, ords, lats, lons, xs, ys, zs, cities, zips, tele = _read(
        db,
        "SELECT id, provider_id, ord, lat, lon, x, y, z, city, zip, telehealth FROM locations",
        (np.int64, np.int64, np.int32, *(np.float64,) * 5, None, None, bool),
    )
    key = spatial_key(lats, lons)
    del lats, lons
    order = np.argsort(key, kind="stable")
    location_id = lids[order]
    locations = len(location_id)
    by_id = np.argsort(location_id)  # location id order -> spatial position
    sorted_ids = location_id[by_id]

    def located(ids: np.ndarray) -> np.ndarray:
        return by_id[np.searchsorted(sorted_ids, ids)].astype(np.int32)

    location_provider = dense(lpids)[order]
    ord_ = ords[order]

    location_terms = {}
    for field in LOCATION_TERM_FIELDS:
        owners, values = _read(
            db,
            "SELECT location_id, value FROM location_terms WHERE field = ?",
            (np.int64, None),
            (field,),
        )
        codes = encoded(field, values)
        location_terms[field] = Terms.build(located(owners), codes, locations, len(vocab[field]))

    plan_locations, plans, lobs, accepting_values = _read(
        db,
        "SELECT location_id, plan, line_of_business, accepting FROM location_plans",
        (np.int64, None, None, None),
    )
    plan_location = located(plan_locations)
    plan = encoded("plan", plans)
    lob = encoded("line_of_business", lobs)
    accepting = encoded("accepting", accepting_values)
    by_location = np.argsort(plan_location, kind="stable")

    # Each provider's locations in ord order.
    by_provider = np.lexsort((ord_, location_provider))
    return Columns(
        vocab=vocab,
        provider_id=provider_id,
        entity_type=encoded("entity_type", entity),
        gender=encoded("gender", gender),
        pcp=pcp,
        age_min=age_min,
        age_max=age_max,
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
        x=xs[order],
        y=ys[order],
        z=zs[order],
        city=encoded("city", cities)[order],
        zip=encoded("zip", zips)[order],
        telehealth=tele[order],
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
