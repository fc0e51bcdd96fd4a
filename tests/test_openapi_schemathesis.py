"""Schemathesis against the served OpenAPI document: every operation, every check, both engines.

Requests the document allows must be answered as it says; requests it forbids must be refused.
Seeded and bounded, so a run is the same every time.

Some values are valid only when they name something that exists, which a schema cannot state;
the document gives them a `format` (see its description), and values of those formats are drawn
here from what exists: NPIs with a right check digit, ZIP codes of the USPS list, languages. Two
more come from the server or the fixtures: a page cursor (the `next_cursor` of the same search)
and the rows of an adequacy member file.
"""

import csv
import tempfile

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from app import create_app
from app.api.uploads import UPLOAD_TYPES
from app.vocab import languages
from app.vocab.npi import make_npi
from app.vocab.places import zip_place
from indexer.pipeline import import_roster
from tests.conftest import FIXTURE_ROSTER, TEST_PREFIX, engine_config

ADMIN_KEY = "admin-key-0123456789abcdef0123"
SEED = 20261202
MAX_EXAMPLES = 20


def _roster_column(name: str) -> list[str]:
    with FIXTURE_ROSTER.open(encoding="utf-8", newline="") as fh:
        return sorted({v for row in csv.DictReader(fh) for v in row[name].split("|") if v})


KNOWN_ZIPS = [z for z in _roster_column("zip") if getattr(zip_place(z), "lat", None) is not None]
LANGUAGES = [
    *_roster_column("languages"),
    "Spanish",
    "español",
    "Cantonese",
    "chino",
    "es-MX",
]
assert all(languages.to_tag(value) for value in LANGUAGES)
ZIP_CODES = st.sampled_from(KNOWN_ZIPS)
LAT_LON = st.tuples(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)).map(
    lambda point: f"{point[0]:.5f},{point[1]:.5f}"
)
schemathesis.openapi.format("npi", st.from_regex(r"\A[0-9]{9}\Z").map(make_npi))
schemathesis.openapi.format("zip-code", ZIP_CODES)
schemathesis.openapi.format("place", st.one_of(ZIP_CODES, LAT_LON))
schemathesis.openapi.format("language", st.sampled_from(LANGUAGES))
TABULAR_TYPES = (UPLOAD_TYPES[".csv"], UPLOAD_TYPES[".xlsx"])
MEMBER_FILE = "home,member_id\n" + "".join(f"{z},m{i}\n" for i, z in enumerate(KNOWN_ZIPS[:5]))


@pytest.fixture(scope="module")
def contract_app(engine_kind, tmp_path_factory):
    """An app over the fixture roster in a directory of its own (imports may replace it), jobs on
    a thread (no broker)."""
    from app.engines import create_engine

    data_dir = tmp_path_factory.mktemp(f"schemathesis-{engine_kind}")
    config = engine_config(engine_kind, data_dir, prefix=f"{TEST_PREFIX}st-")
    config.update(
        PD_API_KEYS=f"contract:admin:{ADMIN_KEY}",
        PD_BROKER_URL=None,
        PD_REDIS_URL=None,
        PD_MAX_UPLOAD_BYTES=256 * 1024,
    )
    engine = create_engine(config)
    import_roster(engine, FIXTURE_ROSTER)
    engine.close()
    return create_app(config)


def _config(coverage: bool) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": True},
            },
            "checks": {"enabled": True},
            "auth": {"openapi": {"apiKey": {"bearer": ADMIN_KEY}}},
        }
    )


# The document as the app serves it; it depends on no directory, so an app over an empty one
# serves it at collection time, and each test sends its requests to the app over the roster.
DOCUMENT_APP = create_app(engine_config("embedded", tempfile.mkdtemp(prefix="pd-openapi-")))
# The embedded engine answers every case the coverage phase makes (every boundary and every
# violation of each parameter); Elasticsearch, many times slower per search, answers the examples
# and the seeded fuzzing, with the same checks.
schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", DOCUMENT_APP, config=_config(True))
fuzzed = schemathesis.openapi.from_wsgi("/v1/openapi.json", DOCUMENT_APP, config=_config(False))


def test_the_app_under_test_serves_the_same_document(contract_app):
    assert contract_app.test_client().get("/v1/openapi.json").json == schema.raw_schema


def with_values_from_the_server(case, app) -> None:
    """A valid request's cursor is the one the server issues for the same search, and its
    adequacy member file has rows of known homes."""
    modes = [case.meta.generation.mode, *(c.mode for c in case.meta.components.values())]
    if not all(mode.is_positive for mode in modes):
        return
    if case.operation.path == "/v1/providers" and "cursor" in (case.query or {}):
        search = {name: value for name, value in case.query.items() if name != "cursor"}
        first = app.test_client().get("/v1/providers", query_string=search)
        if first.status_code == 200:
            case.query["cursor"] = first.json["next_cursor"] or ""
    form = case.body if isinstance(case.body, dict) else {}
    if case.operation.path == "/v1/adequacy" and "file" in form:
        form["file"] = MEMBER_FILE.encode()
    # Several files make one import only as Plan-Net; a CSV or Excel roster comes alone.
    tabular = (case.multipart_content_types or {}).get("file") in TABULAR_TYPES
    if case.operation.path == "/v1/imports" and tabular and isinstance(form.get("file"), list):
        form["file"] = form["file"][:1]


@schema.parametrize()
@pytest.mark.parametrize("engine_kind", ["embedded"], indirect=True)
def test_the_api_does_what_its_document_says(case, contract_app):
    with_values_from_the_server(case, contract_app)
    case.call_and_validate(app=contract_app)


@fuzzed.parametrize()
@pytest.mark.parametrize("engine_kind", ["elasticsearch"], indirect=True)
def test_the_api_on_elasticsearch_does_what_its_document_says(case, contract_app):
    with_values_from_the_server(case, contract_app)
    case.call_and_validate(app=contract_app)
