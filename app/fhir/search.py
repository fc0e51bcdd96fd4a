"""FHIR search on the view: a request's parameters read into clauses, each clause one SQL set of
resource rows, the search their intersection (nearest first when `near` is asked).

Semantics (FHIR R4 search): parameters AND together, comma-separated values OR; string values
match the start of a value, ignoring case and accents (`:exact` the whole value as written,
`:contains` any part); tokens match `code`, `system|code`, `|code` (no system) or `system|`, and
`:text` their display; references `Type/id`, `id` or an absolute URL; dates with the prefixes
eq, ne, gt, lt, ge, le, sa, eb, ap; `:missing` on every type. Chains follow a reference
(`location.address-city=`), `_has` runs backwards (`_has:PractitionerRole:location:specialty=`).
Nothing a user writes reaches the SQL text: values are always bound parameters, and names are
checked against the parameter table (app.fhir.params) before anything is built.
"""

import math
import re
from dataclasses import dataclass, field

from app.fhir import dates, nearby
from app.fhir import params as P
from app.fhir.outcome import FhirError
from app.fhir.view import FhirView, reference_key
from app.vocab.text import fold

DEFAULT_COUNT = 20
MAX_COUNT = 200
MAX_OFFSET = 10_000_000
# Included resources per page, at most: a Location's roles can be many thousands.
MAX_INCLUDED = 1000
MAX_ITERATIONS = 3
# Values one parameter may OR together: each is a term of one compound SELECT, which SQLite
# caps at 500.
MAX_VALUES = 400
DEFAULT_NEAR_MILES = 10.0
MAX_NEAR_MILES = 100.0
UNITS_IN_MILES = {"mi": 1.0, "[mi_i]": 1.0, "km": 0.621371192, "m": 0.000621371192}
CONTROL = (
    "_count",
    "_offset",
    "_include",
    "_revinclude",
    "_summary",
    "_elements",
    "_format",
    "_total",
    "_pretty",
)
SUMMARIES = ("count", "false", "data")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass
class Clause:
    """A set of resource rows as SQL: `rid IN (sql)`, or NOT IN when `negated`."""

    sql: str
    args: list
    negated: bool = False

    def positive(self, kind: str) -> "Clause":
        if not self.negated:
            return self
        return Clause(
            f"SELECT rid FROM resources WHERE type = ? AND rid NOT IN ({self.sql})",
            [kind, *self.args],
        )


@dataclass
class Near:
    lat: float
    lon: float
    miles: float
    via: int | None  # the reference parameter followed (its key), None on Location itself
    parameter: str


@dataclass
class Search:
    kind: str
    clauses: list[Clause] = field(default_factory=list)
    near: Near | None = None
    count: int = DEFAULT_COUNT
    offset: int = 0
    includes: list[tuple[str, int, str | None, bool]] = field(default_factory=list)
    revincludes: list[tuple[str, int, str | None, bool]] = field(default_factory=list)
    summary: str | None = None
    elements: tuple[str, ...] = ()
    applied: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


@dataclass
class Page:
    total: int
    matches: list[tuple[int, float | None]]  # (rid, miles from the near point)
    included: list
    truncated: bool = False


def _values(raw: str) -> list[str]:
    """Comma-separated values; `\\,` is a comma inside a value."""
    parts, current, escaped = [], "", False
    for char in raw:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _union(clauses: list[Clause], kind: str) -> Clause:
    if len(clauses) == 1:
        return clauses[0]
    positives = [c.positive(kind) for c in clauses]
    return Clause(" UNION ".join(c.sql for c in positives), [a for c in positives for a in c.args])


# -- one parameter, one value ------------------------------------------------------------------


def _string(param: P.Param, modifier: str | None, value: str) -> Clause:
    if modifier == "exact":
        return Clause(
            "SELECT rid FROM strings WHERE param = ? AND value = ? AND raw = ?",
            [param.key, fold(value), value],
        )
    folded = fold(value).strip()
    if modifier == "contains":
        return Clause(
            "SELECT rid FROM strings WHERE param = ? AND value LIKE ? ESCAPE '\\'",
            [param.key, f"%{_like(folded)}%"],
        )
    return Clause(
        "SELECT rid FROM strings WHERE param = ? AND value >= ? AND value < ?",
        [param.key, folded, folded + "\uffff"],
    )


