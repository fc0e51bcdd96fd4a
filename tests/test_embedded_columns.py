"""The embedded engine's search columns: stored in the generation's file, kept in step with its
tables, and the spatial runs of a place hold every location within its radius."""

import random
import sqlite3

import numpy as np
import pytest

from app.engines import embedded_columns, embedded_match
from app.engines.embedded import EmbeddedEngine
from app.search.geo import great_circle_miles
from app.search.query import GeoFilter, SearchQuery
from indexer.pipeline import import_roster
from tests.conftest import FIXTURE_ROSTER


@pytest.fixture(scope="module")
def live_file(tmp_path_factory):
    directory = tmp_path_factory.mktemp("columns")
    engine = EmbeddedEngine(directory)
    import_roster(engine, FIXTURE_ROSTER)
    engine.close()
    return engine.live_path


def assert_same(left: embedded_columns.Columns, right: embedded_columns.Columns) -> None:
    assert left.vocab == right.vocab
    arrays = embedded_columns._arrays(left)
    assert arrays.keys() == embedded_columns._arrays(right).keys()
    for name, array in embedded_columns._arrays(right).items():
        assert np.array_equal(arrays[name], array), name


def test_the_published_file_holds_the_columns_of_its_tables(live_file):
    db = sqlite3.connect(live_file)
    stored = embedded_columns.load(db)
    assert_same(stored, embedded_columns.build(db))
    assert stored.locations == db.execute("SELECT COUNT(*) FROM locations").fetchone()[0]
    assert np.all(np.diff(stored.location_key) >= 0)


def test_changes_applied_in_place_rewrite_the_columns(tmp_path):
    engine = EmbeddedEngine(tmp_path)
    import_roster(engine, FIXTURE_ROSTER)
    doc = next(engine.documents())
    before = engine._snapshot().columns_revision
    engine.apply_changes([], [doc["npi"]])
    db = sqlite3.connect(engine.live_path)
    assert_same(embedded_columns.load(db), embedded_columns.build(db))
    assert engine._snapshot().columns_revision != before
    assert engine.get(doc["npi"]) is None
    assert engine.search(SearchQuery(npi=doc["npi"])).total == 0
    engine.close()


def test_a_places_runs_hold_every_location_within_its_radius(live_file):
    columns = embedded_columns.load(sqlite3.connect(live_file))
    db = sqlite3.connect(live_file)
    points = db.execute("SELECT lat, lon FROM locations").fetchall()
    rng = random.Random(7)
    for _ in range(40):
        lat, lon = rng.choice(points)
        # Centres near the edge of a row of the spatial order, and radii from a block to a region.
        lat = round(lat / embedded_columns.ROW_DEGREES) * embedded_columns.ROW_DEGREES
        radius = rng.choice([0.3, 1.0, 5.0, 25.0, 100.0])
        query = SearchQuery(geo=GeoFilter(lat, lon + rng.uniform(-0.05, 0.05), radius))
        starts, lengths = embedded_match._box(columns, query)
        candidates = embedded_columns.spans(starts, lengths)
        _near, inside = embedded_match._nearness(columns, query, candidates)
        found = int(inside.sum())
        miles = [great_circle_miles(query.geo.lat, query.geo.lon, *p) for p in points]
        expected = sum(m <= radius - 1e-6 for m in miles)
        borderline = sum(abs(m - radius) < 1e-6 for m in miles)
        assert expected <= found <= expected + borderline, (query.geo, found, expected)
