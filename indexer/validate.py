"""Roster row -> canonical record, or the reasons it cannot be one (marshmallow)."""

import re
from collections.abc import Iterable, Iterator

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from indexer import languages
from indexer.npi import is_valid_npi
from indexer.records import RowError
from indexer.specialties import lookup as lookup_specialty

ENTITY_TYPES = ("practitioner", "urgent_care", "lab", "pharmacy", "hospital")
LINES_OF_BUSINESS = ("commercial", "medi-cal", "medicare-advantage", "covered-california")
ACCEPTING = ("accepting", "not_accepting", "existing_only", "existing_family")
ACCESSIBILITY = (
    "ada-access",
    "accessible-parking",
    "accessible-exam-room",
    "public-transit",
    "tty",
    "cultural-competence",
)
# FHIR Plan-Net `newpatients` codes and common roster spellings.
ACCEPTING_ALIASES = {
    "newpt": "accepting",
    "nopt": "not_accepting",
    "existptonly": "existing_only",
    "existptfam": "existing_family",
    "y": "accepting",
    "yes": "accepting",
    "open": "accepting",
    "n": "not_accepting",
    "no": "not_accepting",
    "closed": "not_accepting",
}
GENDER_ALIASES = {"f": "female", "m": "male", "x": "nonbinary", "u": ""}
TRUTHY = {
    "y": True,
    "yes": True,
    "true": True,
    "1": True,
    "n": False,
    "no": False,
    "false": False,
    "0": False,
}
PLAN_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ZIP = re.compile(r"^\d{5}(-\d{4})?$")
LIST_SEPARATOR = "|"


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


