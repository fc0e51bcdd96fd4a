"""Query-string arguments of GET /v1/providers -> SearchQuery (marshmallow, unknown=RAISE)."""

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)
from werkzeug.datastructures import MultiDict

from app.search import cursor
from app.search.query import FACETS, SORTS, GeoFilter, SearchQuery
from app.search.reader import Reading, read_query
from app.vocab import languages, text
from app.vocab.codes import (
    ACCEPTING,
    ACCEPTING_ALIASES,
    ACCESSIBILITY,
    ENTITY_TYPES,
    LINES_OF_BUSINESS,
    PLAN_CODE,
)
from app.vocab.npi import NPI_PATTERN
from app.vocab.nucc import specialties
from app.vocab.places import parse_near
from app.vocab.zips import ZIP5

# Search parameters a query can be read into.
READ_PARAMETERS = (
    "specialty",
    "language",
    "gender",
    "type",
    "pcp",
    "accepting_new_patients",
    "telehealth",
    "line_of_business",
    "near",
)
MAX_QUERY_LENGTH = 200
MAX_VALUES = 20
MAX_RADIUS_MILES = 100.0
DEFAULT_RADIUS_MILES = 10.0


class Multi(fields.List):
    """A list parameter given repeated (`language=es&language=zh`) or comma-separated."""

    def __init__(self, inner: fields.Field, **kwargs):
        super().__init__(inner, validate=validate.Length(max=MAX_VALUES), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        parts = [p.strip() for v in value for p in str(v).split(",") if p.strip()]
        return list(dict.fromkeys(super()._deserialize(parts, attr, data, **kwargs)))


class Language(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        tag = languages.to_tag(super()._deserialize(value, attr, data, **kwargs))
        if tag is None:
            raise ValidationError(
                f"unknown language {value!r}; use a language tag (es, yue, ase) or a name"
            )
        return tag


class Accepting(fields.String):
    ALIASES = {**ACCEPTING_ALIASES, "true": "accepting", "false": "not_accepting"}

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs).lower()
        code = self.ALIASES.get(raw, raw)
        if code not in ACCEPTING:
            raise ValidationError(f"expected one of {', '.join(ACCEPTING)}")
        return code


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error="expected one of {choices}")


