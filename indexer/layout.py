"""Declared roster layouts: a JSON file maps a roster's columns and codes onto the project's own.

A layout names, for each source column, the canonical column(s) it fills (every named column must
be in the file unless listed as optional; a column may be known under several header names);
which rows to keep; canonical columns gathered from several source columns (numbered columns such
as `sec_spec_1..4`, the primary one first); a small fixed set of transforms (case, ZIP, phone);
value maps, inline or from a crosswalk file shipped in `indexer/data/`; how multi-value cells are
split; date formats; defaults; and for rosters with one row per provider-location and a column
group per plan, which columns belong to which plan. Everything is checked when the layout loads;
a layout carries no code. See the README, "Roster layouts".
"""

import contextlib
import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from app.vocab.codes import LIST_SEPARATOR
from app.vocab.phones import PhoneError, parse_phone
from app.vocab.zips import parse_zip
from indexer.records import Skipped
from indexer.sources.csv_roster import RosterFormatError
from indexer.sources.text_files import open_text
from indexer.validate import PLAN_FIELDS, ROSTER_COLUMNS

CANONICAL_COLUMNS = ROSTER_COLUMNS
PLAN_COLUMNS = PLAN_FIELDS
LIST_COLUMNS = (
    "taxonomy_codes",
    "languages",
    "staff_languages",
    "board_certifications",
    "hospital_affiliations",
    "accessibility",
)
DATE_COLUMNS = ("last_updated", "last_verified")
# Columns a delta roster carries beside the layout's own.
PASSTHROUGH = ("action", "termination_date")
NUMBER = "{n}"
MAX_NUMBER = 99
FILTER_OPERATORS = ("equals", "in", "is", "any", "all")
FILTER_KEYS = ("column", "reason", *FILTER_OPERATORS)
CROSSWALK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class LayoutError(ValueError):
    """The layout file is wrong, or the roster does not have the columns it declares."""


def fold(header: str) -> str:
    """A header as it is compared: trimmed, case-folded, inner spaces collapsed."""
    return " ".join(header.split()).casefold()


def crosswalk_key(name: str) -> str:
    """A name as crosswalk look-ups compare it: upper case, whitespace collapsed."""
    return " ".join(name.split()).upper()


# --- transforms: a fixed set, named in the layout --------------------------------------------

_LETTERS = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=65536)  # names and cities repeat: a file has far fewer than rows
def title_case(text: str) -> str:
    """`O'BRIEN-SMITH` -> `O'Brien-Smith`, `JOHN'S` -> `John's`, `3RD ST` -> `3rd St`."""
    lowered = text.lower()

    def word(match: re.Match) -> str:
        start, letters = match.start(), match.group()
        before = lowered[start - 1] if start else ""
        if before.isdigit():
            return letters
        if before == "'":
            # O'Brien, D'Angelo: one letter before the apostrophe; not John's.
            run = _LETTERS.search(lowered[max(0, start - 3) : start - 1][::-1])
            if not (run and run.start() == 0 and len(run.group()) == 1):
                return letters
        return letters[:1].upper() + letters[1:]

    return _LETTERS.sub(word, lowered)


def _zip(text: str) -> str:
    parsed = parse_zip(text)
    return str(parsed) if parsed is not None else text


def _phone(text: str) -> str:
    if not text:
        return text
    if len(text) == 10 and text.isdigit() and text[0] not in "01" and text[3] not in "01":
        # Ten plain digits, as NPPES and CMS write every phone: what parse_phone would give.
        return f"({text[:3]}) {text[3:6]}-{text[6:]}"
    try:
        return str(parse_phone(text))
    except PhoneError:
        return text  # validation reports it, by column


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "trim": lambda text: " ".join(text.split()),
    "upper": str.upper,
    "lower": str.lower,
    "title": title_case,
    "zip": _zip,
    "phone": _phone,
}


# --- crosswalks: value maps shipped as CSV files in indexer/data/ ----------------------------


