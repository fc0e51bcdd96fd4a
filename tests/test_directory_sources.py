"""Directory sources without plans (NPPES, CMS, facility lists) beside plan rosters, on both
engines: listings without plans, one location per place, every NUCC code and kind of provider,
languages as BCP-47 tags, and accepting status `unknown` when a roster does not say."""

import csv

import pytest

from app import create_app
from app.vocab.npi import make_npi
from indexer.pipeline import import_roster
from tests.api_calls import npis, search

NPI_NGUYEN = make_npi("123456701")
NPI_CLINIC = make_npi("123456702")
NPI_WONG = make_npi("123456703")
NPI_CHAN = make_npi("123456704")
NPI_PARK = make_npi("123456705")

# What a national file gives: no plans, 9-digit ZIPs, phones with extensions, every NUCC code.
DIRECTORY_ROWS = [
    {
        "npi": NPI_NGUYEN,
        "first_name": "Linh",
        "last_name": "Nguyen",
        "taxonomy_codes": "363LF0000X",
        "languages": "Vietnamese|English",
        "address": "115 MALL DRIVE",
        "city": "LOS ANGELES",
        "state": "CA",
        "zip": "900121208",
        "phone": "2135550100 ext. 214",
    },
    {
        # The same place spelt the other way round: one location, with a warning.
        "npi": NPI_NGUYEN,
        "first_name": "Linh",
        "last_name": "Nguyen",
        "taxonomy_codes": "363LF0000X",
        "address": "115 Mall Dr.",
        "city": "Los Angeles",
        "state": "CA",
        "zip": "90012",
        "location_id": "DAC-2",
    },
    {
        "npi": NPI_CLINIC,
        "organization_name": "Boyle Heights Community Clinic",
        "taxonomy_codes": "261QF0400X",
        "address": "1800 E 1st St",
        "zip": "90033",
        "phone": "(323) 555-0142",
    },
    {
        "npi": NPI_WONG,
        "first_name": "Karen",
        "last_name": "Wong",
        "taxonomy_codes": "1223G0001X",
        "languages": "Cantonese|English",
        "address": "800 N Broadway",
        "zip": "90012",
    },
    {
        "npi": NPI_CHAN,
        "first_name": "David",
        "last_name": "Chan",
        "taxonomy_codes": "207R00000X",
        "languages": "cmn|en",
        "address": "727 N Broadway",
        "zip": "90012",
    },
    {
        "npi": NPI_PARK,
        "first_name": "Min",
        "last_name": "Park",
        "taxonomy_codes": "207QX9999X",  # not in NUCC: kept, searchable as written
        "languages": "ASL",
        "address": "3055 Wilshire Blvd",
        "zip": "90010",
    },
]

# The plan's roster of Dr Nguyen, at the same place under its own location id and spelling.
PLAN_ROWS = [
    {
        "npi": NPI_NGUYEN,
        "first_name": "Linh",
        "last_name": "Nguyen",
        "taxonomy_codes": "363LF0000X",
        "location_id": "SUNRISE-LOC-9",
        "location_name": "Chinatown Family Care",
        "address": "115 Mall Drive",
        "zip": "90012",
        "plan": "sunrise-medi-cal",
        "plan_name": "Sunrise Health Medi-Cal",
        "line_of_business": "medi-cal",
        "plan_provider_id": "SNR-1001",
        "accepting_new_patients": "accepting",
        "last_updated": "2026-11-01",
    },
    {
        # No accepting status given: unknown, never a made-up "accepting".
        "npi": NPI_CHAN,
        "first_name": "David",
        "last_name": "Chan",
        "taxonomy_codes": "207R00000X",
        "location_id": "SUNRISE-LOC-12",
        "address": "727 North Broadway",
        "zip": "90012",
        "plan": "sunrise-medi-cal",
        "line_of_business": "medi-cal",
        "plan_provider_id": "SNR-1002",
    },
]


def write_csv(path, rows) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def sources_client(fresh_engine, fresh_config, tmp_path):
    directory, plans = tmp_path / "directory.csv", tmp_path / "plans.csv"
    write_csv(directory, DIRECTORY_ROWS)
    write_csv(plans, PLAN_ROWS)
    sources = tmp_path / "sources"
    first = import_roster(fresh_engine, directory, source="nppes", sources_dir=sources)
    second = import_roster(fresh_engine, plans, source="sunrise", sources_dir=sources)
    return create_app(fresh_config).test_client(), first, second


def test_rows_without_plans_are_listings(sources_client):
    client, first, _second = sources_client
    assert (first.rows_read, first.rows_imported, first.rows_rejected) == (6, 6, 0)
    everyone = search(client)
    assert npis(everyone) == {NPI_NGUYEN, NPI_CLINIC, NPI_WONG, NPI_CHAN, NPI_PARK}
    clinic = next(r for r in everyone["results"] if r["npi"] == NPI_CLINIC)
    assert clinic["locations"][0]["plans"] == []
    # A plan filter finds only who takes the plan.
    assert npis(search(client, plan="sunrise-medi-cal")) == {NPI_NGUYEN, NPI_CHAN}