def _token(key: int, modifier: str | None, value: str) -> Clause:
    if modifier == "text":
        words = fold(value).strip()
        return Clause(
            "SELECT rid FROM texts WHERE param = ? AND (text LIKE ? ESCAPE '\\'"
            " OR text LIKE ? ESCAPE '\\')",
            [key, f"{_like(words)}%", f"% {_like(words)}%"],
        )
    if "|" not in value:
        return Clause("SELECT rid FROM tokens WHERE param = ? AND code = ?", [key, value])
    system, code = value.split("|", 1)
    if not system:
        return Clause(
            "SELECT rid FROM tokens WHERE param = ? AND code = ? AND system IS NULL", [key, code]
        )
    if not code:
        return Clause("SELECT rid FROM tokens WHERE param = ? AND system = ?", [key, system])
    return Clause(
        "SELECT rid FROM tokens WHERE param = ? AND code = ? AND system = ?", [key, code, system]
    )


def _reference_keys(param: P.Param, type_modifier: str | None, value: str) -> list[str]:
    if "/" in value:
        key = reference_key(value)
        if key is None:
            raise FhirError(400, f"'{value}' is not a reference (Type/id)", param.name)
        return [key]
    targets = (type_modifier,) if type_modifier else param.targets
    return [f"{target}/{value}" for target in targets]


def _date(
    key: int | None, name: str, value: str, column: str | None = None, kind: str | None = None
) -> Clause:
    prefix, text = dates.split_prefix(value)
    try:
        vlow, vhigh = dates.parse_range(text)
    except ValueError as exc:
        raise FhirError(400, str(exc), name) from exc
    condition = dates.CONDITIONS[prefix]
    args = [vlow if name == "vlow" else vhigh for name in re.findall(r":(vlow|vhigh)", condition)]
    condition = re.sub(r":(vlow|vhigh)", "?", condition)
    if column:  # _lastUpdated: one instant per resource
        condition = condition.replace("low", column).replace("high", column)
        return Clause(f"SELECT rid FROM resources WHERE type = ? AND {condition}", [kind, *args])
    return Clause(f"SELECT rid FROM dates WHERE param = ? AND {condition}", [key, *args])


def _missing(table: str, key: int, value: str, name: str) -> Clause:
    if value not in ("true", "false"):
        raise FhirError(400, f":missing takes true or false, not '{value}'", name)
    return Clause(f"SELECT rid FROM {table} WHERE param = ?", [key], negated=value == "true")


# -- reading the request -----------------------------------------------------------------------


