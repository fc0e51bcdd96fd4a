"""A member to match: validated from a JSON body or a CSV row, home placed on the map.

Member data (home, age, language…) is protected health information next door: nothing here logs it,
and error messages name the field, never echo the value.
"""

from dataclasses import dataclass, field

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from app.search.arguments import Matches
from app.vocab import languages
from app.vocab.codes import ACCESSIBILITY, LINES_OF_BUSINESS, PLAN_CODE
from app.vocab.npi import is_valid_npi
from app.vocab.places import NEAR_PATTERN, parse_near
from indexer.geocode import Locate

SEXES = ("female", "male", "other")
GENDERS = ("female", "male")
MAX_CHOICES = 50
MAX_DISTANCE_MILES = 100.0


@dataclass(frozen=True)
class FamilyPCP:
    npi: str
    relation: str = "family member"


@dataclass(frozen=True)
class Member:
    plan: str
    line_of_business: str
    age: int
    lat: float
    lon: float
    member_id: str | None = None
    sex: str | None = None
    languages: tuple[str, ...] = ()
    gender_preference: str | None = None
    accessibility: tuple[str, ...] = ()
    telehealth: bool = False
    max_distance: float | None = None
    current_pcp: str | None = None
    previous_pcps: tuple[str, ...] = ()
    family_pcps: tuple[FamilyPCP, ...] = field(default=())

    def profile(self) -> tuple:
        """Everything that decides this member's candidates and costs (not the member ID)."""
        return (
            self.plan,
            self.line_of_business,
            self.age,
            round(self.lat, 6),
            round(self.lon, 6),
            self.sex,
            self.languages,
            self.gender_preference,
            self.accessibility,
            self.telehealth,
            self.max_distance,
            self.current_pcp,
            self.previous_pcps,
            self.family_pcps,
        )

    def known_patient_of(self, npi: str) -> bool:
        return npi == self.current_pcp or npi in self.previous_pcps

    def family_of_patient_of(self, npi: str) -> bool:
        return any(f.npi == npi for f in self.family_pcps)


