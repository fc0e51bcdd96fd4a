"""Fixtures in layers: roster -> engine (embedded and Elasticsearch) -> app -> client."""

import os
import uuid
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from app import create_app
from app.engines import create_engine
from indexer.pipeline import collect, import_roster
from indexer.records import ImportSummary
from indexer.sources.csv_roster import open_roster

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_ROSTER = ROOT / "fixtures" / "roster.csv"
EDGE_ROSTER = ROOT / "fixtures" / "roster_edge_cases.csv"
ENGINES = ("embedded", "elasticsearch")
ES_URL = os.environ.get("PD_TEST_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
REDIS_URL = os.environ.get("PD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IMPORTER_KEY = "importer-key-0123456789abcdef"
ENROLLMENT_KEY = "enrollment-key-0123456789abcdef"
API_KEYS = f"data-team:importer:{IMPORTER_KEY},member-services:enrollment:{ENROLLMENT_KEY}"
# Every index the tests create starts with this, and is deleted at the end of the session.
TEST_PREFIX = f"pd-test-{uuid.uuid4().hex[:8]}-"


@pytest.fixture(scope="session")
def es_client():
    client = Elasticsearch(ES_URL, request_timeout=30)
    if not client.ping():
        pytest.fail(
            f"no Elasticsearch answers at {ES_URL}: run `make test` (it starts one) or set "
            "PD_TEST_ELASTICSEARCH_URL",
            pytrace=False,
        )
    yield client
    client.indices.delete(index=f"{TEST_PREFIX}*", ignore_unavailable=True)
    client.close()


def engine_config(kind: str, data_dir: Path, prefix: str = TEST_PREFIX) -> dict:
    config = {
        "PD_DATA_DIR": str(data_dir),
        "PD_INDEX_PREFIX": prefix,
        "PD_ES_TIMEOUT": 30.0,
        "PD_RATE_LIMIT": "100000/minute",
        "PD_RATE_LIMIT_STORAGE": "local://",
        "PD_MAX_PAGE_SIZE": 50,
        "PD_API_KEYS": API_KEYS,
        "ELASTICSEARCH_URL": ES_URL if kind == "elasticsearch" else None,
    }
    return config


@pytest.fixture(scope="session")
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(
            f"no Redis answers at {REDIS_URL}: run `make test` (it starts one) or set "
            "PD_TEST_REDIS_URL",
            pytrace=False,
        )
    yield client
    for key in client.scan_iter(f"{TEST_PREFIX}*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def roster_docs() -> list[dict]:
    """The fixture roster as provider documents, built by the import pipeline."""
    summary = ImportSummary(source=str(FIXTURE_ROSTER))
    return list(collect(open_roster(FIXTURE_ROSTER), summary).documents())


@pytest.fixture(scope="session", params=ENGINES)
def engine_kind(request) -> str:
    if request.param == "elasticsearch":
        request.getfixturevalue("es_client")
    return request.param


@pytest.fixture(scope="session")
def directory_config(engine_kind, tmp_path_factory) -> dict:
    """Configuration of a directory loaded with the fixture roster, on one engine."""
    data_dir = tmp_path_factory.mktemp(f"directory-{engine_kind}")
    config = engine_config(engine_kind, data_dir, prefix=f"{TEST_PREFIX}main-")
    engine = create_engine(config)
    import_roster(engine, FIXTURE_ROSTER)
    engine.close()
    return config


@pytest.fixture(scope="session")
def search_app(directory_config):
    return create_app(directory_config)


@pytest.fixture
def client(search_app):
    return search_app.test_client()


@pytest.fixture
def fresh_config(engine_kind, tmp_path) -> dict:
    """An empty directory of its own on one engine, for tests that import and break things."""
    return engine_config(engine_kind, tmp_path, prefix=f"{TEST_PREFIX}{uuid.uuid4().hex[:6]}-")


@pytest.fixture
def fresh_engine(fresh_config):
    engine = create_engine(fresh_config)
    yield engine
    engine.close()