class Reader:
    """Reads one search request of a resource type into a Search."""

    def __init__(self, kind: str, view: FhirView, lenient: bool):
        self.kind = kind
        self.view = view
        self.lenient = lenient
        self.search = Search(kind)

    def unknown(self, name: str, message: str) -> None:
        if self.lenient:
            self.search.ignored.append(name)
            return
        raise FhirError(400, message, name)

    def read(self, items: list[tuple[str, str]]) -> Search:
        search = self.search
        pairs: dict[str, list[str]] = {}
        made: dict[str, list[Clause]] = {}
        for name, raw in items:
            base = name.split(":", 1)[0]
            if len(_values(raw)) > MAX_VALUES:
                raise FhirError(400, f"{name} takes at most {MAX_VALUES} values", name)
            if base in CONTROL:
                self.control(base, name, raw)
                continue
            try:
                clause = self.clause(self.kind, name, raw, top=True)
            except _Unknown as unknown:
                self.unknown(name, str(unknown))
                continue
            if clause is not None:
                search.clauses.append(clause)
                made.setdefault(name, []).append(clause)
            search.applied.append((name, raw))
            pairs.setdefault(name, []).extend(_values(raw))
        if self.kind == "PractitionerRole" and "network" in pairs and "new-patient" in pairs:
            # Accepting new patients under the network asked, not under any network.
            network = P.param("PractitionerRole", "network")
            keys = [k for v in pairs["network"] for k in _reference_keys(network, None, v)]
            codes = pairs["new-patient"]
            search.clauses.append(
                Clause(
                    "SELECT rid FROM tokens WHERE param = ?"
                    f" AND system IN ({','.join('?' * len(keys))})"
                    f" AND code IN ({','.join('?' * len(codes))})",
                    [P.NETWORK_NEW_PATIENT, *keys, *codes],
                )
            )
            if len(made.get("network", ())) == 1 and len(made.get("new-patient", ())) == 1:
                # Each asked once: the pair says all they say, and reads fewer rows.
                for clause in (made["network"][0], made["new-patient"][0]):
                    search.clauses.remove(clause)
        return search

    def control(self, base: str, name: str, raw: str) -> None:
        search = self.search
        if base == "_count":
            search.count = _integer(name, raw, 0, MAX_COUNT)
        elif base == "_offset":
            search.offset = _integer(name, raw, 0, MAX_OFFSET)
        elif base in ("_include", "_revinclude"):
            self.include(base, name, raw)
        elif base == "_summary":
            if raw not in SUMMARIES:
                raise FhirError(
                    400, f"_summary takes {', '.join(SUMMARIES)}; '{raw}' is not supported", name
                )
            search.summary = None if raw == "false" else raw
        elif base == "_elements":
            search.elements = tuple(e.strip() for e in raw.split(",") if e.strip())
        elif base == "_total" and raw not in ("none", "estimate", "accurate"):
            raise FhirError(400, "_total takes none, estimate or accurate", name)
        else:
            return  # _format and _pretty are read by the API
        search.applied.append((name, raw))

    def include(self, base: str, name: str, raw: str) -> None:
        modifier = name.split(":", 1)[1] if ":" in name else None
        if modifier not in (None, "iterate", "recurse"):
            raise FhirError(400, f"{base} takes :iterate, not :{modifier}", name)
        iterate = modifier is not None
        if raw == "*":
            declared = (P.INCLUDES if base == "_include" else P.REVINCLUDES)[self.kind]
            for entry in declared:
                self.include(base, base, entry)
            return
        parts = raw.split(":")
        if len(parts) not in (2, 3):
            raise FhirError(400, f"{base} is Type:parameter[:TargetType], not '{raw}'", name)
        source, param_name = parts[0], parts[1]
        target = parts[2] if len(parts) == 3 else None
        param = P.param(source, param_name)
        if param is None or param.type != P.REFERENCE:
            raise FhirError(400, f"{raw}: {source} has no reference parameter {param_name}", name)
        if base == "_include" and source != self.kind and not iterate:
            raise FhirError(400, f"{raw} does not start from {self.kind} (use :iterate)", name)
        if base == "_revinclude" and self.kind not in param.targets and not iterate:
            raise FhirError(400, f"{raw} does not point at {self.kind}", name)
        entry = (source, param.key, target, iterate)
        (self.search.includes if base == "_include" else self.search.revincludes).append(entry)

    # -- clauses ------------------------------------------------------------------------------
    def clause(self, kind: str, name: str, raw: str, top: bool = False) -> Clause | None:
        if name.startswith("_has:"):
            return self.has(kind, name, raw)
        head, _, rest = name.partition(".")
        param_name, _, modifier = head.partition(":")
        modifier = modifier or None
        if not NAME.match(param_name):
            raise _Unknown(f"'{name}' is not a search parameter name")
        if param_name in P.COMMON and modifier is not None:
            raise FhirError(400, f"{param_name} takes no :{modifier}", name)
        if param_name == "_id":
            self.no_chain(rest, name)
            keys = [f"{kind}/{v}" for v in _values(raw)]
            marks = ",".join("?" * len(keys))
            return Clause(f"SELECT rid FROM resources WHERE key IN ({marks})", keys)
        if param_name == "_lastUpdated":
            self.no_chain(rest, name)
            values = _values(raw)
            return _union([_date(None, "_lastUpdated", v, "updated", kind) for v in values], kind)
        param = P.param(kind, param_name)
        if param is None:
            raise _Unknown(f"{kind} has no search parameter '{param_name}'")
        if rest:
            return self.chain(param, modifier, rest, raw, top, name)
        if param.type == P.SPECIAL:
            return self.near(param, raw, via=None, name=name)
        if modifier == "missing":
            return _missing(_table(param), param.key, raw, name)
        if param.type == P.REFERENCE and modifier and modifier[:1].isupper():
            if modifier not in param.targets:
                raise FhirError(400, f"{param.name} does not point at {modifier}", name)
        elif modifier is not None and modifier not in P.MODIFIERS[param.type]:
            raise FhirError(400, f"{param.name} ({param.type}) does not take :{modifier}", name)
        values = _values(raw)
        if any(v == "" for v in values):
            raise FhirError(400, f"{name} has an empty value", name)
        if param.type == P.STRING:
            return _union([_string(param, modifier, v) for v in values], kind)
        if param.type == P.TOKEN:
            return _union([_token(param.key, modifier, v) for v in values], kind)
        if param.type == P.DATE:
            return _union([_date(param.key, param.name, v) for v in values], kind)
        keys = [k for v in values for k in _reference_keys(param, modifier, v)]
        marks = ",".join("?" * len(keys))
        return Clause(
            f"SELECT rid FROM refs WHERE param = ? AND target IN ({marks})", [param.key, *keys]
        )

    def no_chain(self, rest: str, name: str) -> None:
        if rest:
            raise FhirError(400, f"{name}: only reference parameters chain", name)

    def chain(
        self, param: P.Param, modifier: str | None, rest: str, raw: str, top: bool, name: str
    ) -> Clause | None:
        if param.type != P.REFERENCE:
            raise FhirError(400, f"{name}: only reference parameters chain", name)
        target = modifier or (param.targets[0] if len(param.targets) == 1 else None)
        if target not in param.targets:
            raise FhirError(400, f"{name}: say which type {param.name} points at", name)
        if rest.split(":", 1)[0] == "near":
            if not top or target != "Location":
                raise FhirError(400, f"{name}: near is searched on Location", name)
            return self.near(P.param("Location", "near"), raw, via=param.key, name=name)
        copied = P.ROLE_COPY_KEYS.get(rest) if param.key == _ROLE_PRACTITIONER else None
        if copied is not None:
            values = _values(raw)
            if any(v == "" for v in values):
                raise FhirError(400, f"{name} has an empty value", name)
            return _union([_token(copied, None, v) for v in values], param.resource)
        inner = self.clause(target, rest, raw).positive(target)
        return Clause(
            "SELECT rid FROM refs WHERE param = ? AND target IN"
            f" (SELECT key FROM resources WHERE rid IN ({inner.sql}))",
            [param.key, *inner.args],
        )

    def has(self, kind: str, name: str, raw: str) -> Clause:
        parts = name.split(":", 3)
        if len(parts) != 4:
            raise FhirError(400, f"{name}: _has is _has:Type:reference:parameter", name)
        _, source, ref_name, inner_name = parts
        ref = P.param(source, ref_name)
        if ref is None or ref.type != P.REFERENCE or kind not in ref.targets:
            raise FhirError(400, f"{name}: {source}.{ref_name} does not point at {kind}", name)
        inner = self.clause(source, inner_name, raw).positive(source)
        return Clause(
            "SELECT rid FROM resources WHERE key IN"
            f" (SELECT target FROM refs WHERE param = ? AND rid IN ({inner.sql}))",
            [ref.key, *inner.args],
        )

    def near(self, param: P.Param, raw: str, via: int | None, name: str) -> Clause | None:
        parts = raw.split("|")
        if len(parts) < 2 or len(parts) > 4:
            raise FhirError(400, f"{name} is latitude|longitude|distance|units", name)
        try:
            lat, lon = float(parts[0]), float(parts[1])
            distance = float(parts[2]) if len(parts) > 2 and parts[2] else None
        except ValueError as exc:
            raise FhirError(
                400, f"{name}: '{raw}' is not latitude|longitude|distance", name
            ) from exc
        units = parts[3] if len(parts) > 3 and parts[3] else "mi"
        if units not in UNITS_IN_MILES:
            raise FhirError(400, f"{name}: units are mi, km or m, not '{units}'", name)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not all(map(math.isfinite, (lat, lon))):
            raise FhirError(400, f"{name}: latitude -90..90 and longitude -180..180", name)
        miles = DEFAULT_NEAR_MILES if distance is None else distance * UNITS_IN_MILES[units]
        if not (0 < miles <= MAX_NEAR_MILES) or not math.isfinite(miles):
            raise FhirError(400, f"{name}: distance above 0 and up to {MAX_NEAR_MILES:g} mi", name)
        if self.search.near is not None:
            raise FhirError(400, f"{name}: one near per search", name)
        self.search.near = Near(lat, lon, miles, via, name)
        return None


