"""A roster row loaded column by column, remembered by value, is the row loaded whole."""

import csv
import random

from marshmallow import ValidationError

from indexer.validate import ROSTER_COLUMNS, RosterRowSchema, load_row
from tests.conftest import EDGE_ROSTER, FIXTURE_ROSTER

# Values that break one column each, optional and key columns alike.
BAD_VALUES = {
    "npi": "1234567890",
    "gender": "sometimes",
    "age_min": "old",
    "age_max": "200",
    "state": "California",
    "latitude": "95",
    "longitude": "west",
    "phone_extension": "ext",
    "accessibility": "wheelchair|stairs-only",
    "telehealth": "maybe",
    "plan": "Not A Code",
    "line_of_business": "barter",
    "accepting_new_patients": "perhaps",
    "panel_capacity": "-3",
    "last_verified": "last tuesday",
    "location_id": "x" * 81,
}


def whole_load(raw: dict) -> tuple[dict | None, set[str]]:
    """The row through the whole schema: (record or None, columns with a problem)."""
    try:
        record = RosterRowSchema().load(raw)
    except ValidationError as exc:
        return None, set(exc.messages)
    return record, {name for _, name, _, _ in record.pop("_notes")}


def rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_good_row_loads_as_the_whole_schema_loads_it():
    for raw in rows(FIXTURE_ROSTER)[:400] + rows(EDGE_ROSTER):
        expected, flagged = whole_load(raw)
        record, problems = load_row(2, raw)
        if expected is None or any(p.severity == "error" for p in problems):
            continue
        assert record == expected
        assert {p.field for p in problems} == flagged


def test_a_bad_value_is_reported_and_the_rest_of_the_row_is_as_loaded_whole():
    rng = random.Random(7)
    fixture = rows(FIXTURE_ROSTER)
    for _ in range(200):
        raw = dict(rng.choice(fixture))
        column = rng.choice(sorted(BAD_VALUES))
        raw[column] = BAD_VALUES[column]
        record, problems = load_row(5, raw)
        assert column in {p.field for p in problems}, column
        assert all(p.line == 5 for p in problems)
        if column in ("npi",):
            assert record is None
            continue
        assert record is not None, (column, problems)
        # The same row without the bad value, loaded whole, is the record that went in.
        without = {k: v for k, v in raw.items() if k != column}
        if column in ("latitude", "longitude"):
            without.pop("latitude", None)
            without.pop("longitude", None)
        expected, _ = whole_load(without)
        assert record == expected


def test_rows_that_share_values_get_records_of_their_own():
    raw = rows(FIXTURE_ROSTER)[0]
    first, _ = load_row(2, raw)
    first["languages"].append("xx")
    first["taxonomy_codes"].clear()
    first["accessibility"].append("nothing")
    second, _ = load_row(3, raw)
    assert second == load_row(4, dict(raw))[0]
    assert "xx" not in second["languages"] and second["taxonomy_codes"]
    assert "nothing" not in second["accessibility"]


def test_every_roster_column_is_loaded():
    from indexer.validate import _COLUMNS

    assert tuple(c.name for c in _COLUMNS) == ROSTER_COLUMNS


def test_a_number_and_its_text_are_told_apart():
    base = {"npi": "1234567893", "first_name": "Ana", "last_name": "Ruiz", "zip": "90012"}
    # Equal as keys, not always as values: each loads as the whole schema loads it, in any order.
    for column, values in (("telehealth", ("1", 1, True, 1.0)), ("age_min", (1, 1.0, True, "1"))):
        for value in values:
            record, problems = load_row(2, {**base, column: value})
            expected, flagged = whole_load({**base, column: value})
            if expected is None:  # the whole schema refuses it: loaded without it
                expected, _ = whole_load(base)
                flagged = {column}
            assert (record, {p.field for p in problems} & {column}) == (
                expected,
                flagged & {column},
            ), (column, value)
