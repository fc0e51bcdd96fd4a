"""What the API answers, as marshmallow schemas: the OpenAPI document's response bodies."""

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

from app.audit.log import OUTCOMES
from app.auth import ROLES
from app.match.scoring import HARD_RULES
from app.search.query import FACETS, SORTS
from app.search.reader import PHRASE_KINDS
from app.vocab.codes import ACCEPTING, ACCESSIBILITY, ENTITY_TYPES, GENDERS, LINES_OF_BUSINESS
from app.vocab.npi import NPI_PATTERN
from indexer.progress import PHASES

JOB_STATES = ("queued", "running", "succeeded", "failed")
JOB_ID = r"^[0-9a-f]{32}$"


class Answer(Schema):
    """A response body: clients must accept fields added later."""

    class Meta:
        unknown = INCLUDE


class Closed(Schema):
    """A response body whose keys are all listed (a map of known names, a small fixed shape)."""

    class Meta:
        unknown = RAISE


def _text(description: str = "", **kwargs) -> fields.String:
    """A string that may be null."""
    return fields.String(allow_none=True, metadata={"description": description}, **kwargs)


def _about(description: str) -> dict:
    return {"metadata": {"description": description}}


def _npi(**kwargs) -> fields.String:
    return fields.String(validate=validate.Regexp(NPI_PATTERN), **kwargs)


def _one_of(choices, **kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf(choices), **kwargs)


class Error(Answer):
    class Body(Answer):
        status = fields.Integer(required=True)
        code = fields.String(required=True)
        message = fields.String(required=True)
        fields = fields.Dict(
            keys=fields.String(),
            values=fields.List(fields.String()),
            **_about("Each parameter or field in error, with what is wrong with it."),
        )

    error = fields.Nested(Body, required=True)


class Plan(Answer):
    plan = fields.String(required=True)
    plan_name = fields.String(required=True)
    line_of_business = _one_of(LINES_OF_BUSINESS, required=True)
    plan_provider_id = _text(
        "The provider's ID in the plan's system: what the member gives the plan to choose this "
        "PCP (null when the roster did not give one).",
        required=True,
    )
    accepting = _one_of(
        ACCEPTING,
        required=True,
        **_about(
            "Accepting new patients under this plan at this location; `unknown` when the roster "
            "does not say."
        ),
    )
    panel_capacity = fields.Integer(allow_none=True)
    panel_members = fields.Integer(allow_none=True, **_about("Members already on this panel."))


