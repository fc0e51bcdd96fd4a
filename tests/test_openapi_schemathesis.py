"""Schemathesis against the served OpenAPI document: every operation, every check, both engines.

Requests the document allows must be answered as it says; requests it forbids must be refused.
Seeded and bounded, so a run is the same every time.
"""

import tempfile

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from app import create_app
from indexer.pipeline import import_roster
from tests.conftest import FIXTURE_ROSTER, TEST_PREFIX, engine_config

ADMIN_KEY = "admin-key-0123456789abcdef0123"
SEED = 20261202
MAX_EXAMPLES = 20


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


CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "checks": {"enabled": True},
        "auth": {"openapi": {"apiKey": {"bearer": ADMIN_KEY}}},
    }
)
# The document as the app serves it; it depends on no directory, so an app over an empty one
# serves it at collection time, and each test sends its requests to the app over the roster.
DOCUMENT_APP = create_app(engine_config("embedded", tempfile.mkdtemp(prefix="pd-openapi-")))
schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", DOCUMENT_APP, config=CONFIG)


def test_the_app_under_test_serves_the_same_document(contract_app):
    assert contract_app.test_client().get("/v1/openapi.json").json == schema.raw_schema


@schema.parametrize()
def test_the_api_does_what_its_document_says(case, contract_app):
    case.call_and_validate(app=contract_app)
