"""The OpenAPI 3.1 document of /v1, generated with apispec from the schemas that validate requests
(app/api) and those that describe answers (app/openapi/responses.py)."""

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields, validate

from app.api.args import ProviderSearchArgs, UnverifiedArgs
from app.api.audit import AuditArgs
from app.api.imports import UPLOAD_SUFFIXES, ImportForm
from app.api.match import AdequacySchema, AdequacyZips
from app.api.suggest import SuggestArgs
from app.api.uploads import JOB_ID, UPLOAD_TYPES
from app.match import member
from app.match.member import MatchRequestSchema
from app.openapi import responses
from app.search import arguments
from app.search.arguments import Accepting, Multi

TITLE = "Provider Directory API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Provider search for California medical groups, IPAs and their health plans: geo and faceted "
    "search over practitioners and facilities, one result per provider with matching locations, "
    "plans, plan provider IDs and accepting status; PCP matching, auto-assignment, network "
    "adequacy and roster imports for staff. The same directory is also served as FHIR R4 "
    "Plan-Net under /fhir, described by its own CapabilityStatement at GET /fhir/metadata (not in "
    "this document). Every error is the JSON envelope `Error`.\n\n"
    "Some values are valid only if they name something that exists, which a pattern cannot say: "
    "they carry a `format` of their own, defined here. `npi`: 10 digits, the last the Luhn check "
    "digit of 80840 and the first nine. `zip-code`: 5 digits, a ZIP code in the USPS list. "
    "`place`: such a ZIP code (a ZIP+4 is read as its ZIP code) or `lat,lon` (decimal degrees, "
    "latitude -90 to 90, longitude -180 to 180, spaces allowed around the comma), at most 60 "
    "characters. `language`: a language tag or name (ISO 639, BCP-47, English or Spanish). "
    "Anything else is a 400 naming its field."
)
VALUE_FORMATS = ("npi", "zip-code", "place", "language")
SECURITY_SCHEME = "apiKey"
PLANNET_FIRST = tuple(
    sorted(UPLOAD_SUFFIXES, key=lambda suffix: suffix not in (".json", ".ndjson"))
)
STAFF = [{SECURITY_SCHEME: []}]


class Upload(fields.Raw):
    """A file in a multipart form."""


def _upload(description: str, suffixes=(".csv",), many: bool = False) -> fields.Field:
    text = (
        f"{description} A {', '.join(suffixes)} file, known by its name's suffix or its part's "
        "Content-Type (`encoding`)."
    )
    one = Upload(metadata={"type": "string", "format": "binary"})
    if many:
        return fields.List(one, required=True, metadata={"description": text, "minItems": 1})
    return Upload(
        required=True, metadata={"type": "string", "format": "binary", "description": text}
    )


ImportUpload = Schema.from_dict(
    {
        **ImportForm().declared_fields,
        "file": _upload(
            "The roster: one .csv or .xlsx in the project's layout or a declared one; or FHIR "
            "Plan-Net: one or more .json Bundles and .ndjson files (repeat the field, e.g. one "
            "NDJSON file per resource type), read together so references resolve across them. "
            "Several files are Plan-Net files only: a CSV or Excel roster with others is a 400.",
            UPLOAD_SUFFIXES,
            many=True,
        ),
    },
    name="ImportUpload",
)
AssignmentUpload = Schema.from_dict(
    {
        "file": _upload(
            "Members, one a row: member_id, home (or address), plan, line_of_business, age and "
            "optionally sex, languages, gender_preference, accessibility, telehealth, "
            "max_distance, current_pcp, previous_pcps, family_pcps (npi:relation|...)."
        )
    },
    name="AssignmentUpload",
)
AdequacyUpload = Schema.from_dict(
    {
        **{k: v for k, v in AdequacySchema().declared_fields.items() if k != "zips"},
        "file": _upload(
            "Members: a home column (ZIP code or lat,lon, one member a row) and optionally "
            "member_id. A file without a home column, a home that is no known ZIP code or "
            "lat,lon, or no members is a 400 naming `file`."
        ),
    },
    name="AdequacyUpload",
)


