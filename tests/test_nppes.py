"""The NPPES Data Dissemination file read through the shipped `nppes` and `nppes-organizations`
layouts: rows written with all 329 columns, in the shapes the real file has."""

import pytest

from indexer.layout import LayoutError, load_layout, read_with_layout
from indexer.pipeline import collect
from indexer.records import ImportSummary, Skipped
from tests.layout_files import NPPES_HEADER, PRACTICE, with_check_digit, write_csv

NUNEZ = with_check_digit("158320417")
OBRIEN = with_check_digit("192804466")
LEFT = with_check_digit("149230776")
BACK = with_check_digit("136477902")
CLINIC = with_check_digit("176004301")
ABROAD = with_check_digit("112233445")
ISLANDS = with_check_digit("155667788")


def taxonomies(*entries: tuple[str, str, str]) -> dict[str, str]:
    """(code, licence, primary switch) for taxonomy 1, 2, ..."""
    cells = {}
    for n, (code, licence, switch) in enumerate(entries, start=1):
        cells[f"Healthcare Provider Taxonomy Code_{n}"] = code
        cells[f"Provider License Number_{n}"] = licence
        cells[f"Provider License Number State Code_{n}"] = "CA" if licence else ""
        cells[f"Healthcare Provider Primary Taxonomy Switch_{n}"] = switch
    return cells


def practice(line1, line2, city, state, postal, phone, country="US") -> dict[str, str]:
    return {
        PRACTICE["line1"]: line1,
        PRACTICE["line2"]: line2,
        PRACTICE["city"]: city,
        PRACTICE["state"]: state,
        PRACTICE["zip"]: postal,
        PRACTICE["country"]: country,
        PRACTICE["phone"]: phone,
        PRACTICE["fax"]: phone[:-1] + "9" if phone else "",
    }


def person(npi, last, first, middle="", credential="M.D.", gender="F") -> dict[str, str]:
    return {
        "NPI": npi,
        "Entity Type Code": "1",
        "Provider Last Name (Legal Name)": last,
        "Provider First Name": first,
        "Provider Middle Name": middle,
        "Provider Credential Text": credential,
        "Provider Gender Code": gender,
        "Provider Enumeration Date": "05/23/2005",
        "Is Sole Proprietor": "N",
        # The mailing address is not where patients go: never read.
        "Provider First Line Business Mailing Address": "PO BOX 1234",
        "Provider Business Mailing Address City Name": "SACRAMENTO",
        "Provider Business Mailing Address State Name": "CA",
        "Provider Business Mailing Address Postal Code": "958121234",
        "Provider Business Mailing Address Country Code (If outside U.S.)": "US",
    }