class ProviderSearchArgs(Schema):
    class Meta:
        unknown = RAISE

    q = fields.String(validate=validate.Length(max=MAX_QUERY_LENGTH))
    type = Multi(fields.String(validate=_one_of(ENTITY_TYPES)))
    specialty = Multi(
        fields.String(
            validate=validate.OneOf(sorted(specialties()), error="unknown NUCC taxonomy code")
        )
    )
    pcp = fields.Boolean()
    language = Multi(Language())
    gender = Multi(fields.String(validate=_one_of(("female", "male", "nonbinary"))))
    age = fields.Integer(validate=validate.Range(0, 120), strict=False)
    group = Multi(fields.String(validate=validate.Length(1, 200)))
    network = Multi(fields.String(validate=validate.Length(1, 200)))
    hospital = Multi(fields.String(validate=validate.Length(1, 200)))
    near = fields.String(validate=validate.Length(max=60))
    radius = fields.Float(
        validate=validate.Range(0, MAX_RADIUS_MILES, min_inclusive=False),
        allow_nan=False,
    )
    telehealth = fields.Boolean()
    city = Multi(fields.String(validate=validate.Length(1, 80)))
    zip = Multi(fields.String(validate=validate.Regexp(ZIP5, error="a 5-digit ZIP code")))
    accessibility = Multi(fields.String(validate=_one_of(ACCESSIBILITY)))
    plan = Multi(fields.String(validate=validate.Regexp(PLAN_CODE, error="not a plan code")))
    line_of_business = Multi(fields.String(validate=_one_of(LINES_OF_BUSINESS)))
    accepting_new_patients = Multi(Accepting())
    sort = fields.String(validate=_one_of(SORTS))
    limit = fields.Integer(load_default=10, strict=False)
    cursor = fields.String(validate=validate.Length(max=500))
    facets = fields.Boolean(load_default=True)
    understand = fields.Boolean(load_default=True)
    lang = fields.String(validate=_one_of(("en", "es")))

    def __init__(self, max_page_size: int = 50, **kwargs):
        super().__init__(**kwargs)
        self.max_page_size = max_page_size

    @validates_schema
    def check_combinations(self, data, **kwargs):
        limit = data.get("limit", 10)
        if not 1 <= limit <= self.max_page_size:
            raise ValidationError(f"must be between 1 and {self.max_page_size}", "limit")
        if "radius" in data and "near" not in data:
            raise ValidationError("radius needs near (a ZIP code or lat,lon)", "radius")
        if data.get("sort") == "distance" and "near" not in data:
            raise ValidationError("sort=distance needs near (a ZIP code or lat,lon)", "sort")
        if data.get("sort") == "relevance" and not data.get("q"):
            raise ValidationError("sort=relevance needs q", "sort")

    @post_load
    def to_query(self, data, **kwargs) -> SearchQuery:
        words: tuple[str, ...] = ()
        npi = None
        reading = None
        q = (data.get("q") or "").strip()
        if NPI_PATTERN.match(q):
            npi = q
        elif q and data["understand"]:
            reading = read_query(q)
            words = reading.words[: text.MAX_QUERY_TOKENS]
            data = _with_reading(data, reading)
        elif q:
            words = tuple(text.query_tokens(q))
        geo = None
        if "near" in data:
            lat, lon = parse_near(data["near"])
            geo = GeoFilter(lat, lon, data.get("radius", DEFAULT_RADIUS_MILES))
        # Near a place, the nearest match is what a member wants first; otherwise the best match.
        sort = data.get("sort") or ("distance" if geo else "relevance" if words else "name")
        after = None
        if data.get("cursor"):
            try:
                after = cursor.decode(data["cursor"], sort)
            except cursor.BadCursor as exc:
                raise ValidationError(str(exc), "cursor") from exc
        return SearchQuery(
            text=words,
            npi=npi,
            entity_types=tuple(data.get("type", ())),
            specialties=tuple(data.get("specialty", ())),
            pcp=data.get("pcp"),
            # Asking for a macrolanguage (Chinese) finds its languages (Mandarin, Cantonese).
            languages=tuple(
                dict.fromkeys(
                    t for tag in data.get("language", ()) for t in languages.matching_tags(tag)
                )
            ),
            genders=tuple(data.get("gender", ())),
            age=data.get("age"),
            groups=tuple(dict.fromkeys([*data.get("group", ()), *data.get("network", ())])),
            hospitals=tuple(data.get("hospital", ())),
            geo=geo,
            telehealth=data.get("telehealth"),
            cities=tuple(data.get("city", ())),
            zips=tuple(data.get("zip", ())),
            accessibility=tuple(data.get("accessibility", ())),
            plans=tuple(data.get("plan", ())),
            lines_of_business=tuple(data.get("line_of_business", ())),
            accepting=tuple(data.get("accepting_new_patients", ())),
            sort=sort,
            limit=data.get("limit", 10),
            after=after,
            facets=FACETS if data.get("facets", True) else (),
            reading=reading,
        )


def _with_reading(data: dict, reading: Reading) -> dict:
    """The parameters with what was read from `q` added; a parameter given explicitly wins."""
    merged = dict(data)
    for parameter in READ_PARAMETERS:
        values = reading.values(parameter)
        if not values or parameter in data:
            continue
        if parameter in ("pcp", "telehealth"):
            merged[parameter] = True
        elif parameter == "near":
            merged[parameter] = values[0]
        else:
            merged[parameter] = list(values)
    return merged


def load_search_args(args: MultiDict, max_page_size: int = 50) -> SearchQuery:
    """Parse request.args; a scalar parameter given twice is an error naming it."""
    schema = ProviderSearchArgs(max_page_size=max_page_size)
    return schema.load(query_data(args, schema))


def query_data(args: MultiDict, schema: Schema) -> dict:
    """Query-string values for `schema`: lists for its list fields; a scalar given twice is an
    error naming it."""
    data: dict = {}
    errors: dict = {}
    for key in args:
        values = args.getlist(key)
        field = schema.fields.get(key)
        if isinstance(field, Multi):
            data[key] = values
        elif len(values) > 1:
            errors[key] = ["given more than once"]
        else:
            data[key] = values[0]
    if errors:
        raise ValidationError(errors)
    return data