def shipped_crosswalks() -> list[str]:
    folder = resources.files("indexer").joinpath("data")
    return sorted(Path(p.name).stem for p in folder.iterdir() if p.name.endswith(".csv"))


@cache
def _crosswalk_rows(name: str) -> tuple[tuple[str, ...], tuple[dict[str, str], ...]]:
    path = resources.files("indexer").joinpath("data", f"{name}.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return tuple(reader.fieldnames or ()), tuple(reader)


@cache
def crosswalk(name: str, source: str, target: str) -> dict[str, str]:
    """A shipped crosswalk as a map: normalised `source` name -> `target` (the first row wins)."""
    table: dict[str, str] = {}
    for row in _crosswalk_rows(name)[1]:
        key, value = crosswalk_key(row.get(source) or ""), (row.get(target) or "").strip()
        if key and value:
            table.setdefault(key, value)
    return table


# --- the layout file's schema -----------------------------------------------------------------

canonical = validate.OneOf(CANONICAL_COLUMNS, error="not a roster column: {input}")


class Targets(fields.Field):
    """One canonical column, or a list of them (one source column filling several)."""

    def _deserialize(self, value, attr, data, **kwargs):
        targets = [value] if isinstance(value, str) else value
        if not isinstance(targets, list) or not targets:
            raise ValidationError("a canonical column or a list of them")
        for target in targets:
            if not isinstance(target, str):
                raise ValidationError("a canonical column or a list of them")
            canonical(target)
        if len(set(targets)) != len(targets):
            raise ValidationError("names a canonical column twice")
        return tuple(targets)


class ConditionSchema(Schema):
    """A row filter: `{"column": C, "equals": V}`, `{"column": C, "in": [V, ...]}`,
    `{"column": C, "is": "empty" | "not-empty"}`, `{"any": [...]}`, `{"all": [...]}`."""

    class Meta:
        unknown = RAISE

    column = fields.String(validate=validate.Length(min=1))
    equals = fields.String()
    in_ = fields.List(fields.String(), data_key="in", validate=validate.Length(min=1))
    is_ = fields.String(
        data_key="is",
        validate=validate.OneOf(("empty", "not-empty"), error="'empty' or 'not-empty'"),
    )
    any = fields.List(fields.Nested(lambda: ConditionSchema()), validate=validate.Length(min=1))
    all = fields.List(fields.Nested(lambda: ConditionSchema()), validate=validate.Length(min=1))
    reason = fields.String(validate=validate.Length(min=1, max=200))

    @pre_load
    def known_operators(self, data, **kwargs):
        if isinstance(data, dict):
            unknown = {
                key: [f"unknown filter key; a filter has one of {', '.join(FILTER_OPERATORS)}"]
                for key in data
                if key not in FILTER_KEYS
            }
            if unknown:
                raise ValidationError(unknown)
        return data

    @validates_schema
    def one_operator(self, data, **kwargs):
        operators = [op for op in ("equals", "in_", "is_", "any", "all") if op in data]
        if len(operators) != 1:
            raise ValidationError(
                f"a filter has exactly one of {', '.join(FILTER_OPERATORS)}", "column"
            )
        compound = operators[0] in ("any", "all")
        if compound and "column" in data:
            raise ValidationError(f"'{operators[0]}' takes no column", "column")
        if not compound and "column" not in data:
            raise ValidationError("this filter needs the column it tests", "column")


class PrimarySchema(Schema):
    class Meta:
        unknown = RAISE

    column = fields.String(required=True, validate=validate.Length(min=1))
    equals = fields.String(required=True)


class CombineSchema(Schema):
    """A canonical column gathered from several source columns."""

    class Meta:
        unknown = RAISE

    from_ = fields.List(
        fields.String(validate=validate.Length(min=1)),
        data_key="from",
        required=True,
        validate=validate.Length(min=1),
    )
    n = fields.List(fields.Integer(strict=True), validate=validate.Length(equal=2))
    primary = fields.Nested(PrimarySchema)
    pick = fields.String(validate=validate.OneOf(("primary", "first")))
    join = fields.String()

    @validates_schema
    def numbered(self, data, **kwargs):
        patterns = [name for name in data["from_"] if NUMBER in name]
        if "primary" in data:
            if NUMBER not in data["primary"]["column"]:
                raise ValidationError(f"the primary column is numbered: use {NUMBER}", "primary")
            patterns.append(data["primary"]["column"])
        if patterns and "n" not in data:
            raise ValidationError(
                f"{NUMBER} in a column name needs the range n: [first, last]", "n"
            )
        if "n" in data:
            first, last = data["n"]
            if not patterns:
                raise ValidationError(f"a range needs a column name with {NUMBER}", "n")
            if not 0 <= first <= last <= MAX_NUMBER:
                raise ValidationError(f"a range [first, last] within 0..{MAX_NUMBER}", "n")
        if data.get("pick") == "primary" and "primary" not in data:
            raise ValidationError("pick 'primary' needs a primary column", "pick")
        if "pick" in data and "join" in data:
            raise ValidationError("either pick or join, not both", "join")


class CrosswalkSchema(Schema):
    class Meta:
        unknown = RAISE

    file = fields.String(required=True)
    from_ = fields.String(data_key="from", required=True)
    to = fields.String(required=True)

    @validates_schema
    def shipped(self, data, **kwargs):
        name = data["file"].removesuffix(".csv")
        shipped = shipped_crosswalks()
        if not CROSSWALK_NAME.match(name) or name not in shipped:
            raise ValidationError(
                f"not a shipped crosswalk: {data['file']!r}; shipped: {', '.join(shipped)}",
                "file",
            )
        header = _crosswalk_rows(name)[0]
        for key, column in (("from", data["from_"]), ("to", data["to"])):
            if column not in header:
                raise ValidationError(
                    f"crosswalk {name!r} has no column {column!r}; it has {', '.join(header)}",
                    key,
                )


class PlanGroupSchema(Schema):
    class Meta:
        unknown = RAISE

    columns = fields.Dict(keys=fields.String(), values=fields.String(validate=canonical))
    defaults = fields.Dict(keys=fields.String(validate=canonical), values=fields.String())


class LayoutSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]*$"))
    description = fields.String(load_default="")
    columns = fields.Dict(keys=fields.String(), values=Targets(), load_default=dict)
    aliases = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String(validate=validate.Length(min=1))),
        load_default=dict,
    )
    filters = fields.List(fields.Nested(ConditionSchema), load_default=list)
    combine = fields.Dict(
        keys=fields.String(validate=canonical),
        values=fields.Nested(CombineSchema),
        load_default=dict,
    )
    transforms = fields.Dict(
        keys=fields.String(validate=canonical),
        values=fields.List(
            fields.String(
                validate=validate.OneOf(
                    tuple(TRANSFORMS), error="unknown transform {input!r}; one of {choices}"
                )
            )
        ),
        load_default=dict,
    )
    values = fields.Dict(
        keys=fields.String(validate=canonical),
        values=fields.Dict(keys=fields.String(), values=fields.String()),
        load_default=dict,
    )
    crosswalks = fields.Dict(
        keys=fields.String(validate=canonical),
        values=fields.Nested(CrosswalkSchema),
        load_default=dict,
    )
    split = fields.Dict(
        keys=fields.String(validate=validate.OneOf(LIST_COLUMNS)),
        values=fields.String(validate=validate.Length(min=1, max=3)),
        load_default=dict,
    )
    dates = fields.Dict(
        keys=fields.String(validate=validate.OneOf(DATE_COLUMNS)),
        values=fields.String(),
        load_default=dict,
    )
    defaults = fields.Dict(
        keys=fields.String(validate=canonical), values=fields.String(), load_default=dict
    )
    plans = fields.List(fields.Nested(PlanGroupSchema), load_default=list)
    optional = fields.List(fields.String(), load_default=list)

    @validates_schema
    def check(self, data, **kwargs):
        plans = data.get("plans", [])
        filled = {t for targets in data.get("columns", {}).values() for t in targets}
        combined = set(data.get("combine", {}))
        twice = sorted(filled & combined)
        if twice:
            raise ValidationError(f"filled by both columns and combine: {twice}", "combine")
        provided = filled | combined | set(data.get("defaults", {}))
        for group in plans:
            provided |= set(group.get("columns", {}).values()) | set(group.get("defaults", {}))
        if "npi" not in provided:
            raise ValidationError("nothing fills the required column npi", "columns")
        if "zip" not in provided and not {"latitude", "longitude"} <= provided:
            raise ValidationError(
                "nothing fills zip (or latitude and longitude): a row must be locatable",
                "columns",
            )
        if provided & set(PLAN_COLUMNS) and "plan_provider_id" not in provided:
            raise ValidationError(
                "plan columns without a plan_provider_id: the ID a member gives the plan",
                "columns",
            )
        for group in plans:
            if "plan_provider_id" not in set(group.get("columns", {}).values()):
                raise ValidationError("each plan group needs a plan_provider_id column", "plans")
        for target, spec in data.get("combine", {}).items():
            if target in LIST_COLUMNS and ("pick" in spec or "join" in spec):
                raise ValidationError(
                    f"{target} is a list: its values are kept as a list, never picked or joined",
                    "combine",
                )
            if target not in LIST_COLUMNS and "pick" not in spec and "join" not in spec:
                raise ValidationError(
                    f"{target} holds one value: say how to make it (pick or join)", "combine"
                )
        named = _named_sources(data)
        for key, others in data.get("aliases", {}).items():
            if key not in named:
                raise ValidationError(f"aliases name no column of this layout: {key!r}", "aliases")
            if NUMBER in key and any(NUMBER not in other for other in others):
                raise ValidationError(
                    f"an alias of the numbered column {key!r} is numbered too ({NUMBER})",
                    "aliases",
                )
        strays = [c for c in data.get("optional", []) if c not in named]
        if strays:
            raise ValidationError(f"optional names no column of this layout: {strays}", "optional")


