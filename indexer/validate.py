"""Roster row -> canonical record, or the reasons it cannot be one (marshmallow).

Only the key decides whether a row is in: a valid NPI, a name, and a practice address that can be
placed on the map (a ZIP code we know, or coordinates). A bad value anywhere else is a *warning*:
the row goes in without that value, and the warning is reported like an error (line, column,
value, reason) with severity `warning`.
"""

from collections.abc import Iterable, Iterator
from functools import lru_cache

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    missing,
    post_load,
    pre_load,
    validate,
)

from app.vocab import languages, nucc
from app.vocab.addresses import place_key
from app.vocab.codes import (
    ACCEPTING,
    ACCEPTING_ALIASES,
    ACCESSIBILITY,
    ENTITY_TYPES,
    GENDER_ALIASES,
    LINES_OF_BUSINESS,
    PLAN_CODE,
    split_list,
)
from app.vocab.fields import Coded, Flag, Npi, PipeList
from app.vocab.phones import PhoneError, parse_phone
from app.vocab.zips import parse_zip
from indexer.records import ERROR, WARNING, RowError, Skipped

# Values whose problems keep a row out; every other column's problems are warnings.
KEY_FIELDS = frozenset({"npi", "first_name", "last_name", "organization_name", "zip"})
PLAN_FIELDS = (
    "plan",
    "plan_name",
    "line_of_business",
    "plan_provider_id",
    "accepting_new_patients",
    "panel_capacity",
    "panel_members",
)
MAX_CODE_LENGTH = 40


class RosterRowSchema(Schema):
    """One row of the project's roster layout (see the README, "Roster format")."""

    class Meta:
        unknown = EXCLUDE

    npi = Npi(required=True)
    entity_type = Coded(ENTITY_TYPES)
    first_name = fields.String(validate=validate.Length(max=80))
    middle_name = fields.String(validate=validate.Length(max=80))
    last_name = fields.String(validate=validate.Length(max=80))
    organization_name = fields.String(validate=validate.Length(max=200))
    credentials = fields.String(validate=validate.Length(max=40))
    gender = Coded(("female", "male", "nonbinary", ""), GENDER_ALIASES)
    taxonomy_codes = PipeList(load_default=list)
    age_min = fields.Integer(validate=validate.Range(0, 120), strict=False)
    age_max = fields.Integer(validate=validate.Range(0, 120), strict=False)
    languages = PipeList(load_default=list)
    staff_languages = PipeList(load_default=list)
    board_certifications = PipeList(load_default=list)
    hospital_affiliations = PipeList(load_default=list)
    medical_group = fields.String(validate=validate.Length(max=200))
    license = fields.String(validate=validate.Length(max=40))
    location_id = fields.String(validate=validate.Length(min=1, max=80))
    location_name = fields.String(validate=validate.Length(max=200))
    address = fields.String(validate=validate.Length(max=200))
    city = fields.String(validate=validate.Length(max=80))
    state = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$", error="a 2-letter state"))
    zip = fields.String()
    phone = fields.String()
    phone_extension = fields.String(
        validate=validate.Regexp(r"^\d{1,8}$", error="an extension is 1 to 8 digits")
    )
    hours = fields.String(validate=validate.Length(max=200))
    accessibility = PipeList(choices=ACCESSIBILITY, load_default=list)
    telehealth = Flag(load_default=False)
    latitude = fields.Float(validate=validate.Range(-90, 90))
    longitude = fields.Float(validate=validate.Range(-180, 180))
    plan = fields.String(
        validate=validate.Regexp(
            PLAN_CODE,
            error="a plan code is lowercase letters, digits and '-' (e.g. sunrise-medi-cal)",
        ),
    )
    plan_name = fields.String(validate=validate.Length(max=200))
    line_of_business = Coded(LINES_OF_BUSINESS)
    plan_provider_id = fields.String(validate=validate.Length(min=1, max=64))
    accepting_new_patients = Coded(ACCEPTING, ACCEPTING_ALIASES)
    panel_capacity = fields.Integer(validate=validate.Range(min=0), strict=False)
    panel_members = fields.Integer(validate=validate.Range(min=0), strict=False)
    last_updated = fields.Date()
    last_verified = fields.Date()

    @pre_load
    def drop_blanks(self, data, **kwargs):
        return {k: v for k, v in data.items() if v not in ("", None)}

    @post_load
    def to_record(self, data, **kwargs):
        return _to_record(data)


def _to_record(data: dict) -> dict:
    """The checks across values, on the values each column gave."""
    notes: list[tuple[str, str, str, str]] = []  # (severity, field, value, reason)
    for name in ("last_updated", "last_verified"):
        if data.get(name) is not None:
            data[name] = data[name].isoformat()
    _check_codes(data, notes)
    _check_languages(data, notes)
    _check_name(data, notes)
    _check_place(data, notes)
    _check_phone(data, notes)
    _check_ages(data, notes)
    _check_plan(data, notes)
    data["_notes"] = notes
    return data


def _check_codes(data: dict, notes: list) -> None:
    kept, found = _codes(tuple(data["taxonomy_codes"]))
    data["taxonomy_codes"] = list(kept)
    notes.extend(found)