class NPI(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        if not is_valid_npi(value):
            raise ValidationError("not a valid NPI (10 digits with a valid check digit)")
        return value


class Language(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        code = languages.to_tag(super()._deserialize(value, attr, data, **kwargs))
        if code is None:
            raise ValidationError("unknown language; use a language tag such as es or yue")
        return code


class JsonBoolean(fields.Boolean):
    """JSON's true or false, nothing else (0 and 1 are numbers, not answers)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class JsonInteger(fields.Integer):
    """A JSON number without a fractional part (JSON Schema's integer: 7 and 7.0 alike)."""

    def _deserialize(self, value, attr, data, **kwargs):
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            raise self.make_error("invalid", input=value)
        return super()._deserialize(int(value), attr, data, **kwargs)


class FamilyPCPSchema(Schema):
    class Meta:
        unknown = RAISE

    npi = NPI(required=True)
    relation = fields.String(
        load_default="family member",
        validate=validate.Length(1, 40),
        metadata={"examples": ["daughter"]},
    )

    @post_load
    def make(self, data, **kwargs) -> FamilyPCP:
        return FamilyPCP(**data)


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error="expected one of {choices}")


class MemberSchema(Schema):
    """One member, as a JSON object. `home` is a ZIP code or `lat,lon`; `address` needs a
    configured street geocoder and falls back to `home` when it finds nothing."""

    class Meta:
        unknown = RAISE

    member_id = fields.String(
        validate=validate.Length(1, 64),
        metadata={
            "description": "Your reference for the member; echoed nowhere but the batch output."
        },
    )
    home = fields.String(
        validate=[
            validate.Length(1, 60),
            Matches(NEAR_PATTERN, error="a 5-digit ZIP code or lat,lon"),
        ],
        metadata={
            "description": "Home as a 5-digit ZIP code (its centroid) or `lat,lon`.",
            "format": "place",
        },
    )
    address = fields.String(
        validate=validate.Length(1, 200),
        metadata={
            "description": "Street address; needs PD_GEOCODER. Falls back to `home` when not "
            "found; without a geocoder `home` is needed and the address is not read."
        },
    )
    plan = fields.String(
        required=True,
        validate=Matches(PLAN_CODE, error="not a plan code"),
        metadata={"description": "Plan code, e.g. `sunrise-medi-cal`."},
    )
    line_of_business = fields.String(required=True, validate=_one_of(LINES_OF_BUSINESS))
    age = JsonInteger(required=True, validate=validate.Range(0, 120))
    sex = fields.String(validate=_one_of(SEXES), metadata={"description": "Decides OB/GYN as PCP."})
    languages = fields.List(
        Language(),
        validate=validate.Length(max=10),
        metadata={"description": "Preferred languages: language tags or English or Spanish names."},
    )
    gender_preference = fields.String(validate=_one_of(GENDERS))
    accessibility = fields.List(fields.String(validate=_one_of(ACCESSIBILITY)))
    # A member file's Y/N is read as true or false before it gets here.
    telehealth = JsonBoolean(
        load_default=False,
        metadata={
            "description": "Telehealth visits are acceptable (a plus for locations offering them)."
        },
    )
    max_distance = fields.Float(
        allow_nan=False,
        validate=validate.Range(0, MAX_DISTANCE_MILES, min_inclusive=False),
        metadata={
            "description": "Miles; default: the access standard of the line of business "
            "(Medi-Cal 10)."
        },
    )
    current_pcp = NPI(
        metadata={
            "description": "NPI of the current PCP (continuity; opens existing-patients-only "
            "panels)."
        }
    )
    previous_pcps = fields.List(NPI(), validate=validate.Length(max=10))
    family_pcps = fields.List(fields.Nested(FamilyPCPSchema), validate=validate.Length(max=20))

    def __init__(self, locate: Locate | None = None, **kwargs):
        super().__init__(**kwargs)
        self.locate = locate

    @validates_schema
    def check_home(self, data, **kwargs):
        if "home" not in data and "address" not in data:
            raise ValidationError("give home (a ZIP code or lat,lon) or address", "home")
        if "address" in data and self.locate is None and "home" not in data:
            raise ValidationError(
                "no street geocoder is configured; give home as a ZIP code or lat,lon", "address"
            )

    @post_load
    def make(self, data, **kwargs) -> Member:
        lat_lon = None
        if "address" in data and self.locate is not None:
            lat_lon = self.locate(data["address"])
        if lat_lon is None:
            if "home" not in data:
                raise ValidationError("the address could not be placed on the map", "address")
            lat_lon = parse_home(data["home"])
        return Member(
            member_id=data.get("member_id"),
            plan=data["plan"],
            line_of_business=data["line_of_business"],
            age=data["age"],
            lat=lat_lon[0],
            lon=lat_lon[1],
            sex=data.get("sex"),
            languages=tuple(dict.fromkeys(data.get("languages", ()))),
            gender_preference=data.get("gender_preference"),
            accessibility=tuple(sorted(set(data.get("accessibility", ())))),
            telehealth=data["telehealth"],
            max_distance=data.get("max_distance"),
            current_pcp=data.get("current_pcp"),
            previous_pcps=tuple(dict.fromkeys(data.get("previous_pcps", ()))),
            family_pcps=tuple(data.get("family_pcps", ())),
        )


class MatchRequestSchema(MemberSchema):
    """POST /v1/match: one member plus how many choices to return."""

    choices = JsonInteger(load_default=5, validate=validate.Range(1, MAX_CHOICES))

    @post_load
    def make(self, data, **kwargs):
        choices = data.pop("choices")
        return super().make(data, **kwargs), choices


CSV_LISTS = ("languages", "accessibility", "previous_pcps")
CSV_COLUMNS = (
    "member_id",
    "home",
    "address",
    "plan",
    "line_of_business",
    "age",
    "sex",
    "languages",
    "gender_preference",
    "accessibility",
    "telehealth",
    "max_distance",
    "current_pcp",
    "previous_pcps",
    "family_pcps",
)


class MemberRowSchema(MemberSchema):
    """One member as a CSV row: lists split on `|` or `;`, family PCPs as `npi:relation|…`,
    empty cells absent. Columns other than CSV_COLUMNS are ignored."""

    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True, validate=validate.Length(1, 64))
    # A cell is text: its age is read as a number.
    age = fields.Integer(required=True, strict=False, validate=validate.Range(0, 120))

    @pre_load
    def from_cells(self, row, **kwargs):
        data = {}
        for name, raw in row.items():
            if name not in CSV_COLUMNS or raw is None or not str(raw).strip():
                continue
            value = str(raw).strip()
            if name in CSV_LISTS:
                data[name] = [p.strip() for p in value.replace(";", "|").split("|") if p.strip()]
            elif name == "family_pcps":
                data[name] = [_family_cell(p) for p in value.split("|") if p.strip()]
            elif name == "telehealth":
                data[name] = value.lower() in ("y", "yes", "true", "1")
            else:
                data[name] = value
        return data


def _family_cell(cell: str) -> dict:
    npi, _, relation = cell.strip().partition(":")
    return {"npi": npi.strip(), "relation": relation.strip() or "family member"}


def parse_home(value: str) -> tuple[float, float]:
    """A ZIP code (its centroid) or 'lat,lon' -> (lat, lon). The error names the field only: a
    member's ZIP is not echoed back."""
    try:
        return parse_near(value, "home")
    except ValidationError as exc:
        raise ValidationError("not a known ZIP code or a valid lat,lon", "home") from exc