def _filter_columns(conditions: list[dict]) -> Iterator[str]:
    for condition in conditions:
        if "column" in condition:
            yield condition["column"]
        yield from _filter_columns(condition.get("any", []) + condition.get("all", []))


def _named_sources(data: dict) -> set[str]:
    """Every source column (or numbered pattern) a loaded layout names."""
    named = set(data.get("columns", {}))
    for group in data.get("plans", []):
        named |= set(group.get("columns", {}))
    for spec in data.get("combine", {}).values():
        named |= set(spec["from_"])
        if "primary" in spec:
            named.add(spec["primary"]["column"])
    named |= set(_filter_columns(data.get("filters", [])))
    return named


def _flatten(messages, path: str = "") -> Iterator[str]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "value" or key == "_schema":
                step = path
            elif isinstance(key, int):
                step = f"{path}[{key}]"
            else:
                step = f"{path}.{key}" if path else str(key)
            yield from _flatten(value, step)
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, path)
    else:
        yield f"{path}: {messages}" if path else str(messages)


# --- the loaded layout ------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A source column as the layout names it, and every header name it may have in a file."""

    name: str
    headers: tuple[str, ...]
    optional: bool
    n: int | None = None


@dataclass(frozen=True)
class Condition:
    op: str
    column: str = ""
    values: frozenset[str] = frozenset()
    parts: tuple["Condition", ...] = ()
    reason: str = ""

    def holds(self, cells: dict[str, str]) -> bool:
        """Whether a row's cells (source column -> trimmed text) meet this condition."""
        if self.op == "any":
            return any(part.holds(cells) for part in self.parts)
        if self.op == "all":
            return all(part.holds(cells) for part in self.parts)
        value = cells.get(self.column, "")
        if self.op == "empty":
            return not value
        if self.op == "not-empty":
            return bool(value)
        return value.casefold() in self.values

    def describe(self) -> str:
        if self.reason:
            return self.reason
        if self.op in ("any", "all"):
            joined = "; ".join(part.describe() for part in self.parts)
            return f"{'none' if self.op == 'any' else 'not all'} of: {joined}"
        if self.op in ("empty", "not-empty"):
            return f"{self.column} must be {self.op.replace('-', ' ')}"
        return f"{self.column} must be {' or '.join(sorted(self.values))}"