class Location(Answer):
    location_id = fields.String(required=True)
    name = _text()
    address = _text()
    city = fields.String(required=True)
    state = fields.String(required=True)
    zip = fields.String(
        required=True, **_about("5-digit ZIP code ('' when only coordinates placed the location).")
    )
    zip4 = _text("ZIP+4 add-on, when the roster gave it.")
    phone = _text("Office phone, `(213) 555-0100`.")
    phone_extension = _text("Extension of the office phone, when there is one.")
    hours = _text()
    accessibility = fields.List(_one_of(ACCESSIBILITY), required=True)
    staff_languages = fields.List(
        fields.String(**_about("Languages of interpreters or office staff at this location.")),
        **_about("Languages of interpreters or office staff at this location."),
    )
    telehealth = fields.Boolean(required=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    plans = fields.List(
        fields.Nested(Plan),
        required=True,
        **_about(
            "Plans taken at this location; empty for a listing from a source without plans "
            "(NPPES, CMS)."
        ),
    )
    distance_miles = fields.Float(
        **_about("Great-circle miles from `near` (present when near is given).")
    )


class Provider(Answer):
    class Name(Answer):
        first = _text()
        middle = _text()
        last = _text()
        organization = _text()

    class Specialty(Answer):
        code = fields.String(required=True)
        display = fields.String(required=True)
        primary = fields.Boolean(required=True)

    npi = _npi(required=True)
    entity_type = _one_of(ENTITY_TYPES, required=True)
    display_name = fields.String(required=True)
    name = fields.Nested(Name)
    credentials = _text()
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    specialties = fields.List(fields.Nested(Specialty), required=True)
    pcp = fields.Boolean(required=True)
    pcp_type = _text()
    age_min = fields.Integer()
    age_max = fields.Integer()
    languages = fields.List(
        fields.String(),
        required=True,
        **_about(
            "Languages the provider speaks, as BCP-47 tags (es, yue for Cantonese, cmn for "
            "Mandarin, ase for American Sign Language)."
        ),
    )
    board_certifications = fields.List(fields.String())
    hospital_affiliations = fields.List(fields.String())
    medical_group = _text()
    license = _text()
    last_updated = fields.Date(allow_none=True)
    last_verified = fields.Date(allow_none=True)
    distance_miles = fields.Float(
        allow_none=True,
        **_about("Distance to the nearest matching location (present when near is given)."),
    )
    locations = fields.List(fields.Nested(Location), required=True)


class FacetBucket(Answer):
    value = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(required=True, validate=validate.Range(min=1))


class Phrase(Answer):
    text = fields.String(
        required=True, **_about("The words as typed (lower case, accents removed).")
    )
    kind = _one_of(
        PHRASE_KINDS,
        required=True,
        **_about(
            'What kind of phrase it is. `near_me` ("near me", "cerca de mi") names a place '
            "only the visitor's device knows: its parameter is `near` with no values, and a "
            "client fills `near` in (the page asks the browser for its location)."
        ),
    )
    parameter = fields.String(
        required=True,
        **_about(
            "The search parameter it became; `q` for a phone number or a plan provider ID, "
            "which are matched exactly as one word each (`values`: the 10 digits, or the ID's "
            "letters and digits in lower case)."
        ),
    )
    values = fields.List(fields.String(), required=True)
    label = fields.String(
        required=True,
        **_about(
            'What it became, in words, in `lang`: "Speaks Spanish", "Dermatology: treats rash", '
            '"Near 90012", "Plan: Golden Poppy Health Plan Medi-Cal", "Phone: (562) 555-0196", '
            '"Plan provider ID: GP91506T".'
        ),
    )
    read_as = fields.String(**_about("The vocabulary phrase a misspelt word was read as."))


class Interpretation(Answer):
    lang = _one_of(("en", "es"), required=True)
    phrases = fields.List(fields.Nested(Phrase), required=True)
    words = fields.List(fields.String(), required=True, **_about("Words left for text search."))


class Relaxation(Answer):
    parameter = fields.String(required=True, **_about("`radius`, or the parameter dropped."))
    total = fields.Integer(required=True)
    radius = fields.Float(**_about("The radius that finds someone (parameter radius)."))
    drop = fields.String(**_about("The parameter to drop."))
    label = fields.String(
        required=True, **_about('In words, in the reader\'s language: "Within 25 miles: 12 found".')
    )


class DidYouMean(Answer):
    q = fields.String(required=True, **_about("The respelled search box entry, to send as q."))
    total = fields.Integer(
        required=True, **_about("How many providers it finds, with the other parameters unchanged.")
    )
    label = fields.String(
        required=True, **_about('In the reader\'s language: "Did you mean “rash”? 12 found".')
    )


Facets = Closed.from_dict(
    {name: fields.List(fields.Nested(FacetBucket)) for name in FACETS}, name="Facets"
)


class SearchResponse(Answer):
    total = fields.Integer(required=True, **_about("Providers matching, over all pages."))
    count = fields.Integer(required=True)
    sort = _one_of(SORTS, required=True)
    results = fields.List(fields.Nested(Provider), required=True)
    facets = fields.Nested(
        Facets,
        required=True,
        **_about(
            "Counts of providers in the whole result set; location and plan facets count "
            "matching locations and plans only."
        ),
    )
    next_cursor = _text("Send as `cursor` for the next page; null on the last.", required=True)
    interpretation = fields.Nested(
        Interpretation,
        required=True,
        allow_none=True,
        **_about(
            "How `q` was read (null when there was no `q`, it was an NPI, or understand=false)."
        ),
    )
    relaxations = fields.List(
        fields.Nested(Relaxation),
        required=True,
        **_about(
            "When nobody is found: the nearest searches that find someone, each changing one "
            "thing (a wider radius, or one filter dropped), with their counts. Empty otherwise."
        ),
    )
    did_you_mean = fields.Nested(
        DidYouMean,
        required=True,
        allow_none=True,
        **_about(
            "A word left for text search that looks like a misspelt vocabulary word, offered as "
            'a search of its own when that finds someone ("rahs" -> "rash"); null otherwise. '
            "Never applied by itself."
        ),
    )


class Suggestion(Closed):
    kind = _one_of(
        ("specialty", "condition", "language", "provider", "group", "office", "city"),
        required=True,
    )
    label = fields.String(
        required=True, **_about("What to show, in `lang` for specialties and languages.")
    )
    detail = fields.String(
        required=True,
        **_about(
            'What it is, in `lang`: "Specialty", "Cardiology: treats chest pain", "Family '
            'Medicine · Irvine", "Office · Long Beach".'
        ),
    )
    params = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(
            metadata={"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        ),
        required=True,
        **_about("The `GET /v1/providers` parameters that search this suggestion."),
    )
    npi = _npi(**_about("Providers only."))
    href = fields.String(**_about("Providers only: the provider's page."))


class SuggestResponse(Closed):
    query = fields.String(required=True, **_about("`q`, trimmed."))
    suggestions = fields.List(
        fields.Nested(Suggestion), required=True, validate=validate.Length(max=10)
    )


class Health(Answer):
    status = _one_of(("ok",), required=True)
    engine = _one_of(("embedded", "elasticsearch"), required=True)
    generation = fields.String(required=True)
    providers = fields.Integer(required=True)
    locations = fields.Integer(required=True)


class CandidatePlan(Answer):
    plan = fields.String()
    plan_name = _text()
    line_of_business = fields.String()
    accepting = fields.String()


class CandidateLocation(Answer):
    location_id = _text()
    name = _text()
    address = _text()
    city = _text()
    state = _text()
    zip = _text()
    phone = _text()
    hours = _text()
    telehealth = fields.Boolean()


class _Offer(Answer):
    npi = _npi(required=True)
    name = fields.String()
    credentials = _text()
    pcp_types = fields.List(fields.String())
    medical_group = _text()
    plan_provider_id = fields.String(**_about("What the member gives the plan to choose this PCP."))
    plan = fields.Nested(CandidatePlan)
    location = fields.Nested(CandidateLocation)
    distance_miles = fields.Float(required=True)


class Candidate(_Offer):
    rank = fields.Integer(required=True)
    plan_provider_id = fields.String(
        required=True, **_about("What the member gives the plan to choose this PCP.")
    )
    location = fields.Nested(CandidateLocation, required=True)
    score = fields.Float(required=True, **_about("Preference points earned."))
    possible = fields.Float(**_about("The most this member's preferences could earn."))
    score_parts = fields.Dict(
        keys=fields.String(), values=fields.Float(), required=True,
        **_about("Points by preference (continuity, family, language, staff_language, distance, "
                 "gender, accessibility, telehealth)."),
    )  # fmt: skip
    reasons = fields.List(
        fields.String(),
        required=True,
        metadata={"examples": [["speaks Spanish", "2.3 miles from home"]]},
    )


class Exclusion(Answer):
    rule = _one_of(HARD_RULES)
    reason = fields.String()


class ExcludedCandidate(_Offer):
    excluded_by = fields.List(fields.Nested(Exclusion), required=True)


class NobodyQualifies(Answer):
    rule = _one_of(HARD_RULES)
    message = fields.String()
    nearest = fields.List(fields.Nested(ExcludedCandidate))
    widened_radius_miles = fields.Float()
    if_widened = fields.List(fields.Nested(Candidate))


class MatchResponse(Answer):
    rules_version = fields.String(required=True)
    max_distance_miles = fields.Float(required=True)
    qualifying = fields.Integer(
        required=True, **_about("How many PCP locations pass every hard rule.")
    )
    candidates = fields.List(fields.Nested(Candidate), required=True)
    nobody_qualifies = fields.Nested(NobodyQualifies, **_about("Only when no PCP qualifies."))


class Timing(Answer):
    created_at = fields.Float(allow_none=True)
    started_at = fields.Float(allow_none=True)
    finished_at = fields.Float(allow_none=True)
    seconds = fields.Float(allow_none=True)


class ImportJob(Answer):
    class Progress(Answer):
        phase = fields.String(
            allow_none=True,
            validate=validate.OneOf(PHASES),
            **_about(
                "`reading`: rows read and validated; `indexing`: records merged into provider "
                "documents written to the engine; `publishing`: the new generation finished and "
                "swapped in; `fhir-view`: the FHIR view rebuilt; `done`. Null while queued."
            ),
        )
        rows_read = fields.Integer(
            **_about("Rows read from the files so far (not counting rows the layout skips).")
        )
        rows_validated = fields.Integer(
            **_about("Rows checked so far (validated and placed on the map).")
        )
        rows_imported = fields.Integer(
            **_about("Rows in the new directory so far (they settle in phase `indexing`).")
        )
        rows_rejected = fields.Integer(
            **_about("Rows left out so far: bad rows while reading, duplicates while indexing.")
        )
        rows_with_warnings = fields.Integer(
            **_about(
                "Rows imported without a value they had wrong (each such value is reported with "
                "severity `warning`)."
            )
        )
        rows_skipped = fields.Integer(
            **_about(
                "Rows a layout's row filter left out on purpose (e.g. NPPES organisations in the "
                "individuals' layout)."
            )
        )
        records_to_index = fields.Integer(
            **_about(
                "Records to merge into documents: this roster's valid rows and every other "
                "source's kept records (known from phase `indexing`)."
            )
        )
        records_indexed = fields.Integer(
            **_about("Records merged into documents so far; equals `records_to_index` at the end.")
        )
        providers_indexed = fields.Integer(
            **_about("Provider documents the engine has taken so far.")
        )

    class Links(Answer):
        self = fields.String()
        rejects = fields.String()

    id = fields.String(required=True, validate=validate.Regexp(JOB_ID))
    state = _one_of(JOB_STATES, required=True)
    source = fields.String(required=True)
    filename = fields.String(required=True, **_about("The first file's name."))
    files = fields.List(fields.String(), **_about("The name of every file of the import."))
    layout = _text()
    mode = _one_of(("full", "delta"))
    changes = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)
    progress = fields.Nested(Progress, required=True)
    providers = fields.Integer()
    generation = _text()
    attempts = fields.Integer()
    timing = fields.Nested(Timing, required=True)
    error = _text()
    links = fields.Nested(Links, required=True)


class AssignmentJob(Answer):
    class Progress(Answer):
        rows_read = fields.Integer()
        members_scored = fields.Integer()
        members_assigned = fields.Integer()
        members_unassigned = fields.Integer()
        rows_rejected = fields.Integer()

    class Links(Answer):
        self = fields.String()
        result = fields.String()
        errors = fields.String()

    id = fields.String(required=True, validate=validate.Regexp(JOB_ID))
    state = _one_of(JOB_STATES, required=True)
    filename = fields.String()
    rules_version = _text()
    progress = fields.Nested(Progress, required=True)
    total_cost = fields.Integer(allow_none=True)
    attempts = fields.Integer()
    timing = fields.Nested(Timing)
    error = _text()
    links = fields.Nested(Links, required=True)


class AdequacyReport(Answer):
    class Uncovered(Answer):
        member = fields.String()
        nearest_accepting_pcp_miles = fields.Float(allow_none=True)

    plan = fields.String(required=True)
    line_of_business = fields.String(required=True)
    access_standard_miles = fields.Float(required=True)
    members = fields.Integer(required=True)
    covered = fields.Integer(required=True)
    covered_share = fields.Float(required=True, allow_none=True)
    uncovered = fields.List(fields.Nested(Uncovered), required=True)
    pcps = fields.Integer(required=True)
    pcps_accepting = fields.Integer()
    members_per_pcp = fields.Float(required=True, allow_none=True)
    ratio_standard = fields.Integer(required=True)
    meets_ratio_standard = fields.Boolean(required=True)


class AuditEntry(Answer):
    id = fields.Integer(required=True)
    at = fields.String(required=True, **_about("UTC, ISO 8601 with milliseconds"))
    actor = fields.String(
        required=True,
        **_about("The key's name, `command line (<user>)`, `no key` or `unknown key`"),
    )
    role = fields.String(allow_none=True, required=True, validate=validate.OneOf(ROLES))
    door = _one_of(("http", "cli", "job"), required=True)
    action = fields.String(
        required=True,
        metadata={"examples": ["import.submit", "import.job", "match", "assignment.result"]},
    )
    outcome = _one_of(OUTCOMES, required=True)
    status = fields.Integer(allow_none=True, required=True, **_about("The HTTP status (http door)"))
    job_id = _text(required=True)
    request = _text("Method and path, without the query string", required=True)
    details = fields.Dict(
        required=True,
        **_about(
            "File names, layout, mode, counts, ids, seconds; for a failure its error code and "
            "the names of the fields at fault"
        ),
    )


class AuditPage(Answer):
    count = fields.Integer(required=True)
    entries = fields.List(fields.Nested(AuditEntry), required=True)
    next_cursor = _text("The cursor of the next page, or null on the last", required=True)