@lru_cache(maxsize=16384)  # the rows of one provider repeat its codes
def _codes(written: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple, ...]]:
    codes = list(dict.fromkeys(c.upper() for c in written))
    if not codes:
        return (), (
            (WARNING, "taxonomy_codes", "", "no taxonomy code; listed without a specialty"),
        )
    kept, notes = [], []
    for code in codes:
        if len(code) > MAX_CODE_LENGTH:
            notes.append((WARNING, "taxonomy_codes", code, "not a taxonomy code; left out"))
            continue
        if nucc.lookup(code) is None:
            reason = (
                f"not a NUCC taxonomy code; kept as written, shown as 'Unknown specialty {code}'"
            )
            notes.append((WARNING, "taxonomy_codes", code, reason))
        kept.append(code)
    return tuple(kept), tuple(notes)


def _check_languages(data: dict, notes: list) -> None:
    for name in ("languages", "staff_languages"):
        tags, found = _tags(name, tuple(data[name]))
        data[name] = list(tags)
        notes.extend(found)


@lru_cache(maxsize=16384)
def _tags(name: str, written: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple, ...]]:
    tags, notes = [], []
    for text in written:
        tag = languages.to_tag(text)
        if tag is None:
            notes.append((WARNING, name, text, "unknown language; left out"))
        else:
            tags.append(tag)
    return tuple(dict.fromkeys(tags)), tuple(notes)


def _check_name(data: dict, notes: list) -> None:
    """Settle the kind of listing, then the name it needs."""
    if not data.get("entity_type"):
        data["entity_type"] = _derived_entity_type(data)
    if data["entity_type"] == "practitioner":
        if not data.get("last_name"):
            notes.append((ERROR, "last_name", "", "a practitioner needs a last name"))
        elif not data.get("first_name"):
            notes.append((WARNING, "first_name", "", "no first name; listed by last name"))
    elif not data.get("organization_name"):
        notes.append(
            (ERROR, "organization_name", "", f"a {data['entity_type']} needs an organization name")
        )


def _derived_entity_type(data: dict) -> str:
    """The kind of listing from the name the row has and its first known taxonomy code."""
    known = [nucc.lookup(c) for c in data["taxonomy_codes"]]
    kind = next((s.entity_type for s in known if s is not None), None)
    if data.get("last_name") and not data.get("organization_name"):
        return "practitioner"
    if data.get("organization_name") and not data.get("last_name"):
        # An organisation NPI with a practitioner's code is a group practice.
        return "clinic" if kind in (None, "practitioner") else kind
    return kind or "practitioner"


def _check_place(data: dict, notes: list) -> None:
    """A ZIP code in any real-file shape, or coordinates: one of them must place the row."""
    has_coordinates = "latitude" in data and "longitude" in data
    if ("latitude" in data) != ("longitude" in data):
        missing = "longitude" if "latitude" in data else "latitude"
        notes.append((WARNING, missing, "", "latitude and longitude come together; both left out"))
        data.pop("latitude", None)
        data.pop("longitude", None)
        has_coordinates = False
    written = data.get("zip", "")
    parsed = parse_zip(written)
    if parsed is None:
        severity = WARNING if has_coordinates else ERROR
        reason = (
            "not a ZIP code (expected 5 digits or ZIP+4)"
            if written
            else "a practice address needs a ZIP code or coordinates"
        )
        notes.append((severity, "zip", written, reason))
        data["zip"], data["zip4"] = "", None
    else:
        data["zip"], data["zip4"] = parsed.five, parsed.plus4
        if parsed.padded:
            data["zip_padded"] = True
    if data.get("state"):
        data["state"] = data["state"].upper()
    if not data.get("location_id"):
        # Sources without location ids (NPPES, CMS) name a place by its address.
        street = data.get("address", "")
        data["location_id"] = (
            f"addr-{place_key(street, data['zip'])}" if street else f"zip-{data['zip']}"
        )
    data["place"] = place_key(data["address"], data["zip"]) if data.get("address") else None


def _check_phone(data: dict, notes: list) -> None:
    written = data.pop("phone", None)
    if written is None:
        return
    try:
        phone = parse_phone(written)
    except PhoneError as exc:
        notes.append((WARNING, "phone", written, f"{exc}; left out"))
        return
    data["phone"] = phone.number
    if phone.extension and not data.get("phone_extension"):
        data["phone_extension"] = phone.extension


def _check_ages(data: dict, notes: list) -> None:
    low, high = data.get("age_min"), data.get("age_max")
    if low is not None and high is not None and low > high:
        notes.append((WARNING, "age_min", str(low), f"above age_max {high}; ages left out"))
        del data["age_min"], data["age_max"]


