"""Declared roster layouts: a JSON file maps a roster's columns and codes onto the project's own.

A layout names, for each source column, the canonical column it fills (every named column must be
in the file unless listed as optional); value maps (`Y`/`N`, `Closed`, plan names to plan codes);
how multi-value cells are split; date formats; defaults; and for rosters with one row per
provider-location and a column group per plan, which columns belong to which plan. See the README,
"Roster layouts".
"""

import contextlib
import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from indexer.sources.csv_roster import REQUIRED_COLUMNS, RosterFormatError
from indexer.validate import LIST_SEPARATOR, ROSTER_COLUMNS

CANONICAL_COLUMNS = ROSTER_COLUMNS
PLAN_COLUMNS = (
    "plan",
    "plan_name",
    "line_of_business",
    "plan_provider_id",
    "accepting_new_patients",
    "panel_capacity",
    "panel_members",
)
LIST_COLUMNS = (
    "taxonomy_codes",
    "languages",
    "staff_languages",
    "board_certifications",
    "hospital_affiliations",
    "accessibility",
)
DATE_COLUMNS = ("last_updated", "last_verified")


class LayoutError(ValueError):
    """The layout file is wrong, or the roster does not have the columns it declares."""


canonical = validate.OneOf(CANONICAL_COLUMNS, error="not a roster column: {input}")


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
    columns = fields.Dict(
        keys=fields.String(), values=fields.String(validate=canonical), required=True
    )
    values = fields.Dict(
        keys=fields.String(validate=canonical),
        values=fields.Dict(keys=fields.String(), values=fields.String()),
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
        provided = set(data["columns"].values()) | set(data.get("defaults", {}))
        for group in data.get("plans", []):
            provided |= set(group.get("columns", {}).values()) | set(group.get("defaults", {}))
        missing = [c for c in REQUIRED_COLUMNS if c not in provided]
        if missing:
            raise ValidationError(f"nothing fills required column(s): {', '.join(missing)}")
        for group in data.get("plans", []):
            if not set(group.get("columns", {}).values()) & {"plan_provider_id"}:
                raise ValidationError("each plan group needs a plan_provider_id column", "plans")
        named = set(data["columns"]) | {
            c for group in data.get("plans", []) for c in group.get("columns", {})
        }
        strays = [c for c in data.get("optional", []) if c not in named]
        if strays:
            raise ValidationError(f"optional names no column of this layout: {strays}", "optional")


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    columns: dict[str, str]
    values: dict[str, dict[str, str]]
    split: dict[str, str]
    dates: dict[str, str]
    defaults: dict[str, str]
    plans: tuple[dict, ...]
    optional: frozenset[str] = frozenset()

    @property
    def source_columns(self) -> list[str]:
        names = list(self.columns)
        for group in self.plans:
            names.extend(group.get("columns", {}))
        return names

    def check_header(self, header: Iterable[str]) -> None:
        """Refuse a roster that lacks a column this layout names, before reading any row."""
        present = {h.strip() for h in header}
        missing = [c for c in self.source_columns if c not in present and c not in self.optional]
        if missing:
            raise LayoutError(
                f"layout {self.name!r} expects column(s) missing from the file: "
                + ", ".join(repr(c) for c in missing)
                + f"; the file has: {', '.join(sorted(present))}"
            )

    def source_name(self, canonical_column: str) -> str:
        """The roster's own name for a canonical column, for error reports."""
        for source, target in self.columns.items():
            if target == canonical_column:
                return source
        for group in self.plans:
            for source, target in group.get("columns", {}).items():
                if target == canonical_column:
                    return source
        return canonical_column

    def _convert(self, column: str, value: str) -> str:
        value = value.strip()
        mapped = self.values.get(column, {})
        if column in LIST_COLUMNS:
            separator = self.split.get(column, LIST_SEPARATOR)
            parts = [p.strip() for p in value.split(separator) if p.strip()]
            return LIST_SEPARATOR.join(mapped.get(p, p) for p in parts)
        if value in mapped:
            value = mapped[value]
        if column in self.dates and value:
            # A value that does not parse is left as it is; validation reports it by column.
            with contextlib.suppress(ValueError):
                value = datetime.strptime(value, self.dates[column]).date().isoformat()
        return value

    def translate(
        self, rows: Iterable[tuple[int, dict[str, str]]]
    ) -> Iterator[tuple[int, dict[str, str]]]:
        """Source rows -> rows in the project's own layout (several per row for plan columns)."""
        for line, raw in rows:
            base = dict(self.defaults)
            # Delta rosters carry these two beside the layout's own columns.
            for passthrough in ("action", "termination_date"):
                if passthrough in raw:
                    base[passthrough] = raw[passthrough].strip()
            for source, target in self.columns.items():
                value = self._convert(target, raw.get(source, ""))
                if value or target not in base:
                    base[target] = value
            if not self.plans:
                yield line, base
                continue
            for group in self.plans:
                row = {**base, **group.get("defaults", {})}
                for source, target in group["columns"].items():
                    row[target] = self._convert(target, raw.get(source, ""))
                if row.get("plan_provider_id"):
                    yield line, row


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
    try:
        data = LayoutSchema().load(raw)
    except ValidationError as exc:
        raise LayoutError(f"layout {path} is invalid: {exc.normalized_messages()}") from exc
    return Layout(
        name=data["name"],
        description=data["description"],
        columns=data["columns"],
        values=data["values"],
        split=data["split"],
        dates=data["dates"],
        defaults=data["defaults"],
        plans=tuple(data["plans"]),
        optional=frozenset(data["optional"]),
    )


def read_with_layout(path: str | Path, layout: Layout) -> Iterator[tuple[int, dict[str, str]]]:
    """Read a roster CSV in a declared layout as rows of the project's own layout.

    The header is checked against the layout here, before any row is read.
    """
    fh = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed by the generator
    reader = csv.DictReader(fh)
    try:
        if reader.fieldnames is None:
            raise RosterFormatError("the file is empty: expected a header row")
        layout.check_header(reader.fieldnames)
    except BaseException:
        fh.close()
        raise
    reader.fieldnames = [name.strip() for name in reader.fieldnames]

    def raw_rows() -> Iterator[tuple[int, dict[str, str]]]:
        with fh:
            for row in reader:
                values = {k: (v or "") for k, v in row.items() if k is not None}
                if any(v.strip() for v in values.values()):
                    yield reader.line_num, values

    return layout.translate(raw_rows())