_ROLE_PRACTITIONER = P.param("PractitionerRole", "practitioner").key


class _Unknown(Exception):
    """A parameter this server does not know (ignored under Prefer: handling=lenient)."""


def _table(param: P.Param) -> str:
    return {P.TOKEN: "tokens", P.STRING: "strings", P.REFERENCE: "refs", P.DATE: "dates"}[
        param.type
    ]


def _integer(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise FhirError(400, f"{name} takes a whole number", name) from exc
    if not low <= value <= high:
        raise FhirError(400, f"{name} takes {low} to {high}", name)
    return value


def read_search(
    kind: str, items: list[tuple[str, str]], view: FhirView, lenient: bool = False
) -> Search:
    return Reader(kind, view, lenient).read(items)


# -- running it --------------------------------------------------------------------------------


def run(view: FhirView, search: Search) -> Page:
    where = ["r.type = ?"]
    args: list = [search.kind]
    for clause in search.clauses:
        where.append(f"r.rid {'NOT IN' if clause.negated else 'IN'} ({clause.sql})")
        args.extend(clause.args)
    condition = " AND ".join(where)
    if search.near is None:
        (total,) = view.run(f"SELECT count(*) FROM resources r WHERE {condition}", args)[0]
        rows = []
        if search.count and search.summary != "count":
            rows = view.run(
                f"SELECT r.rid, NULL FROM resources r WHERE {condition}"
                " ORDER BY r.rid LIMIT ? OFFSET ?",
                [*args, search.count, search.offset],
            )
    else:
        total, rows = _nearest(view, search)
    matches = [(rid, distance) for rid, distance in rows]
    included, truncated = _included(view, search, [rid for rid, _ in matches])
    return Page(total, matches, included, truncated)


def _nearest(view: FhirView, search: Search) -> tuple[int, list[tuple[int, float]]]:
    """(total, the page's (rid, miles)) of a search with `near`, nearest first (in memory: the
    places in the circle, the resources there, then each clause's set)."""
    near = search.near
    page = None
    if search.count and search.summary != "count":
        page = (search.offset, search.count)
    clauses = [(clause.sql, clause.args, clause.negated) for clause in search.clauses]
    return nearby.nearest(view, near.via, near.lat, near.lon, near.miles, clauses, page)


def _included(view: FhirView, search: Search, rids: list[int]) -> tuple[list, bool]:
    if not rids or not (search.includes or search.revincludes):
        return [], False
    seen = set(rids)
    found: list = []
    frontier = view.by_rids(rids)
    first = True
    for _round in range(MAX_ITERATIONS + 1):
        new: list = []
        for source, key, target, iterate in search.includes:
            if not first and not iterate:
                continue
            from_here = [s.rid for s in frontier if s.type == source]
            if not from_here:
                continue
            marks = ",".join("?" * len(from_here))
            targets = [
                t
                for (t,) in view.run(
                    f"SELECT DISTINCT target FROM refs WHERE param = ? AND rid IN ({marks})",
                    [key, *from_here],
                )
                if target is None or t.startswith(target + "/")
            ]
            new.extend(view.by_keys(targets))
        for _source, key, _target, iterate in search.revincludes:
            if not first and not iterate:
                continue
            keys = [s.key for s in frontier]
            marks = ",".join("?" * len(keys))
            rows = view.run(
                f"SELECT DISTINCT rid FROM refs WHERE param = ? AND target IN ({marks})"
                " ORDER BY rid LIMIT ?",
                [key, *keys, MAX_INCLUDED + 1],
            )
            new.extend(view.by_rids([rid for (rid,) in rows]))
        fresh = []
        for stored in new:
            if stored.rid not in seen:
                seen.add(stored.rid)
                fresh.append(stored)
        if len(found) + len(fresh) > MAX_INCLUDED:
            found.extend(fresh[: MAX_INCLUDED - len(found)])
            return found, True
        found.extend(fresh)
        if not fresh:
            break
        frontier = fresh
        first = False
    return found, False