class Npi(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text.isdigit() or len(text) != 10:
            raise ValidationError("an NPI is exactly 10 digits")
        if not is_valid_npi(text):
            raise ValidationError("NPI check digit is wrong (Luhn with prefix 80840)")
        return text


class TaxonomyCodes(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        codes = split_list(super()._deserialize(value, attr, data, **kwargs).upper())
        if not codes:
            raise ValidationError("at least one NUCC taxonomy code is required")
        unknown = [c for c in codes if lookup_specialty(c) is None]
        if unknown:
            raise ValidationError(f"unknown NUCC taxonomy code(s): {', '.join(unknown)}")
        return list(dict.fromkeys(codes))


class Languages(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        codes = []
        for part in split_list(super()._deserialize(value, attr, data, **kwargs)):
            code = languages.to_code(part)
            if code is None:
                raise ValidationError(f"unknown language: {part!r}")
            codes.append(code)
        return list(dict.fromkeys(codes))


class PipeList(fields.String):
    def __init__(self, choices: Iterable[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices) if choices else None

    def _deserialize(self, value, attr, data, **kwargs):
        items = split_list(super()._deserialize(value, attr, data, **kwargs))
        if self.choices is not None:
            items = [i.lower() for i in items]
            bad = [i for i in items if i not in self.choices]
            if bad:
                raise ValidationError(
                    f"unknown value(s) {', '.join(bad)}; expected {', '.join(self.choices)}"
                )
        return list(dict.fromkeys(items))


class Flag(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if text not in TRUTHY:
            raise ValidationError("expected Y or N")
        return TRUTHY[text]


class Coded(fields.String):
    """A code from a fixed list, with accepted aliases, case-insensitive."""

    def __init__(self, choices: Iterable[str], aliases: dict[str, str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices)
        self.aliases = aliases or {}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        text = self.aliases.get(text, text).replace(" ", "_")
        if text not in self.choices:
            raise ValidationError(f"expected one of {', '.join(self.choices)}")
        return text


class Phone(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        digits = re.sub(r"\D", "", super()._deserialize(value, attr, data, **kwargs))
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) != 10:
            raise ValidationError("a US phone number has 10 digits")
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def _blank_to_none(data: dict) -> dict:
    return {k: v for k, v in data.items() if v not in ("", None)}


class RosterRowSchema(Schema):
    """One row of the project's roster layout (see docs/roster-format.md)."""

    class Meta:
        unknown = EXCLUDE

    npi = Npi(required=True)
    entity_type = Coded(ENTITY_TYPES, load_default="practitioner")
    first_name = fields.String(validate=validate.Length(max=80))
    middle_name = fields.String(validate=validate.Length(max=80))
    last_name = fields.String(validate=validate.Length(max=80))
    organization_name = fields.String(validate=validate.Length(max=200))
    credentials = fields.String(validate=validate.Length(max=40))
    gender = Coded(("female", "male", "nonbinary", ""), GENDER_ALIASES)
    taxonomy_codes = TaxonomyCodes(required=True)
    age_min = fields.Integer(validate=validate.Range(0, 120), strict=False)
    age_max = fields.Integer(validate=validate.Range(0, 120), strict=False)
    languages = Languages(load_default=list)
    staff_languages = Languages(load_default=list)
    board_certifications = PipeList(load_default=list)
    hospital_affiliations = PipeList(load_default=list)
    medical_group = fields.String(validate=validate.Length(max=200))
    license = fields.String(validate=validate.Length(max=40))
    location_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    location_name = fields.String(validate=validate.Length(max=200))
    address = fields.String(validate=validate.Length(max=200))
    city = fields.String(validate=validate.Length(max=80))
    state = fields.String(load_default="CA", validate=validate.Regexp(r"^[A-Za-z]{2}$"))
    zip = fields.String(
        required=True, validate=validate.Regexp(ZIP, error="expected a 5-digit ZIP or ZIP+4")
    )
    phone = Phone()
    hours = fields.String(validate=validate.Length(max=200))
    accessibility = PipeList(choices=ACCESSIBILITY, load_default=list)
    telehealth = Flag(load_default=False)
    latitude = fields.Float(validate=validate.Range(-90, 90))
    longitude = fields.Float(validate=validate.Range(-180, 180))
    plan = fields.String(
        required=True,
        validate=validate.Regexp(
            PLAN_CODE,
            error="a plan code is lowercase letters, digits and '-' (e.g. sunrise-medi-cal)",
        ),
    )
    plan_name = fields.String(validate=validate.Length(max=200))
    line_of_business = Coded(LINES_OF_BUSINESS, required=True)
    plan_provider_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    accepting_new_patients = Coded(ACCEPTING, ACCEPTING_ALIASES, required=True)
    panel_capacity = fields.Integer(validate=validate.Range(min=0), strict=False)
    panel_members = fields.Integer(validate=validate.Range(min=0), strict=False)
    last_updated = fields.Date()
    last_verified = fields.Date()

    @pre_load
    def drop_blanks(self, data, **kwargs):
        return _blank_to_none(data)

    @validates_schema
    def check_row(self, data, **kwargs):
        if data.get("entity_type", "practitioner") == "practitioner":
            for name in ("first_name", "last_name"):
                if not data.get(name):
                    raise ValidationError("required for a practitioner", name)
        elif not data.get("organization_name"):
            raise ValidationError("required for a facility", "organization_name")
        if ("latitude" in data) != ("longitude" in data):
            missing = "longitude" if "latitude" in data else "latitude"
            raise ValidationError("latitude and longitude come together", missing)
        low, high = data.get("age_min"), data.get("age_max")
        if low is not None and high is not None and low > high:
            raise ValidationError(f"age_min {low} is above age_max {high}", "age_min")

    @post_load
    def to_record(self, data, **kwargs):
        for name in ("last_updated", "last_verified"):
            if data.get(name) is not None:
                data[name] = data[name].isoformat()
        data["zip"] = data["zip"][:5]
        data["state"] = data["state"].upper()
        return data


_schema = RosterRowSchema()
# The roster layout's columns, in the order the README documents them.
ROSTER_COLUMNS = tuple(RosterRowSchema._declared_fields)


def validate_rows(
    rows: Iterable[tuple[int, dict[str, str] | list[RowError]]],
) -> Iterator[tuple[int, dict | None, list[RowError]]]:
    """Yield (line, record or None, errors) for each raw row.

    A reader may hand over a list of RowError instead of a row, for a row it could not assemble.
    """
    for line, raw in rows:
        if isinstance(raw, list):
            yield line, None, raw
            continue
        try:
            record = _schema.load(raw)
        except ValidationError as exc:
            yield line, None, list(_row_errors(line, raw, exc.normalized_messages()))
            continue
        record["line"] = line
        yield line, record, []


def _row_errors(line: int, raw: dict[str, str], messages: dict) -> Iterator[RowError]:
    for name, reasons in sorted(messages.items()):
        if isinstance(reasons, dict):
            reasons = [m for ms in reasons.values() for m in ms]
        for reason in reasons:
            yield RowError(line=line, field=name, value=raw.get(name, ""), reason=reason)