def _multi_parameter(self, field, **kwargs) -> dict:
    """A list parameter is repeated or comma-separated."""
    if isinstance(field, Multi):
        said = (field.metadata.get("description") or "").rstrip()
        return {"description": f"{said} Repeat the parameter or separate values with commas."}
    return {}


def _accepting_values(self, field, **kwargs) -> dict:
    return {"enum": list(Accepting.accepted())} if isinstance(field, Accepting) else {}


def _value_formats(self, field, ret, **kwargs) -> dict:
    """A value that must name something that exists says so by its format alone (see
    DESCRIPTION): the format's definition is its shape as well."""
    found = field.metadata.get("format")
    if isinstance(field, member.NPI):
        found = "npi"
    elif isinstance(field, arguments.Language | member.Language):
        found = "language"
    if found not in VALUE_FORMATS:
        return {}
    for shape in ("pattern", "minLength", "maxLength"):
        ret.pop(shape, None)
    return {"format": found}


def _parameter_example(self, field, **kwargs) -> dict:
    """A parameter's example stands beside its schema, where clients show it."""
    return {"example": field.metadata["example"]} if "example" in field.metadata else {}


def _exclusive_range(self, field, ret, **kwargs) -> dict:
    """A range that leaves out its minimum says so (apispec writes every minimum inclusive)."""
    for validator in field.validators:
        if isinstance(validator, validate.Range) and not validator.min_inclusive:
            ret.pop("minimum", None)
            return {"exclusiveMinimum": validator.min}
    return {}


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def _ref(name) -> dict:
    return {"$ref": f"#/components/schemas/{name}"} if isinstance(name, str) else name


def _answer(description: str, schema="Error") -> dict:
    return {"description": description, "content": _json(_ref(schema))}


def _csv(description: str) -> dict:
    return {"description": description, "content": {"text/csv": {"schema": {"type": "string"}}}}


def _form(schema, suffixes=(".csv",)) -> dict:
    """A multipart form whose `file` parts may say their type instead of their name's suffix."""
    types = ", ".join(UPLOAD_TYPES[suffix] for suffix in suffixes)
    return {"multipart/form-data": {"schema": schema, "encoding": {"file": {"contentType": types}}}}


def _job_links(operation_id: str, **more: str) -> dict:
    """OpenAPI links from a job's answer to the operations that read it."""
    follow = {"job": operation_id, **more}
    return {
        "links": {
            name: {"operationId": target, "parameters": {"job_id": "$response.body#/id"}}
            for name, target in follow.items()
        }
    }


COMMON = {
    "404": _answer("No such route, or nothing with this identifier."),
    "405": _answer("The path does not take this method; `Allow` lists those it takes.")
    | {"headers": {"Allow": {"required": True, "schema": {"type": "string"}}}},
    "414": _answer("The path and query string are longer than PD_MAX_URL_BYTES."),
    "429": _answer("Too many requests from this address."),
}
ENGINE_DOWN = {"503": _answer("The engine is unreachable or the directory is not built.")}
STAFF_REFUSED = {
    "401": _answer("No API key, or an unknown one."),
    "403": _answer("The key's role may not do this."),
}
TOO_BIG = {"413": _answer("The upload is larger than PD_MAX_UPLOAD_BYTES.")}
JOB_PATH = [
    {
        "name": "job_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": JOB_ID},
    }
]