ROWS = [
    {  # line 2: primary switch on taxonomy 3 of 4; ZIP+4 as nine digits; phone as ten digits
        **person(NUNEZ, "NÚÑEZ", "JOSÉ", "LUIS", "MD", "M"),
        **practice(
            "2416 E CESAR E CHAVEZ AVE", "SUITE 200", "LOS ANGELES", "CA", "900331234", "3235550141"
        ),
        **taxonomies(
            ("207Q00000X", "G11111", "N"),
            ("207QG0300X", "G11111", "N"),
            ("207R00000X", "A22222", "Y"),
            ("207RG0300X", "G11111", "N"),
        ),
        "Last Update Date": "10/14/2026",
    },
    {  # line 3: a ZIP that lost its leading zero (02134 -> 2134); the same code twice (two states)
        **person(OBRIEN, "O'BRIEN-SMITH", "MARY", "", "NP", "F"),
        **practice("75 FRANCIS ST", "", "BOSTON", "MA", "2134", "6175550123"),
        **taxonomies(
            ("363LF0000X", "NP1", "Y"),
            ("363LF0000X", "NP2", "N"),
        ),
        "Last Update Date": "01/02/2026",
    },
    {  # line 4: deactivated: as the file writes it, everything but the NPI and the date is blank
        "NPI": LEFT,
        "NPI Deactivation Reason Code": "DT",
        "NPI Deactivation Date": "03/16/2020",
    },
    {  # line 5: deactivated, then reactivated: kept; no primary switch answered ('X')
        **person(BACK, "LE", "LINH", "", "D.O.", "F"),
        **practice("9200 BOLSA AVE", "", "WESTMINSTER", "CA", "926830000", "7145550188"),
        **taxonomies(("207V00000X", "C33333", "X"), ("208D00000X", "C44444", "X")),
        "NPI Deactivation Date": "03/16/2006",
        "NPI Reactivation Date": "03/20/2006",
        "Last Update Date": "07/08/2007",
    },
    {  # line 6: an organisation (entity type 2)
        "NPI": CLINIC,
        "Entity Type Code": "2",
        "Provider Organization Name (Legal Business Name)": "EASTSIDE UNIDOS CLINIC, INC.",
        **practice("100 N MAIN ST", "", "LOS ANGELES", "CA", "900121234", "2135550100"),
        **taxonomies(("261QU0200X", "", "Y")),
        "Last Update Date": "11/02/2026",
    },
    {  # line 7: practising abroad ('CA' is Canada here, not California)
        **person(ABROAD, "TREMBLAY", "MARC"),
        **practice("200 ELIZABETH ST", "", "TORONTO", "ON", "M5G2C4", "4165550100", "CA"),
        **taxonomies(("207R00000X", "", "Y")),
    },
    {  # line 8: a US address with a wrong country code (seen in the real file): kept
        **person(ISLANDS, "WHITE", "ANNE", "B", "MD", "F"),
        **practice("2 HOSPITAL DRIVE", "SUITE 203", "HOLYOKE", "MA", "01040", "4135405048", "UM"),
        **taxonomies(("207P00000X", "12345", "Y")),
        "Last Update Date": "12/04/2018",
    },
]

EXPECTED = [
    (
        2,
        {
            "entity_type": "practitioner",
            "npi": NUNEZ,
            "last_name": "Núñez",
            "first_name": "José",
            "middle_name": "Luis",
            "credentials": "MD",
            "gender": "male",
            "city": "Los Angeles",
            "state": "CA",
            "zip": "90033-1234",
            "phone": "(323) 555-0141",
            "last_updated": "2026-10-14",
            "address": "2416 E CESAR E CHAVEZ AVE, SUITE 200",
            "taxonomy_codes": "207R00000X|207Q00000X|207QG0300X|207RG0300X",
            "license": "A22222",
        },
    ),
    (
        3,
        {
            "entity_type": "practitioner",
            "npi": OBRIEN,
            "last_name": "O'Brien-Smith",
            "first_name": "Mary",
            "middle_name": "",
            "credentials": "NP",
            "gender": "female",
            "city": "Boston",
            "state": "MA",
            "zip": "02134",
            "phone": "(617) 555-0123",
            "last_updated": "2026-01-02",
            "address": "75 FRANCIS ST",
            "taxonomy_codes": "363LF0000X",
            "license": "NP1",
        },
    ),
    (4, Skipped("deactivated NPI")),
    (
        5,
        {
            "entity_type": "practitioner",
            "npi": BACK,
            "last_name": "Le",
            "first_name": "Linh",
            "middle_name": "",
            "credentials": "D.O.",
            "gender": "female",
            "city": "Westminster",
            "state": "CA",
            "zip": "92683",
            "phone": "(714) 555-0188",
            "last_updated": "2007-07-08",
            "address": "9200 BOLSA AVE",
            "taxonomy_codes": "207V00000X|208D00000X",
            "license": "C33333",
        },
    ),
    (6, Skipped("an organisation (entity type 2): read it with the nppes-organizations layout")),
    (7, Skipped("practice location outside the United States")),
    (
        8,
        {
            "entity_type": "practitioner",
            "npi": ISLANDS,
            "last_name": "White",
            "first_name": "Anne",
            "middle_name": "B",
            "credentials": "MD",
            "gender": "female",
            "city": "Holyoke",
            "state": "MA",
            "zip": "01040",
            "phone": "(413) 540-5048",
            "last_updated": "2018-12-04",
            "address": "2 HOSPITAL DRIVE, SUITE 203",
            "taxonomy_codes": "207P00000X",
            "license": "12345",
        },
    ),
]