def _check_plan(data: dict, notes: list) -> None:
    """A plan entry needs its plan code and line of business; without a plan, the row lists the
    provider at the location with no plan."""
    if "plan" not in data:
        if data.get("plan_provider_id"):
            reason = (
                f"no plan code: the plan entry (provider ID {data['plan_provider_id']}) is left out"
            )
            notes.append((WARNING, "plan", "", reason))
        for name in PLAN_FIELDS:
            data.pop(name, None)
        data["plan"] = None
        return
    if "line_of_business" not in data:
        notes.append(
            (
                WARNING,
                "line_of_business",
                "",
                f"plan {data['plan']} has no line of business; the plan is left out",
            )
        )
        for name in PLAN_FIELDS:
            data.pop(name, None)
        data["plan"] = None
        return
    data.setdefault("accepting_new_patients", "unknown")
    if not data.get("plan_provider_id"):
        notes.append((WARNING, "plan_provider_id", "", f"no provider ID for plan {data['plan']}"))
        data["plan_provider_id"] = None


# The roster layout's columns, in the order the README documents them.
ROSTER_COLUMNS = tuple(RosterRowSchema._declared_fields)


class _Column:
    """One roster column's field, its loads remembered by value.

    A roster repeats a provider's values on each of its rows, a location's on each plan there and
    a plan's on each of its providers, so most values have been loaded before: the outcome is
    looked up instead of loaded again. Fields are independent of each other (the checks across
    columns run afterwards, on every row), so this is exactly what loading the whole row gives.
    """

    KEPT = 20_000  # outcomes remembered; the rows of one provider or place come together

    def __init__(self, name: str, field: fields.Field):
        self.name = name
        self.field = field
        self.outcomes: dict = {}

    def load(self, value):
        """(value loaded or `missing`, None) or (`missing`, the field's messages)."""
        # Text is the rule; a spreadsheet's 1 and 1.0 and True are equal keys but not one value.
        key = value if type(value) is str else (type(value), value)
        try:
            outcome = self.outcomes.get(key)
        except TypeError:  # a reader handed over something unhashable: load it every time
            return self._load(value)
        if outcome is None:
            if len(self.outcomes) >= self.KEPT:
                self.outcomes.clear()
            outcome = self.outcomes[key] = self._load(value)
        loaded, messages = outcome
        # The caller changes its record: each row gets lists of its own.
        return (list(loaded) if isinstance(loaded, list) else loaded), messages

    def _load(self, value):
        given = missing if value in ("", None) else value  # a blank cell is no value
        try:
            return self.field.deserialize(given, self.name), None
        except ValidationError as exc:
            # A bad value is left out: the column then holds what a row without it would.
            default = self.field.load_default
            return (default() if callable(default) else default), exc.messages


# Fields bound to a schema, as a whole-row load uses them.
_COLUMNS = tuple(_Column(name, field) for name, field in RosterRowSchema().load_fields.items())

Row = dict[str, str] | list[RowError] | Skipped


def validate_rows(
    rows: Iterable[tuple[int, Row]],
) -> Iterator[tuple[int, dict | None, list[RowError]]]:
    """Yield (line, record or None, problems) for each raw row.

    A record comes with the warnings about values it went in without; None comes with at least
    one error. A reader may hand over a list of RowError instead of a row, for a row it could not
    assemble; a Skipped row is passed over here (the caller counts it).
    """
    for line, raw in rows:
        if isinstance(raw, Skipped):
            continue
        if isinstance(raw, list):
            yield line, None, raw
            continue
        record, problems = load_row(line, raw)
        if record is not None:
            record["line"] = line
        yield line, record, problems


def load_row(line: int, raw: dict[str, str]) -> tuple[dict | None, list[RowError]]:
    """One row -> (record, warnings) or (None, problems with at least one error)."""
    problems: list[RowError] = []
    data: dict = {}
    messages: dict = {}
    for column in _COLUMNS:
        loaded, failed = column.load(raw.get(column.name))
        if loaded is not missing:
            data[column.name] = loaded
        if failed is not None:
            messages[column.name] = failed
    if messages:
        for name in sorted(messages):
            severity = ERROR if name in KEY_FIELDS else WARNING
            problems.extend(_problems(line, raw, name, messages[name], severity))
        if any(name in KEY_FIELDS for name in messages):
            return None, problems
        if {"latitude", "longitude"} & set(messages):
            # They come together or not at all.
            data.pop("latitude", None)
            data.pop("longitude", None)
    record = _to_record(data)
    notes = record.pop("_notes")
    consequences = {name: reason for _, name, _, reason in notes}
    # A value left out in the first pass says so once, with what followed from it.
    problems = [
        RowError(
            p.line,
            p.field,
            p.value,
            f"{p.reason}; {consequences.get(p.field, 'left out')}",
            p.severity,
        )
        for p in problems
    ]
    for severity, name, value, reason in notes:
        if not any(p.field == name for p in problems):
            problems.append(RowError(line, name, value, reason, severity))
    if any(p.severity == ERROR for p in problems):
        return None, problems
    return record, problems


def _problems(line: int, raw: dict, name: str, reasons, severity: str) -> Iterator[RowError]:
    if isinstance(reasons, dict):
        reasons = [m for ms in reasons.values() for m in ms]
    for reason in reasons:
        yield RowError(line, name, str(raw.get(name, "")), reason, severity)


__all__ = ["ROSTER_COLUMNS", "RosterRowSchema", "load_row", "split_list", "validate_rows"]