def _operations(max_page_size: int) -> dict[str, dict]:
    """Every /v1 path and its operations."""
    job_missing = {"404": _answer("No such job.")}
    not_ready = {"409": _answer("The job has not succeeded yet.")}
    return {
        "/v1/providers": {
            "get": {
                "operationId": "searchProviders",
                "summary": "Search providers",
                "parameters": [
                    {"in": "query", "schema": ProviderSearchArgs(max_page_size=max_page_size)}
                ],
                "responses": {
                    "200": _answer(
                        "One page of results, facet counts and the cursor of the next page.",
                        "SearchResponse",
                    ),
                    "400": _answer(
                        "A parameter is invalid, unknown or given twice, a ZIP code or language "
                        "that names nothing, or a cursor the server did not issue for this order; "
                        "`fields` names it."
                    ),
                    **ENGINE_DOWN,
                },
            }
        },
        "/v1/providers/{npi}": {
            "get": {
                "operationId": "getProvider",
                "summary": "One provider with every location and plan",
                "parameters": [
                    {
                        "name": "npi",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": responses.NPI_PATTERN.pattern},
                    }
                ],
                "responses": {
                    "200": _answer("The provider.", "Provider"),
                    "400": _answer("Not a 10-digit NPI."),
                    **ENGINE_DOWN,
                },
            }
        },
        "/v1/suggest": {
            "get": {
                "operationId": "suggest",
                "summary": "Complete what is being typed in the search box",
                "description": (
                    "Suggestions for the letters typed so far: specialties, symptoms and "
                    "conditions, languages (from the search box's vocabulary, only those the "
                    "directory has), providers, medical groups, offices and cities (from the live "
                    "directory). A name is suggested when the typed words start its words from "
                    "any word on: every typed word whole but the last, which may be started "
                    '("gar" finds María García-López, "long be" Long Beach), case and accents '
                    "folded. Vocabulary first; then whole words before started ones, providers "
                    "before groups before offices before cities, most locations first, then A to "
                    "Z; no kind fills more than half the list while others have suggestions. "
                    "Each suggestion's `params` are the `GET /v1/providers` parameters that "
                    "search it."
                ),
                "parameters": [{"in": "query", "schema": SuggestArgs}],
                "responses": {
                    "200": _answer(
                        "Suggestions, best first (empty when nothing matches or `q` is too short).",
                        "SuggestResponse",
                    ),
                    "400": _answer(
                        "A bad or unknown parameter, or one given twice; `fields` names it."
                    ),
                    **ENGINE_DOWN,
                },
            }
        },
        "/v1/health": {
            "get": {
                "operationId": "health",
                "summary": "Engine, live generation and counts",
                "responses": {"200": _answer("The directory is serving.", "Health"), **ENGINE_DOWN},
            }
        },
        "/v1/match": {
            "post": {
                "operationId": "matchMember",
                "summary": "Rank the PCPs one member can choose (staff: enrollment)",
                "description": (
                    "Hard rules: plan and line of business at the location, accepting new "
                    "patients (existing-patient panels for the member or family), PCP type and "
                    "age range, panel capacity, maximum distance. The rest is scored with the "
                    "weights in the rules file."
                ),
                "security": STAFF,
                "requestBody": {"required": True, "content": _json(_ref("MatchRequest"))},
                "responses": {
                    "200": _answer(
                        "Candidates best first, or why nobody qualifies.", "MatchResponse"
                    ),
                    "400": _answer(
                        "The body is not a JSON object, or a field is invalid (named in `fields`, "
                        "its value never echoed): an NPI whose check digit is wrong, a home that "
                        "is no known ZIP code, an address without a geocoder."
                    ),
                    **STAFF_REFUSED,
                    **ENGINE_DOWN,
                },
            }
        },
        "/v1/assignments": {
            "post": {
                "operationId": "createAssignment",
                "summary": "Upload a member CSV; PCPs are assigned in the background "
                "(staff: enrollment)",
                "security": STAFF,
                "requestBody": {
                    "required": True,
                    "content": _form(AssignmentUpload),
                },
                "responses": {
                    "202": _answer("The job, queued; Location points at it.", "AssignmentJob")
                    | {"headers": {"Location": {"schema": {"type": "string"}}}}
                    | _job_links(
                        "getAssignment", result="getAssignmentResult", errors="getAssignmentErrors"
                    ),
                    "400": _answer("No file, not a CSV, or a form field this takes no."),
                    **STAFF_REFUSED,
                    **TOO_BIG,
                },
            }
        },
        "/v1/assignments/{job_id}": {
            "get": {
                "operationId": "getAssignment",
                "summary": "State and progress of an assignment job (staff: enrollment)",
                "security": STAFF,
                "parameters": JOB_PATH,
                "responses": {
                    "200": _answer("The job.", "AssignmentJob"),
                    **STAFF_REFUSED,
                    **job_missing,
                },
            }
        },
        "/v1/assignments/{job_id}/result.csv": {
            "get": {
                "operationId": "getAssignmentResult",
                "summary": "The assignments: one row per valid member, in file order",
                "security": STAFF,
                "parameters": JOB_PATH,
                "responses": {
                    "200": _csv(
                        "member_id, line, status (assigned/unassigned), npi, provider_name, "
                        "plan, line_of_business, plan_provider_id, location_id, location_name, "
                        "address, city, zip, phone, distance_miles, cost, reasons, blocked_rule, "
                        "blocked_reason."
                    ),
                    **STAFF_REFUSED,
                    **job_missing,
                    **not_ready,
                },
            }
        },
        "/v1/assignments/{job_id}/errors.csv": {
            "get": {
                "operationId": "getAssignmentErrors",
                "summary": "Member rows refused: line, member_id, field, reason",
                "security": STAFF,
                "parameters": JOB_PATH,
                "responses": {
                    "200": _csv("line, member_id, field, reason."),
                    **STAFF_REFUSED,
                    **job_missing,
                    **not_ready,
                },
            }
        },
        "/v1/adequacy": {
            "post": {
                "operationId": "networkAdequacy",
                "summary": "Members with a PCP accepting new patients within the access "
                "standard, and the PCP ratio (staff: enrollment, importer)",
                "security": STAFF,
                "requestBody": {
                    "required": True,
                    "content": {
                        **_json(_ref("AdequacyRequest")),
                        **_form(AdequacyUpload),
                    },
                },
                "responses": {
                    "200": _answer("The report.", "AdequacyReport"),
                    "400": _answer(
                        "A bad field, a ZIP code that does not exist, or a member file without "
                        "a usable home column; `fields` names it."
                    ),
                    **STAFF_REFUSED,
                    **TOO_BIG,
                    **ENGINE_DOWN,
                },
            }
        },
        "/v1/imports": {
            "post": {
                "operationId": "createImport",
                "summary": "Upload a roster; it is imported in the background (staff: importer)",
                "security": STAFF,
                "requestBody": {
                    "required": True,
                    # Plan-Net's types first: any number of those files make one import.
                    "content": _form(ImportUpload, PLANNET_FIRST),
                },
                "responses": {
                    "202": _answer("The job, queued; Location points at it.", "ImportJob")
                    | {"headers": {"Location": {"schema": {"type": "string"}}}}
                    | _job_links("getImport", rejects="getImportRejects"),
                    "400": _answer(
                        "No file, an unsupported file type, a CSV or Excel roster sent with "
                        "other files, or a bad form field; `fields` names it."
                    ),
                    **STAFF_REFUSED,
                    **TOO_BIG,
                },
            }
        },
        "/v1/imports/{job_id}": {
            "get": {
                "operationId": "getImport",
                "summary": "State, progress and timing of an import (staff: importer)",
                "security": STAFF,
                "parameters": JOB_PATH,
                "responses": {
                    "200": _answer("The job.", "ImportJob"),
                    **STAFF_REFUSED,
                    **job_missing,
                },
            }
        },
        "/v1/imports/{job_id}/rejects.csv": {
            "get": {
                "operationId": "getImportRejects",
                "summary": "Row problems of a finished import: line, field, value, reason, "
                "severity (staff: importer)",
                "security": STAFF,
                "parameters": JOB_PATH,
                "responses": {
                    "200": _csv(
                        "line, field, value, reason, severity: `error` for a rejected row, "
                        "`warning` for a value left out of a row that went in."
                    ),
                    **STAFF_REFUSED,
                    **job_missing,
                    **not_ready,
                },
            }
        },
        "/v1/reports/unverified": {
            "get": {
                "operationId": "unverifiedReport",
                "summary": "Records not verified within `days` days (staff: importer)",
                "security": STAFF,
                "parameters": [{"in": "query", "schema": UnverifiedArgs}],
                "responses": {
                    "200": _csv(
                        "source, npi, location_id, plan, plan_provider_id, last_verified, "
                        "days_since_verified; X-Total-Count holds the number of records."
                    )
                    | {"headers": {"X-Total-Count": {"schema": {"type": "integer"}}}},
                    "400": _answer("days is not a whole number from 1 to 3650, or unknown."),
                    **STAFF_REFUSED,
                },
            }
        },
        "/v1/audit": {
            "get": {
                "operationId": "readAudit",
                "summary": "The audit log of staff actions, newest first (staff: admin)",
                "description": "Every staff request (imports, matches, assignments, adequacy, "
                "reports, downloads; status polls and metrics scrapes only when refused), the end "
                "of each import and assignment job, and the commands that change or read the "
                "directory's data. Entries hold who, what, when (UTC) and how it ended, with "
                "counts, file names, ids and timings; never member data.",
                "security": STAFF,
                "parameters": [{"in": "query", "schema": AuditArgs}],
                "responses": {
                    "200": _answer("A page of entries, newest first.", "AuditPage"),
                    "400": _answer("A bad or unknown parameter."),
                    **STAFF_REFUSED,
                },
            }
        },
        "/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": _answer("The OpenAPI document.", {"type": "object"})},
            }
        },
    }


