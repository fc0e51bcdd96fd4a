"""Query-string arguments of GET /v1/providers -> SearchQuery (marshmallow, unknown=RAISE)."""

import copy

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate
from werkzeug.datastructures import MultiDict

from app.search import cursor, filters
from app.search.arguments import Matches, Multi, one_of
from app.search.query import FACETS, SORTS, GeoFilter, SearchQuery
from app.search.ranking import specialists_first
from app.search.reader import Reading, read_query
from app.vocab import text
from app.vocab.npi import NPI_PATTERN
from app.vocab.phones import phone_digits
from app.vocab.places import NEAR_PATTERN, parse_near

READ_PARAMETERS = filters.READ_PARAMETERS
MAX_QUERY_LENGTH = 200
MAX_RADIUS_MILES = 100.0
DEFAULT_RADIUS_MILES = 10.0


class SearchArgs(Schema):
    """The arguments that are not filters; the filters come from `app.search.filters`."""

    class Meta:
        unknown = RAISE

    q = fields.String(
        validate=validate.Length(max=MAX_QUERY_LENGTH),
        metadata={
            "description": "What the person typed, in English or Spanish. It is read for what it "
            'says (see `interpretation`): specialties and everyday words for them ("kids doctor", '
            '"pediatra", "ob gyn"), symptoms and conditions ("rash", "dolor de espalda") as the '
            'specialties that treat them, languages ("spanish speaking", "que hable español"), '
            'gender, kinds of provider ("urgent care", "farmacia"), primary care, accepting new '
            'patients, video visits, lines of business ("medi-cal"), plan names of the directory '
            '("golden poppy medi-cal", "blue shield") as `plan`, a ZIP code or a California city '
            "as `near`. Phone numbers in any common form and plan provider IDs (`GP-91506-T`, "
            "with or without dashes, any case) find the providers that have them, digit for "
            "digit. What is left is searched as text (names, including compound names written "
            "apart or together and initials, groups, offices); a 10-digit NPI finds that "
            "provider. Explicit parameters win over what is read.",
            "example": "heart doctor",
        },
    )
    network = Multi(
        fields.String(validate=validate.Length(1, 200)), metadata={"description": "Same as group."}
    )
    near = fields.String(
        validate=[
            validate.Length(1, 60),
            Matches(NEAR_PATTERN, error="expected a 5-digit ZIP code or lat,lon"),
        ],
        metadata={
            "description": "Centre of a geographic search: a 5-digit ZIP code (its centroid; a "
            "ZIP+4 is read as its ZIP code) or 'lat,lon'. A ZIP code that does not exist is a "
            "400.",
            "format": "place",
            "example": "90012",
        },
    )
    radius = fields.Float(
        validate=validate.Range(0, MAX_RADIUS_MILES, min_inclusive=False),
        allow_nan=False,
        metadata={
            "description": "Search radius in miles around the place (`near`, or a ZIP code or "
            "city read from `q`); default 10. Without a place there is nothing to measure from "
            "and it is ignored."
        },
    )
    sort = fields.String(
        validate=one_of(SORTS),
        metadata={
            "description": "Order: distance (nearest first; needs a place, given as `near` or "
            "read from `q`), relevance (needs `q`) or name. Default: relevance with q (blended "
            "with distance when near is given or read; the score is documented in the README), "
            "else distance with a place, else name. An order without what it needs gives the "
            "default order; the answer's `sort` says which order was used."
        },
    )
    limit = fields.Integer(
        load_default=10,
        strict=False,
        metadata={"description": "Results per page."},
    )
    cursor = fields.String(
        validate=[validate.Length(max=500), Matches(cursor.PATTERN, error="malformed cursor")],
        metadata={
            "description": "`next_cursor` of the previous page, sent with the same parameters. "
            "A cursor the server did not issue, or issued for another order, is a 400."
        },
    )
    facets = fields.Boolean(
        load_default=True, metadata={"description": "Whether to compute facet counts."}
    )
    understand = fields.Boolean(
        load_default=True,
        metadata={
            "description": "false: take `q` literally, every word matched as text, nothing read "
            "into filters."
        },
    )
    lang = fields.String(
        validate=one_of(("en", "es")),
        metadata={
            "description": "Language of the labels in `interpretation` (default: the "
            "Accept-Language header's best match, else en)."
        },
    )

    def __init__(self, max_page_size: int = 50, plans: dict[str, str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.max_page_size = max_page_size
        # The page size the app allows (PD_MAX_PAGE_SIZE), checked and documented alike. A
        # schema's fields are shallow copies of the class's: this one gets a limit of its own
        # rather than adding to the validators every schema shares.
        limit = copy.copy(self.fields["limit"])
        limit.validators = [
            *limit.validators,
            validate.Range(1, max_page_size, error=f"must be between 1 and {max_page_size}"),
        ]
        for table in (self.fields, self.load_fields, self.dump_fields):
            if "limit" in table:
                table["limit"] = limit
        self.plans = plans or {}  # the live directory's plan names, to read `q` with

    @post_load
    def to_query(self, data, **kwargs) -> SearchQuery:
        words: tuple[str, ...] = ()
        npi = None
        reading = None
        preferred: tuple[str, ...] = ()
        q = (data.get("q") or "").strip()
        # Ten digits are an NPI unless they can be a phone number, which is read (and the NPI is
        # also a word of its provider, so a number that is both finds either).
        if NPI_PATTERN.match(q) and phone_digits(q) is None:
            npi = q
        elif q and data["understand"]:
            reading = read_query(q, self.plans)
            words = reading.search_words[: text.MAX_QUERY_TOKENS]
            if "specialty" not in data:
                preferred = _specialists_read(reading)
            data = _with_reading(data, reading)
        elif q:
            words = tuple(text.query_tokens(q))
        geo = None
        if "near" in data:
            lat, lon = parse_near(data["near"])
            geo = GeoFilter(lat, lon, data.get("radius", DEFAULT_RADIUS_MILES))
        # What was typed decides the order (blended with distance near a place: see
        # app/search/ranking.py); a place alone lists the nearest first. An order asked for
        # without what it needs (a place, words) gives way to that default.
        sort = data.get("sort")
        if (sort == "distance" and geo is None) or (sort == "relevance" and not q):
            sort = None
        sort = sort or ("relevance" if q else "distance" if geo else "name")
        after = None
        if data.get("cursor"):
            try:
                after = cursor.decode(data["cursor"], sort)
            except cursor.BadCursor as exc:
                raise ValidationError(str(exc), "cursor") from exc
        if data.get("network"):
            data = {**data, "group": [*data.get("group", ()), *data["network"]]}
        chosen = {
            f.attribute: f.parse(data[f.parameter])
            for f in filters.FILTERS
            if data.get(f.parameter) is not None
        }
        return SearchQuery(
            **chosen,
            text=words,
            npi=npi,
            preferred_specialties=preferred,
            geo=geo,
            sort=sort,
            limit=data.get("limit", 10),
            after=after,
            facets=FACETS if data.get("facets", True) else (),
            reading=reading,
        )


def _specialists_read(reading: Reading) -> tuple[str, ...]:
    """The specialties each specialty phrase of the reading names first, once."""
    found = (
        code
        for phrase in reading.phrases
        if phrase.parameter == "specialty"
        for code in specialists_first(phrase.values)
    )
    return tuple(dict.fromkeys(found))


def _with_reading(data: dict, reading: Reading) -> dict:
    """The parameters with what was read from `q` added; a parameter given explicitly wins."""
    merged = dict(data)
    for parameter in READ_PARAMETERS:
        values = reading.values(parameter)
        if not values or parameter in data:
            continue
        declared = filters.BY_PARAMETER.get(parameter)
        if declared is not None and declared.kind == filters.FLAG:
            merged[parameter] = True
        elif parameter == "near":
            merged[parameter] = values[0]
        else:
            merged[parameter] = list(values)
    return merged


# What each filter means to an API client, for the OpenAPI document.
FILTER_DESCRIPTIONS = {
    "type": "Kind of provider; any value matches.",
    "specialty": "NUCC taxonomy code; any value matches.",
    "pcp": "Only primary care providers (true) or only others (false).",
    "language": "Language the provider speaks: a BCP-47 tag (es, yue, cmn, ase), an ISO 639 "
    "code or an English or Spanish name; one that names no language is a 400. A macrolanguage "
    "finds its languages: zh finds Chinese, Mandarin and Cantonese speakers; yue finds only "
    "Cantonese. Any value matches.",
    "gender": "Provider gender; any value matches.",
    "age": "Only providers who see patients of this age (years).",
    "group": "Medical group / IPA name; any value matches.",
    "hospital": "Hospital where the provider has admitting privileges; any value matches.",
    "telehealth": "Only locations offering telehealth (true), or only those without (false).",
    "city": "City of the location; any value matches.",
    "zip": "5-digit ZIP code of the location; any value matches.",
    "accessibility": "Accessibility features the location must all have.",
    "open": "Times the location is open, read from its hours: a day (`mon` ... `sun`), "
    "`evening` (open after 18:00 on some day) or `early` (open before 8:00 on some day); any "
    "value matches. A location whose hours are blank or unreadable matches none.",
    "plan": "Health-plan network code; with line_of_business and accepting_new_patients it "
    "must hold for one and the same plan at one location. Any value matches.",
    "line_of_business": "Line of business of the plan; any value matches.",
    "accepting_new_patients": "Accepting status under the plan at the location (true = "
    "accepting; Plan-Net codes newpt, nopt, existptonly, existptfam read too); any value matches.",
}


# An example for the filters where one helps.
FILTER_EXAMPLES = {"specialty": ["207Q00000X"], "language": ["es"]}


def _described(field: fields.Field, parameter: str) -> fields.Field:
    field.metadata = {**field.metadata, "description": FILTER_DESCRIPTIONS[parameter]}
    if parameter in FILTER_EXAMPLES:
        field.metadata["example"] = FILTER_EXAMPLES[parameter]
    return field


# GET /v1/providers' arguments: the filters (each declared once in app/search/filters.py) and the
# rest.
ProviderSearchArgs = type(
    "ProviderSearchArgs",
    (SearchArgs,),
    {f.parameter: _described(f.argument(), f.parameter) for f in filters.FILTERS},
)


class UnverifiedArgs(Schema):
    """GET /v1/reports/unverified's arguments."""

    class Meta:
        unknown = RAISE

    days = fields.Integer(
        load_default=90,
        strict=False,
        validate=validate.Range(1, 3650),
        metadata={"description": "Records not verified within this many days."},
    )


def load_search_args(
    args: MultiDict, max_page_size: int = 50, plans: dict[str, str] | None = None
) -> SearchQuery:
    """Parse request.args; a scalar parameter given twice is an error naming it. `plans` (code ->
    name, from the engine) lets plan names typed in `q` be read as the `plan` filter."""
    schema = _search_schema(max_page_size, plans or _NO_PLANS)
    return schema.load(query_data(args, schema))


# Building a schema costs more than loading one: one per (page size, plan names) is kept. The
# plan names are the engine's own dict, replaced when a new generation goes live, so they are
# told apart by identity and the dict is kept with its schema (its id cannot be reused meanwhile).
_SCHEMAS: dict[tuple[int, int], tuple[dict, "ProviderSearchArgs"]] = {}
_SCHEMAS_KEPT = 8
_NO_PLANS: dict[str, str] = {}


def _search_schema(max_page_size: int, plans: dict[str, str]) -> "ProviderSearchArgs":
    key = (max_page_size, id(plans))
    kept = _SCHEMAS.get(key)
    if kept is not None and kept[0] is plans:
        return kept[1]
    schema = ProviderSearchArgs(max_page_size=max_page_size, plans=plans)
    if len(_SCHEMAS) >= _SCHEMAS_KEPT:
        _SCHEMAS.clear()
    _SCHEMAS[key] = (plans, schema)
    return schema


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