def test_one_place_spelt_two_ways_is_one_location_with_a_warning(sources_client):
    _client, first, _second = sources_client
    (merged,) = [w for w in first.warnings if w.field == "address"]
    assert "same place" in merged.reason and merged.line == 3
    assert first.rows_with_warnings == 2  # and the unknown NUCC code


def test_a_plan_roster_adds_its_plans_to_the_listing_of_the_same_place(sources_client):
    client, _first, second = sources_client
    assert second.rows_rejected == 0
    (nguyen,) = search(client, q="Nguyen")["results"]
    (location,) = nguyen["locations"]
    assert location["location_id"] == "SUNRISE-LOC-9"
    assert location["name"] == "Chinatown Family Care"
    assert [(p["plan"], p["plan_provider_id"]) for p in location["plans"]] == [
        ("sunrise-medi-cal", "SNR-1001")
    ]


def test_zip_plus_four_and_phone_extension_are_kept(sources_client):
    client, _first, _second = sources_client
    (nguyen,) = search(client, q="Nguyen")["results"]
    (location,) = nguyen["locations"]
    # The plan roster's record of the place leads; what it leaves out, the national file gives.
    assert (location["zip"], location["zip4"]) == ("90012", "1208")
    assert (location["phone"], location["phone_extension"]) == ("(213) 555-0100", "214")
    assert nguyen["languages"] == ["vi", "en"]
    doc = client.get(f"/v1/providers/{NPI_CLINIC}").json
    assert doc["locations"][0]["phone"] == "(323) 555-0142"
    assert doc["locations"][0]["phone_extension"] is None


def test_accepting_unknown_is_its_own_value(sources_client):
    client, _first, second = sources_client
    assert not [e for e in second.errors if e.field == "accepting_new_patients"]
    body = search(client, accepting_new_patients="unknown")
    assert npis(body) == {NPI_CHAN}
    assert npis(search(client, accepting_new_patients="accepting")) == {NPI_NGUYEN}
    counts = search(client, plan="sunrise-medi-cal")["facets"]["accepting_new_patients"]
    assert {f["value"]: f["count"] for f in counts} == {"accepting": 1, "unknown": 1}


def test_kinds_of_provider_come_from_the_nucc_code(sources_client):
    client, _first, _second = sources_client
    assert npis(search(client, type="clinic")) == {NPI_CLINIC}
    wong = client.get(f"/v1/providers/{NPI_WONG}").json
    assert wong["entity_type"] == "practitioner"
    assert wong["specialties"][0]["display"] == "General Dentist"


def test_languages_are_bcp47_and_chinese_finds_cantonese_and_mandarin(sources_client):
    client, _first, _second = sources_client
    assert npis(search(client, language="zh")) == {NPI_WONG, NPI_CHAN}
    assert npis(search(client, language="Cantonese")) == {NPI_WONG}
    assert npis(search(client, language="cmn")) == {NPI_CHAN}
    assert npis(search(client, language="ase")) == {NPI_PARK}
    assert client.get(f"/v1/providers/{NPI_WONG}").json["languages"] == ["yue", "en"]


def test_a_code_nucc_does_not_have_is_kept_and_searchable(sources_client):
    client, first, _second = sources_client
    (unknown,) = [w for w in first.warnings if w.field == "taxonomy_codes"]
    assert unknown.value == "207QX9999X"
    (park,) = search(client, q="207QX9999X")["results"]
    assert park["npi"] == NPI_PARK
    assert park["specialties"][0]["display"] == "Unknown specialty 207QX9999X"


def test_merged_records_fill_only_what_is_missing():
    from indexer.documents import build_documents

    common = {"npi": NPI_PARK, "last_name": "Park", "location_id": "L1", "zip": "90010"}
    common.update(latitude=34.06, longitude=-118.3, taxonomy_codes=["208000000X"])
    newest = {**common, "plan": "p", "last_updated": "2026-11-02", "age_min": 0, "languages": []}
    older = {**common, "plan": "", "last_updated": "2026-01-01", "age_min": 18}
    older.update(languages=["ko"], phone="(213) 555-0100", line_of_business="commercial")
    newest.update(line_of_business="medi-cal", plan_provider_id="P1")
    newest["accepting_new_patients"] = "accepting"
    (doc,) = build_documents([newest, older])
    assert doc["age_min"] == 0  # a value, though it is falsy
    assert doc["languages"] == ["ko"]
    assert doc["locations"][0]["phone"] == "(213) 555-0100"


def test_the_page_shows_listings_without_plans_and_unknown_status(sources_client):
    client, _first, _second = sources_client
    clinic = client.get(f"/providers/{NPI_CLINIC}?lang=en").get_data(as_text=True)
    assert "No health plan information here" in clinic
    chan = client.get(f"/providers/{NPI_CHAN}?lang=en").get_data(as_text=True)
    assert "Accepting new patients: not known" in chan
    assert "SNR-1002" in chan
    nguyen = client.get(f"/providers/{NPI_NGUYEN}?lang=es").get_data(as_text=True)
    assert 'href="tel:+12135550100;ext=214"' in nguyen and "ext. 214" in nguyen
    assert "Vietnamita" in nguyen
    wong = client.get(f"/providers/{NPI_WONG}?lang=es").get_data(as_text=True)
    assert "Cantonés" in wong and "Dentista general" in wong