# What a component is, where its name does not say it all.
DESCRIBED = {"MatchRequest": "One member. Give `home`, or `address` when a street geocoder is set."}
# Response bodies by component name; request bodies are the API's own schemas.
COMPONENTS = {
    "Error": responses.Error,
    "Plan": responses.Plan,
    "Location": responses.Location,
    "Provider": responses.Provider,
    "FacetBucket": responses.FacetBucket,
    "SearchResponse": responses.SearchResponse,
    "Suggestion": responses.Suggestion,
    "SuggestResponse": responses.SuggestResponse,
    "Health": responses.Health,
    "Candidate": responses.Candidate,
    "ExcludedCandidate": responses.ExcludedCandidate,
    "MatchResponse": responses.MatchResponse,
    "ImportJob": responses.ImportJob,
    "AssignmentJob": responses.AssignmentJob,
    "AdequacyReport": responses.AdequacyReport,
    "AuditEntry": responses.AuditEntry,
    "AuditPage": responses.AuditPage,
    "MatchRequest": MatchRequestSchema,
    "AdequacyRequest": AdequacyZips,
}


def build(max_page_size: int = 50, geocoding: bool = False) -> dict:
    """The whole document, as a dict, for an app serving pages of at most `max_page_size`, with
    or without a street geocoder for members' addresses (`geocoding`)."""
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
    )
    plugin.converter.add_attribute_function(_accepting_values)
    plugin.converter.add_attribute_function(_value_formats)
    plugin.converter.add_parameter_attribute_function(_parameter_example)
    plugin.converter.add_attribute_function(_exclusive_range)
    plugin.converter.add_parameter_attribute_function(_multi_parameter)
    spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A staff API key from PD_API_KEYS, as `Authorization: Bearer <key>` "
            "(or the X-API-Key header).",
        },
    )
    for name, schema in COMPONENTS.items():
        said = {"description": DESCRIBED[name]} if name in DESCRIBED else None
        spec.components.schema(name, component=said, schema=schema)
    for path, operations in _operations(max_page_size).items():
        for operation in operations.values():
            # Any path may answer these; each operation says so.
            said = operation["responses"]
            said.update({status: answer for status, answer in COMMON.items() if status not in said})
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    _where_home_comes_from(document["components"]["schemas"]["MatchRequest"], geocoding)
    return document


def _where_home_comes_from(member_schema: dict, geocoding: bool) -> None:
    """A member needs `home`, or `address` when this app has a street geocoder to place it."""
    if geocoding:
        member_schema["anyOf"] = [{"required": ["home"]}, {"required": ["address"]}]
    else:
        member_schema["required"] = sorted({*member_schema.get("required", ()), "home"})