def _condition(raw: dict) -> Condition:
    reason = raw.get("reason", "")
    for op in ("any", "all"):
        if op in raw:
            return Condition(op, parts=tuple(_condition(p) for p in raw[op]), reason=reason)
    if "is_" in raw:
        return Condition(raw["is_"], raw["column"], reason=reason)
    values = raw["in_"] if "in_" in raw else [raw["equals"]]
    wanted = frozenset(v.strip().casefold() for v in values)
    return Condition("in", raw["column"], wanted, reason=reason)


@dataclass(frozen=True)
class Combine:
    """A canonical column gathered from several source columns (see CombineSchema)."""

    sources: tuple[Source, ...]
    primary: tuple[Source, ...] = ()
    primary_value: str = ""
    pick: str | None = None
    join: str | None = None

    def primary_number(self, cells: dict[str, str]) -> int | None:
        for source in self.primary:
            if cells.get(source.name, "").casefold() == self.primary_value:
                return source.n
        return None


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    columns: dict[str, tuple[str, ...]]
    values: dict[str, dict[str, str]]
    split: dict[str, str]
    dates: dict[str, str]
    defaults: dict[str, str]
    plans: tuple[dict, ...]
    optional: frozenset[str] = frozenset()
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    filters: tuple[Condition, ...] = ()
    combine: dict[str, Combine] = field(default_factory=dict)
    transforms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    crosswalks: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    # The header names the last file checked uses for the layout's columns, for error reports.
    _seen: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def source(self, name: str, pattern: str | None = None, n: int | None = None) -> Source:
        written = pattern or name
        others = [a.replace(NUMBER, str(n)) for a in self.aliases.get(written, ())]
        optional = name in self.optional or written in self.optional
        return Source(name, (name, *others), optional, n)

    @property
    def sources(self) -> list[Source]:
        """Every source column the layout reads, numbered columns expanded, each once."""
        found: dict[str, Source] = {}
        for name in self.columns:
            found.setdefault(name, self.source(name))
        for spec in self.combine.values():
            for source in (*spec.sources, *spec.primary):
                found.setdefault(source.name, source)
        for condition in self.filters:
            for name in _condition_columns(condition):
                found.setdefault(name, self.source(name))
        for group in self.plans:
            for name in group.get("columns", {}):
                found.setdefault(name, self.source(name))
        return list(found.values())

    @property
    def source_columns(self) -> list[str]:
        return [source.name for source in self.sources]

    def bind(self, header: Iterable[str]) -> dict[str, str | None]:
        """Each source column's header in a file (its name or an alias, compared trimmed and
        case-folded), or None where the file lacks it."""
        present: dict[str, str] = {}
        for written in header:
            if written is not None:
                present.setdefault(fold(written), written)
        bound: dict[str, str | None] = {}
        for source in self.sources:
            bound[source.name] = next(
                (present[fold(h)] for h in source.headers if fold(h) in present), None
            )
        return bound

    def check_header(self, header: Iterable[str]) -> None:
        """Refuse a roster that lacks a column this layout names, before reading any row."""
        header = [h for h in header if h is not None]
        bound = self.bind(header)
        missing = [
            source for source in self.sources if bound[source.name] is None and not source.optional
        ]
        if missing:
            present = sorted({h.strip() for h in header})
            raise LayoutError(
                f"layout {self.name!r} expects column(s) missing from the file: "
                + ", ".join(_spelled(s) for s in missing)
                + f"; the file has: {', '.join(present)}"
            )
        self._seen.clear()
        self._seen.update({k: v.strip() for k, v in bound.items() if v is not None})

    def source_name(self, canonical_column: str) -> str:
        """The roster's own name for a canonical column, for error reports."""
        for source, targets in self.columns.items():
            if canonical_column in targets:
                return self._seen.get(source, source)
        spec = self.combine.get(canonical_column)
        if spec is not None:
            name = spec.sources[0].name
            return self._seen.get(name, name)
        for group in self.plans:
            for source, target in group.get("columns", {}).items():
                if target == canonical_column:
                    return self._seen.get(source, source)
        return canonical_column

    def _item(self, column: str, value: str) -> str:
        for step in self.transforms.get(column, ()):
            value = TRANSFORMS[step](value)
        mapped = self.values.get(column)
        if mapped and value in mapped:
            return mapped[value]
        table = self.crosswalks.get(column)
        if table is not None:
            return table.get(crosswalk_key(value), value)
        return value

    def _items(self, column: str, value: str) -> list[str]:
        separator = self.split.get(column, LIST_SEPARATOR)
        parts = (self._item(column, p.strip()) for p in value.split(separator) if p.strip())
        return [p for p in parts if p]

    def _convert(self, column: str, value: str) -> str:
        value = value.strip()
        if column in LIST_COLUMNS:
            return LIST_SEPARATOR.join(self._items(column, value))
        value = self._item(column, value)
        if column in self.dates and value:
            value = _iso_date(value, self.dates[column])
        return value

    def _combined(self, column: str, spec: Combine, cells: dict[str, str]) -> str:
        found = [(s.n, text) for s in spec.sources if (text := cells.get(s.name, ""))]
        primary = spec.primary_number(cells) if spec.primary else None
        if column in LIST_COLUMNS:
            if primary is not None:
                found.sort(key=lambda cell: cell[0] != primary)  # stable: the primary first
            items = [item for _, text in found for item in self._items(column, text)]
            return LIST_SEPARATOR.join(dict.fromkeys(items))
        if spec.join is not None:
            return self._convert(column, spec.join.join(text for _, text in found))
        at_primary = [text for n, text in found if n == primary and primary is not None]
        chosen = (at_primary or [text for _, text in found] or [""])[0]
        return self._convert(column, chosen)

    def skipped(self, cells: dict[str, str]) -> Skipped | None:
        """`Skipped(reason)` for a row (source column -> trimmed text) a filter leaves out."""
        for condition in self.filters:
            if not condition.holds(cells):
                return Skipped(condition.describe())
        return None

    def translate(
        self, rows: Iterable[tuple[int, dict[str, str]]]
    ) -> Iterator[tuple[int, dict[str, str] | Skipped]]:
        """Source rows -> rows in the project's own layout (several per row for plan columns),
        or `Skipped(reason)` for a row a filter leaves out."""
        bound: list[tuple[str, str]] | None = None
        for line, raw in rows:
            if bound is None:
                bound = [(k, v) for k, v in self.bind(raw.keys()).items() if v is not None]
            cells = {name: (raw.get(header) or "").strip() for name, header in bound}
            skipped = self.skipped(cells)
            if skipped is not None:
                yield line, skipped
                continue
            base = dict(self.defaults)
            for passthrough in PASSTHROUGH:
                if passthrough in raw:
                    base[passthrough] = (raw[passthrough] or "").strip()
            for source, targets in self.columns.items():
                text = cells.get(source, "")
                for target in targets:
                    value = self._convert(target, text)
                    if value or target not in base:
                        base[target] = value
            for target, spec in self.combine.items():
                value = self._combined(target, spec, cells)
                if value or target not in base:
                    base[target] = value
            if not self.plans:
                yield line, base
                continue
            for group in self.plans:
                row = {**base, **group.get("defaults", {})}
                for source, target in group["columns"].items():
                    row[target] = self._convert(target, cells.get(source, ""))
                if row.get("plan_provider_id"):
                    yield line, row


