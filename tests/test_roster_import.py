"""Roster rows in: every good row imported, every bad row reported with line, field and reason."""

import codecs
import csv
import io
import json

import pytest

from indexer.documents import build_documents
from indexer.pipeline import collect, write_rejects
from indexer.records import ImportSummary
from indexer.sources.csv_roster import RosterFormatError, open_roster, read_rows
from tests.conftest import EDGE_ROSTER, FIXTURE_ROSTER

EXPECTED = json.loads(EDGE_ROSTER.with_suffix(".expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def edge_import() -> tuple[ImportSummary, list[dict]]:
    summary = ImportSummary(source=str(EDGE_ROSTER))
    builder = collect(open_roster(EDGE_ROSTER), summary)
    return summary, list(builder.documents())


def _reported(summary: ImportSummary, severity: str) -> dict:
    return {(e.line, e.field): e for e in summary.errors if e.severity == severity}


def test_every_bad_key_rejects_its_row_with_line_field_and_reason(edge_import):
    summary, _docs = edge_import
    reported = _reported(summary, "error")
    for expected in EXPECTED["rejected"]:
        key = (expected["line"], expected["field"])
        assert key in reported, f"line {key[0]} ({expected['why']}) was not rejected on {key[1]}"
        assert expected["reason_contains"] in reported[key].reason.lower(), reported[key]
    # Nothing else was rejected, and each bad row counts once.
    assert {line for line, _ in reported} == {e["line"] for e in EXPECTED["rejected"]}
    assert summary.rows_rejected == len(EXPECTED["rejected"])


def test_a_bad_optional_value_is_a_warning_and_the_row_goes_in(edge_import):
    summary, docs = edge_import
    reported = _reported(summary, "warning")
    for expected in EXPECTED["warned"]:
        key = (expected["line"], expected["field"])
        assert key in reported, f"line {key[0]} ({expected['why']}) was not warned on {key[1]}"
        assert expected["reason_contains"] in reported[key].reason.lower(), reported[key]
    assert {line for line, _ in reported} == {e["line"] for e in EXPECTED["warned"]}
    assert summary.rows_with_warnings == EXPECTED["rows_with_warnings"]
    assert not {line for line, _ in reported} & {e["line"] for e in EXPECTED["rejected"]}
    # The value is left out, the rest of the row is there: line 38's gender, line 23's status.
    by_npi = {d["npi"]: d for d in docs}
    raw = {line: row for line, row in open_roster(EDGE_ROSTER)}
    assert by_npi[raw[38]["npi"]]["gender"] is None
    status = raw[23]["plan"]
    plans = [p for loc in by_npi[raw[23]["npi"]]["locations"] for p in loc["plans"]]
    assert {p["accepting"] for p in plans if p["plan"] == status} == {"unknown"}


def test_every_good_row_is_imported(edge_import):
    summary, docs = edge_import
    assert summary.rows_imported == EXPECTED["imported_rows"]
    assert summary.rows_read == EXPECTED["imported_rows"] + len(EXPECTED["rejected"])
    assert sorted(d["npi"] for d in docs) == sorted(EXPECTED["imported_npis"])


def test_values_are_normalised(edge_import):
    _summary, docs = edge_import
    nunez = next(d for d in docs if d["name"]["last"] == "Núñez")
    assert nunez["locations"][0]["zip"].isdigit() and len(nunez["locations"][0]["zip"]) == 5
    statuses = {p["accepting"] for d in docs for loc in d["locations"] for p in loc["plans"]}
    assert statuses <= {"accepting", "not_accepting", "existing_only", "existing_family", "unknown"}
    genders = {d["gender"] for d in docs}
    assert genders <= {"female", "male", "nonbinary", None}
    for doc in docs:
        assert all(len(tag) in (2, 3) and tag.islower() for tag in doc["languages"])
        for location in doc["locations"]:
            assert -90 <= location["lat"] <= 90 and location["city"]


def test_blank_coordinates_come_from_the_zip_centroid(edge_import):
    _summary, docs = edge_import
    sources = {loc["geo_source"] for d in docs for loc in d["locations"]}
    assert sources == {"zip", "roster", "city"}  # city: line 18's ZIP does not exist


def test_rejected_rows_csv_escapes_formulas(tmp_path):
    from indexer.records import RowError

    errors = [
        RowError(3, "last_name", '=HYPERLINK("x")', "bad"),
        RowError(4, "phone", "2.12689E+12", "lost digits", "warning"),
    ]
    path = tmp_path / "rejects.csv"
    assert write_rejects(errors, path) == 2
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["line", "field", "value", "reason", "severity"]
    assert rows[1] == ["3", "last_name", '\'=HYPERLINK("x")', "bad", "error"]
    assert rows[2] == ["4", "phone", "2.12689E+12", "lost digits", "warning"]


def test_fixture_roster_imports_without_rejections():
    summary = ImportSummary(source=str(FIXTURE_ROSTER))
    builder = collect(open_roster(FIXTURE_ROSTER), summary)
    assert summary.rows_rejected == 0, summary.errors[:5]
    assert 2800 <= builder.location_count <= 3200
    docs = list(builder.documents())
    pcp_locations = sum(len(d["locations"]) for d in docs if d["pcp"])
    assert 0.35 <= pcp_locations / builder.location_count <= 0.5


def test_duplicate_rows_are_rejected_as_duplicates():
    header = "npi,first_name,last_name,taxonomy_codes,location_id,zip,plan,line_of_business,"
    header += "plan_provider_id,accepting_new_patients\n"
    row = "1234567893,Ana,Ruiz,207Q00000X,L1,90012,sunrise-medi-cal,medi-cal,S1,accepting\n"
    summary = ImportSummary(source="memory")
    builder = collect(read_rows(io.StringIO(header + row + row)), summary)
    assert len(builder) == 1
    assert [(e.line, e.field) for e in summary.errors] == [(3, "plan")]
    assert "duplicate of line 2" in summary.errors[0].reason


def test_a_roster_missing_required_columns_is_refused_before_any_row():
    with pytest.raises(RosterFormatError, match="zip"):
        list(
            read_rows(
                io.StringIO(
                    "npi,taxonomy_codes,location_id,plan,line_of_business,"
                    "accepting_new_patients\n1234567893,x,y,p,l,a\n"
                )
            )
        )


def test_records_group_into_providers_and_locations():
    base = {
        "npi": "1234567893",
        "first_name": "Ana",
        "last_name": "Ruiz",
        "entity_type": "practitioner",
        "taxonomy_codes": ["207Q00000X"],
        "location_id": "L1",
        "zip": "90012",
        "city": "LA",
        "latitude": 34.0,
        "longitude": -118.2,
        "line_of_business": "medi-cal",
        "plan_provider_id": "S1",
        "accepting_new_patients": "accepting",
    }
    (doc,) = build_documents(
        [
            {**base, "line": 2, "plan": "b-plan"},
            {**base, "line": 3, "plan": "a-plan"},
            {**base, "line": 4, "plan": "a-plan", "location_id": "L0"},
        ]
    )
    assert [loc["location_id"] for loc in doc["locations"]] == ["L0", "L1"]
    assert [p["plan"] for p in doc["locations"][1]["plans"]] == ["a-plan", "b-plan"]
    assert doc["pcp"] is True and doc["pcp_type"] == "family"
    assert "family" in doc["search_text"].split() and "ruiz" in doc["search_text"].split()


def test_a_configured_street_geocoder_places_rows_without_coordinates():
    from indexer.enrich import enrich
    from indexer.geocode import street_geocoder

    asked = []

    def locate(address):
        asked.append(address)
        return (34.1, -118.3) if "Sunset" in address else None

    found = {"line": 2, "zip": "90028", "state": "CA", "address": "6200 Sunset Blvd"}
    missing = {"line": 3, "zip": "90028", "state": "CA", "address": "1 Nowhere St"}
    assert enrich(found, locate) == [] and enrich(missing, locate) == []
    assert (found["latitude"], found["longitude"], found["geo_source"]) == (
        34.1,
        -118.3,
        "geocoder",
    )
    assert missing["geo_source"] == "zip" and missing["city"] == "Los Angeles"
    assert asked[0] == "6200 Sunset Blvd, Los Angeles, CA 90028"
    assert street_geocoder(None) is None
    assert callable(street_geocoder("nominatim", user_agent="provider-directory-tests"))


def _placed(**row) -> tuple[dict | None, list]:
    from indexer.enrich import enrich
    from indexer.validate import load_row

    base = {"npi": "1234567893", "first_name": "Ana", "last_name": "Ruiz"}
    base.update(taxonomy_codes="207Q00000X", **row)
    record, problems = load_row(2, base)
    if record is None:
        return None, problems
    record["line"] = 2
    problems = problems + enrich(record)
    return (None if any(p.severity == "error" for p in problems) else record), problems


def test_a_zip_the_offline_data_lacks_is_placed_at_its_city():
    # 06012 is a unique ZIP in Hartford that the ZIP data does not carry.
    record, problems = _placed(zip="060125037", city="HARTFORD", state="CT")
    assert record is not None and record["geo_source"] == "city"
    assert abs(record["latitude"] - 41.76) < 0.1 and abs(record["longitude"] + 72.68) < 0.1
    assert [(p.severity, p.field) for p in problems] == [("warning", "zip")]
    assert "centre of HARTFORD, CT" in problems[0].reason
    assert _placed(zip="06012", city="Nowhere", state="CT")[0] is None


def test_a_whole_zip_in_another_state_than_the_row_says_is_trusted_a_padded_one_is_not():
    record, problems = _placed(zip="02878", city="TIVERTON", state="MA")
    assert record is not None and record["geo_source"] == "zip"
    assert "is in RI, not MA" in problems[0].reason and problems[0].severity == "warning"
    # "9001" padded to 09001 is a military ZIP, not Inglewood: without coordinates, no place.
    record, problems = _placed(zip="9001", city="Inglewood", state="CA")
    assert record is None and problems[0].severity == "error"
    record, problems = _placed(zip="9001", state="CA", latitude="33.96", longitude="-118.35")
    assert record is not None and record["geo_source"] == "roster"


def test_a_roster_saved_by_excel_on_windows_is_read(tmp_path):
    """Windows-1252 (`Peña` as the byte 0xF1), as Excel writes "CSV"; UTF-8 with a BOM too."""
    from app.vocab.npi import make_npi

    header = "npi,first_name,last_name,taxonomy_codes,zip\n"
    row = f"{make_npi('987654321')},José,Peña,207Q00000X,90033\n"
    for name, data in (
        ("windows.csv", (header + row).encode("cp1252")),
        ("bom.csv", codecs.BOM_UTF8 + (header + row).encode("utf-8")),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        summary = ImportSummary(source=name)
        (doc,) = collect(open_roster(path), summary).documents()
        assert (doc["name"]["first"], doc["name"]["last"]) == ("José", "Peña"), name


def test_rows_checked_in_parallel_processes_stage_as_rows_checked_here(tmp_path):
    """Chunks checked and sorted in worker processes give the very records, order, counts and
    reasons of the same roster checked in this process: the edge-case rows after enough
    generated ones that several chunks go to workers."""
    from indexer.pipeline import CHECK_CHUNK, staged_records
    from tests.test_imports import write_generated

    roster = tmp_path / "big.csv"
    write_generated(roster, CHECK_CHUNK + 500, seed=13)  # locations: about 2.4 rows each
    lines = roster.read_text(encoding="utf-8").splitlines(keepends=True)
    edge = EDGE_ROSTER.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    edge_rows = list(csv.DictReader(edge))
    with open(roster, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writerows(edge_rows)
    assert sum(1 for _ in open_roster(roster)) > 2 * CHECK_CHUNK

    def staged(workers: int) -> tuple[ImportSummary, list[dict]]:
        summary = ImportSummary(source=str(roster))
        work = tmp_path / f"work-{workers}"
        work.mkdir()
        records = list(staged_records(open_roster(roster), summary, str(work), None, None, workers))
        assert list(work.iterdir()) == []  # every sort run removed
        return summary, records

    here, parallel = staged(1), staged(2)
    assert parallel[1] == here[1]
    assert parallel[0] == here[0]
    assert here[0].rows_rejected > 0 and here[0].rows_with_warnings > 0
