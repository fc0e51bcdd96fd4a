"""A realistic roster with 5% bad rows of many kinds: every good row in, every bad row out once,
with the right reason, and nothing else changed."""

import csv
import random

from app.search.query import SearchQuery
from indexer.pipeline import import_roster
from tests.conftest import FIXTURE_ROSTER

# (column, bad value, words the reason must contain)
DEFECTS = [
    ("npi", "123456789", "10 digits"),
    ("npi", "12345678x0", "10 digits"),
    ("taxonomy_codes", "999999999X", "unknown nucc"),
    ("zip", "9001", "5-digit"),
    ("zip", "00000", "unknown zip"),
    ("latitude", "95.5", "less than or equal to 90"),
    ("accepting_new_patients", "perhaps", "expected one of"),
    ("line_of_business", "medicaid", "expected one of"),
    ("plan_provider_id", "", "missing data"),
    ("plan", "Not A Plan", "plan code"),
    ("languages", "en|xx-klingonish", "unknown language"),
    ("telehealth", "maybe", "expected y or n"),
    ("panel_capacity", "-5", "greater than or equal"),
    ("last_verified", "2026-13-01", "not a valid date"),
    ("gender", "other", "expected one of"),
    ("phone", "555-01", "10 digits"),
    ("age_min", "200", "less than or equal to 120"),
]


def corrupt(source, target, share=0.05, seed=5):
    """Copy the roster, breaking `share` of its rows with one defect each; returns
    {line: (column, reason words)} for the broken ones."""
    rng = random.Random(seed)
    broken = {}
    with open(source, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        fields = reader.fieldnames
    for index, row in enumerate(rows):
        if rng.random() < share:
            column, value, words = DEFECTS[len(broken) % len(DEFECTS)]
            row[column] = value
            if column == "latitude":
                row["longitude"] = row["longitude"] or "-118.2"
            broken[index + 2] = (column, words)
    with open(target, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return broken, rows


def listing(engine):
    result = engine.search(SearchQuery(limit=5000, facets=()))
    return {h.doc["npi"]: h.doc for h in result.hits}


def test_five_percent_bad_rows(fresh_engine, fresh_config, tmp_path):
    roster = tmp_path / "roster.csv"
    broken, rows = corrupt(FIXTURE_ROSTER, roster)
    assert 300 <= len(broken) <= 420
    summary = import_roster(fresh_engine, roster)
    by_line: dict[int, list] = {}
    for error in summary.errors:
        by_line.setdefault(error.line, []).append(error)
    assert set(by_line) == set(broken), "exactly the broken rows are rejected"
    for line, (column, words) in broken.items():
        (error,) = by_line[line]
        assert error.field == column, (line, error)
        assert words in error.reason.lower(), (line, error)
    assert summary.rows_rejected == len(broken)
    assert summary.rows_imported == len(rows) - len(broken)
    # Nothing else changed: the directory equals an import of the good rows alone.
    clean = tmp_path / "clean.csv"
    with open(roster, newline="", encoding="utf-8") as fh, open(clean, "w", newline="") as out:
        reader = csv.DictReader(fh)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        for line, row in enumerate(reader, start=2):
            if line not in broken:
                writer.writerow(row)
    from app.engines import create_engine

    expected_engine = create_engine(
        {
            **fresh_config,
            "PD_DATA_DIR": str(tmp_path / "clean-dir"),
            "PD_INDEX_PREFIX": fresh_config["PD_INDEX_PREFIX"] + "clean-",
        }
    )
    expected = import_roster(expected_engine, clean)
    assert expected.rows_rejected == 0
    assert listing(fresh_engine) == listing(expected_engine)
    expected_engine.close()