@lru_cache(maxsize=65536)  # a file has far fewer dates than rows
def _iso_date(value: str, written: str) -> str:
    """An ISO date, or the value as it is when it does not parse (validation reports it)."""
    with contextlib.suppress(ValueError):
        return datetime.strptime(value, written).date().isoformat()
    return value


def _condition_columns(condition: Condition) -> Iterator[str]:
    if condition.column:
        yield condition.column
    for part in condition.parts:
        yield from _condition_columns(part)


def _spelled(source: Source) -> str:
    if len(source.headers) == 1:
        return repr(source.name)
    return repr(source.name) + " (or " + ", ".join(repr(h) for h in source.headers[1:]) + ")"


def _expanded(layout: Layout, names: list[str], numbers: list[int] | None) -> tuple[Source, ...]:
    sources = []
    for written in names:
        if NUMBER in written and numbers:
            first, last = numbers
            for n in range(first, last + 1):
                sources.append(layout.source(written.replace(NUMBER, str(n)), written, n))
        else:
            sources.append(layout.source(written))
    return tuple(sources)


@cache
def shipped_layouts() -> dict[str, Path]:
    folder = resources.files("indexer").joinpath("layouts")
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".json")}


def load_layout(name_or_path: str | Path) -> Layout:
    """A shipped layout by name, or a layout file by path; checked before use."""
    path = shipped_layouts().get(str(name_or_path)) or Path(name_or_path)
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        known = ", ".join(sorted(shipped_layouts()))
        raise LayoutError(f"no layout {name_or_path!r}; shipped layouts: {known}") from exc
    except json.JSONDecodeError as exc:
        raise LayoutError(f"layout {path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise LayoutError(f"layout {path} is invalid: a layout is a JSON object")
    try:
        data = LayoutSchema().load(raw)
    except ValidationError as exc:
        problems = "; ".join(_flatten(exc.normalized_messages()))
        raise LayoutError(f"layout {path} is invalid: {problems}") from exc
    layout = Layout(
        name=data["name"],
        description=data["description"],
        columns=data["columns"],
        values=data["values"],
        split=data["split"],
        dates=data["dates"],
        defaults=data["defaults"],
        plans=tuple(data["plans"]),
        optional=frozenset(data["optional"]),
        aliases={k: tuple(v) for k, v in data["aliases"].items()},
        filters=tuple(_condition(c) for c in data["filters"]),
        transforms={k: tuple(v) for k, v in data["transforms"].items()},
        crosswalks={
            column: crosswalk(spec["file"].removesuffix(".csv"), spec["from_"], spec["to"])
            for column, spec in data["crosswalks"].items()
        },
    )
    for target, spec in data["combine"].items():
        numbers = spec.get("n")
        primary = spec.get("primary")
        layout.combine[target] = Combine(
            sources=_expanded(layout, spec["from_"], numbers),
            primary=_expanded(layout, [primary["column"]], numbers) if primary else (),
            primary_value=primary["equals"].strip().casefold() if primary else "",
            pick=spec.get("pick"),
            join=spec.get("join"),
        )
    return layout


def read_with_layout(
    path: str | Path, layout: Layout
) -> Iterator[tuple[int, dict[str, str] | Skipped]]:
    """Read a roster CSV in a declared layout as rows of the project's own layout.

    The header is checked against the layout here, before any row is read. Only the columns the
    layout reads are taken from each row (an NPPES row has 329, the layout reads about 60).
    """
    fh = open_text(path)
    reader = csv.reader(fh)
    try:
        header = next(reader, None)
        if header is None:
            raise RosterFormatError("the file is empty: expected a header row")
        layout.check_header(header)
    except BaseException:
        fh.close()
        raise
    header = [name.strip() for name in header]
    wanted = {h for h in layout.bind(header).values() if h is not None} | set(PASSTHROUGH)
    taken = [(i, name) for i, name in enumerate(header) if name in wanted]

    def raw_rows() -> Iterator[tuple[int, dict[str, str]]]:
        with fh:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                width = len(cells)
                yield reader.line_num, {name: cells[i] if i < width else "" for i, name in taken}

    return layout.translate(raw_rows())
