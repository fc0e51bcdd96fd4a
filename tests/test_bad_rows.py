"""A realistic roster with 5% bad rows of many kinds: a bad key value keeps its row out, a bad
optional value is a warning and the row goes in without it; each with the right reason, and
nothing else changed."""

import csv
import random

from app.search.query import SearchQuery
from indexer.pipeline import import_roster
from tests.conftest import FIXTURE_ROSTER

ERROR, WARNING = "error", "warning"
# (column, bad value, words the reason must contain, severity). Rows broken in their ZIP lose their
# coordinates too, or the coordinates would place them.
DEFECTS = [
    ("npi", "123456789", "10 digits", ERROR),
    ("taxonomy_codes", "999999999X", "not a nucc", WARNING),
    ("npi", "12345678x0", "10 digits", ERROR),
    ("zip", "ABCDE", "not a zip code", ERROR),
    ("latitude", "95.5", "less than or equal to 90", WARNING),
    ("zip", "90000", "unknown zip code; placed at the centre of", WARNING),
    ("accepting_new_patients", "perhaps", "expected one of", WARNING),
    ("line_of_business", "medicaid", "expected one of", WARNING),
    ("plan_provider_id", "", "no provider id", WARNING),
    ("plan", "Not A Plan", "plan code", WARNING),
    ("languages", "en|xx-klingonish", "unknown language", WARNING),
    ("telehealth", "maybe", "expected y or n", WARNING),
    ("panel_capacity", "-5", "greater than or equal", WARNING),
    ("last_verified", "2026-13-01", "not a valid date", WARNING),
    ("gender", "other", "expected one of", WARNING),
    ("phone", "555-01", "10 digits", WARNING),
    ("phone", "2.13555E+09", "spreadsheet", WARNING),
    ("age_min", "200", "less than or equal to 120", WARNING),
]


def corrupt(source, target, share=0.05, seed=5):
    """Copy the roster, breaking `share` of its rows with one defect each; returns
    {line: (column, reason words, severity)} for the broken ones, and the rows."""
    rng = random.Random(seed)
    broken = {}
    with open(source, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        fields = reader.fieldnames
    for index, row in enumerate(rows):
        if rng.random() < share:
            column, value, words, severity = DEFECTS[len(broken) % len(DEFECTS)]
            row[column] = value
            if column == "latitude":
                row["longitude"] = row["longitude"] or "-118.2"
            if column == "zip":
                row["latitude"] = row["longitude"] = ""
            broken[index + 2] = (column, words, severity)
    write_rows(target, fields, rows)
    return broken, rows


def write_rows(path, fields, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


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
    assert set(by_line) == set(broken), "exactly the broken rows are reported"
    for line, (column, words, severity) in broken.items():
        (error,) = by_line[line]
        assert (error.field, error.severity) == (column, severity), (line, error)
        assert words in error.reason.lower(), (line, error)
    rejected = {line for line, (_, _, severity) in broken.items() if severity == ERROR}
    assert summary.rows_rejected == len(rejected) > 0
    assert summary.rows_with_warnings == len(broken) - len(rejected)
    assert summary.rows_imported == len(rows) - len(rejected)
    # Nothing else changed: the directory equals an import of the good rows with the values that
    # were warned about blanked, as the import left them out.
    clean_rows = []
    for line, row in enumerate(rows, start=2):
        if line in rejected:
            continue
        column = broken.get(line, (None,))[0]
        if column not in (None, "taxonomy_codes", "zip"):
            row = {**row, column: ""}
            if column == "languages":
                row[column] = "en"
        clean_rows.append(row)
    clean = tmp_path / "clean.csv"
    write_rows(clean, list(rows[0]), clean_rows)
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