@pytest.fixture
def nppes_file(tmp_path):
    return write_csv(tmp_path / "npidata_pfile_20261102-20261108.csv", NPPES_HEADER, ROWS)


def test_individual_rows_translate_as_the_directory_reads_them(nppes_file):
    got = list(read_with_layout(nppes_file, load_layout("nppes")))
    assert [line for line, _ in got] == [line for line, _ in EXPECTED]
    for (line, row), (_, expected) in zip(got, EXPECTED, strict=True):
        assert row == expected, f"line {line}"


def test_a_header_variant_reads_the_same(tmp_path, nppes_file):
    # Other releases and exports: a shorter name, other case, stray spaces around names.
    variant = [
        "Provider Last Name" if name == "Provider Last Name (Legal Name)" else name
        for name in NPPES_HEADER
    ]
    variant = [f" {name.upper()} " if "Taxonomy" in name else name for name in variant]
    variant[0] = "npi"
    renamed = dict(zip(NPPES_HEADER, variant, strict=True))
    rows = [{renamed[k]: v for k, v in row.items()} for row in ROWS]
    path = write_csv(tmp_path / "variant.csv", tuple(variant), rows)
    layout = load_layout("nppes")
    assert list(read_with_layout(path, layout)) == EXPECTED
    assert layout.source_name("last_name") == "Provider Last Name"


def test_a_file_missing_a_column_is_refused_naming_it_and_its_other_names(tmp_path):
    header = tuple(n for n in NPPES_HEADER if n != "Provider Last Name (Legal Name)")
    path = write_csv(tmp_path / "short.csv", header, [])
    with pytest.raises(
        LayoutError, match=r"'Provider Last Name \(Legal Name\)' \(or 'Provider Last Name'\)"
    ):
        read_with_layout(path, load_layout("nppes"))


def test_organisation_rows_through_nppes_organizations(nppes_file):
    got = list(read_with_layout(nppes_file, load_layout("nppes-organizations")))
    kept = [(line, row) for line, row in got if not isinstance(row, Skipped)]
    assert kept == [
        (
            6,
            {
                "npi": CLINIC,
                "organization_name": "EASTSIDE UNIDOS CLINIC, INC.",
                "city": "Los Angeles",
                "state": "CA",
                "zip": "90012-1234",
                "phone": "(213) 555-0100",
                "last_updated": "2026-11-02",
                "address": "100 N MAIN ST",
                "taxonomy_codes": "261QU0200X",
                "license": "",
            },
        )
    ]
    reasons = {line: row.reason for line, row in got if isinstance(row, Skipped)}
    assert reasons[4] == "deactivated NPI"
    assert reasons[2].startswith("an individual (entity type 1)")


def test_the_import_keeps_every_active_individual(nppes_file):
    summary = ImportSummary(source="nppes")
    docs = {
        d["npi"]: d
        for d in collect(read_with_layout(nppes_file, load_layout("nppes")), summary).documents()
    }
    assert summary.rows_rejected == 0, summary.errors
    assert (summary.rows_imported, summary.rows_skipped) == (4, 3)
    assert set(docs) == {NUNEZ, OBRIEN, BACK, ISLANDS}
    nunez = docs[NUNEZ]
    assert nunez["specialty_codes"] == [
        "207R00000X",
        "207Q00000X",
        "207QG0300X",
        "207RG0300X",
    ]
    assert nunez["license"] == "A22222" and nunez["gender"] == "male"
    [place] = nunez["locations"]
    assert (place["zip"], place["zip4"], place["phone"]) == ("90033", "1234", "(323) 555-0141")
    assert place["plans"] == []
    assert docs[OBRIEN]["locations"][0]["zip"] == "02134"
    assert docs[BACK]["specialty_codes"] == ["207V00000X", "208D00000X"]
