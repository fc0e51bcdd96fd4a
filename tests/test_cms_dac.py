"""The CMS Doctors and Clinicians National Downloadable File through the shipped `cms-dac` layout,
in both the older (`lst_nm`, `cty`) and the newer (`Provider Last Name`, `City/Town`) header
namings: one row per clinician, enrollment and address; specialty names to NUCC codes."""

import pytest

from indexer.layout import load_layout, read_with_layout
from indexer.pipeline import collect
from indexer.records import ImportSummary
from tests.layout_files import (
    CMS_DAC_HEADER,
    CMS_DAC_HEADER_NEW,
    CMS_DAC_RENAMED,
    with_check_digit,
    write_csv,
)

NUNEZ = with_check_digit("158320417")
PARK = with_check_digit("192804466")
ODUYA = with_check_digit("149230776")


def clinician(npi, last, first, middle, gender, cred, pri_spec, *secondary) -> dict[str, str]:
    specs = {f"sec_spec_{n}": name for n, name in enumerate(secondary, start=1)}
    return {
        "NPI": npi,
        "Ind_PAC_ID": "1234567" + npi[-3:],
        "Ind_enrl_ID": "I2020" + npi,
        "lst_nm": last,
        "frst_nm": first,
        "mid_nm": middle,
        "gndr": gender,
        "Cred": cred,
        "Med_sch": "OTHER",
        "Grd_yr": "2004",
        "pri_spec": pri_spec,
        **specs,
        "sec_spec_all": ",".join(secondary),
        "ind_assgn": "Y",
        "grp_assgn": "Y",
    }


def place(adrs_id, line1, line2, city, state, postal, phone, group="") -> dict[str, str]:
    return {
        "org_nm": group,
        "org_pac_id": "9931000001" if group else "",
        "num_org_mem": "42" if group else "",
        "adr_ln_1": line1,
        "adr_ln_2": line2,
        "ln_2_sprs": "",
        "cty": city,
        "st": state,
        "zip": postal,
        "phn_numbr": phone,
        "adrs_id": adrs_id,
    }


NUNEZ_ROW = {
    **clinician(NUNEZ, "NUNEZ", "JOSE", "L", "M", "MD", "INTERNAL MEDICINE", "GERIATRIC MEDICINE"),
    # Hospital affiliations belong to the clinician: the file repeats them on each address row.
    "hosp_afl_1": "050373",
    "hosp_afl_lbn_1": "LAC + USC MEDICAL CENTER",
    "hosp_afl_2": "050103",
    "hosp_afl_lbn_2": "WHITE MEMORIAL MEDICAL CENTER",
}
ROWS = [
    {  # line 2: ZIP+4 as nine digits; two hospital affiliations (names kept, CCNs not)
        **NUNEZ_ROW,
        **place(
            "CA900331234BO2416XSTE200",
            "2416 E CESAR E CHAVEZ AVE",
            "STE 200",
            "LOS ANGELES",
            "CA",
            "900331234",
            "3235550141",
            "EASTSIDE UNIDOS IPA",
        ),
    },
    {  # line 3: the same clinician at a second address, five-digit ZIP
        **NUNEZ_ROW,
        **place(
            "CA900221001WH5200XXXXXX",
            "5200 WHITTIER BLVD",
            "",
            "LOS ANGELES",
            "CA",
            "90022",
            "3235550177",
            "EASTSIDE UNIDOS IPA",
        ),
    },
    {  # line 4: a nurse practitioner; a ZIP that lost its leading zero (07030 -> 7030)
        **clinician(PARK, "PARK", "GRACE", "", "F", "NP", "NURSE PRACTITIONER"),
        **place("NJ070300000WA1XXXX", "1 WASHINGTON ST", "", "HOBOKEN", "NJ", "7030", "2015550123"),
    },
    {  # line 5: names written loosely; a specialty the crosswalk does not know passes through
        **clinician(
            ODUYA,
            "ODUYA",
            "ADA",
            "",
            "F",
            "DO",
            "  family   practice ",
            "SPACE MEDICINE",
            "PEDIATRIC MEDICINE",
            "FAMILY PRACTICE",
        ),
        **place(
            "CA926830000BO9200XXXXXX",
            "9200 BOLSA AVE",
            "",
            "WESTMINSTER",
            "CA",
            "926830000",
            "7145550188",
            "BOLSA FAMILY PHYSICIANS",
        ),
        "hosp_afl_lbn_1": "ORANGE COAST MEDICAL CENTER",
    },
]


def expected(old_naming: bool) -> list[tuple[int, dict[str, str]]]:
    def row(line, npi, names, gender, cred, group, location, street, place, codes, hospitals):
        last, first, middle = names
        city, state, postal, phone = place
        translated = {
            "entity_type": "practitioner",
            "npi": npi,
            "last_name": last,
            "first_name": first,
            "middle_name": middle,
            "gender": gender,
            "credentials": cred,
            "medical_group": group,
            "location_name": group,
            "location_id": location,
            "city": city,
            "state": state,
            "zip": postal,
            "phone": phone,
            "telehealth": "" if old_naming else ("Y" if npi == PARK else ""),
            "address": street,
            "taxonomy_codes": codes,
            "hospital_affiliations": hospitals if old_naming else "",
        }
        return line, translated

    return [
        row(
            2,
            NUNEZ,
            ("Nunez", "Jose", "L"),
            "male",
            "MD",
            "EASTSIDE UNIDOS IPA",
            "CA900331234BO2416XSTE200",
            "2416 E CESAR E CHAVEZ AVE, STE 200",
            ("Los Angeles", "CA", "90033-1234", "(323) 555-0141"),
            "207R00000X|207RG0300X",
            "LAC + USC MEDICAL CENTER|WHITE MEMORIAL MEDICAL CENTER",
        ),
        row(
            3,
            NUNEZ,
            ("Nunez", "Jose", "L"),
            "male",
            "MD",
            "EASTSIDE UNIDOS IPA",
            "CA900221001WH5200XXXXXX",
            "5200 WHITTIER BLVD",
            ("Los Angeles", "CA", "90022", "(323) 555-0177"),
            "207R00000X|207RG0300X",
            "LAC + USC MEDICAL CENTER|WHITE MEMORIAL MEDICAL CENTER",
        ),
        row(
            4,
            PARK,
            ("Park", "Grace", ""),
            "female",
            "NP",
            "",
            "NJ070300000WA1XXXX",
            "1 WASHINGTON ST",
            ("Hoboken", "NJ", "07030", "(201) 555-0123"),
            "363L00000X",
            "",
        ),
        row(
            5,
            ODUYA,
            ("Oduya", "Ada", ""),
            "female",
            "DO",
            "BOLSA FAMILY PHYSICIANS",
            "CA926830000BO9200XXXXXX",
            "9200 BOLSA AVE",
            ("Westminster", "CA", "92683", "(714) 555-0188"),
            # The primary first; the same code twice is kept once.
            "207Q00000X|SPACE MEDICINE|208000000X",
            "ORANGE COAST MEDICAL CENTER",
        ),
    ]


def newer(row: dict[str, str]) -> dict[str, str]:
    """The same row as the newer releases write it: renamed columns, no hospitals, telehealth."""
    renamed = {CMS_DAC_RENAMED.get(k, k): v for k, v in row.items() if not k.startswith("hosp_")}
    renamed["Telehlth"] = "Y" if row["NPI"] == PARK else ""
    return renamed


@pytest.fixture
def older_file(tmp_path):
    # The older releases write a space after each comma of the header.
    return write_csv(tmp_path / "DAC_NationalDownloadableFile.csv", CMS_DAC_HEADER, ROWS, ", ")


@pytest.fixture
def newer_file(tmp_path):
    rows = [newer(row) for row in ROWS]
    return write_csv(tmp_path / "DAC_NationalDownloadableFile.csv", CMS_DAC_HEADER_NEW, rows)


def test_the_older_naming_translates_row_by_row(older_file):
    got = list(read_with_layout(older_file, load_layout("cms-dac")))
    want = expected(old_naming=True)
    assert [line for line, _ in got] == [line for line, _ in want]
    for (line, row), (_, expected_row) in zip(got, want, strict=True):
        assert row == expected_row, f"line {line}"


def test_the_newer_naming_translates_row_by_row(newer_file):
    got = list(read_with_layout(newer_file, load_layout("cms-dac")))
    want = expected(old_naming=False)
    assert [line for line, _ in got] == [line for line, _ in want]
    for (line, row), (_, expected_row) in zip(got, want, strict=True):
        assert row == expected_row, f"line {line}"


def test_the_import_lists_each_clinician_once_at_each_address(older_file):
    summary = ImportSummary(source="cms-dac")
    built = collect(read_with_layout(older_file, load_layout("cms-dac")), summary)
    docs = {d["npi"]: d for d in built.documents()}
    assert (summary.rows_read, summary.rows_imported, summary.rows_rejected) == (4, 4, 0)
    assert [(w.line, w.field, w.value) for w in summary.warnings] == [
        (5, "taxonomy_codes", "SPACE MEDICINE")
    ]
    nunez = docs[NUNEZ]
    assert {loc["location_id"]: loc["zip4"] for loc in nunez["locations"]} == {
        "CA900331234BO2416XSTE200": "1234",
        "CA900221001WH5200XXXXXX": None,
    }
    assert nunez["specialty_codes"] == ["207R00000X", "207RG0300X"]
    assert nunez["medical_group"] == "EASTSIDE UNIDOS IPA"
    assert nunez["hospital_affiliations"] == [
        "LAC + USC MEDICAL CENTER",
        "WHITE MEMORIAL MEDICAL CENTER",
    ]
    assert all(loc["plans"] == [] for loc in nunez["locations"])
    park = docs[PARK]
    assert park["specialty_codes"] == ["363L00000X"]
    assert park["locations"][0]["zip"] == "07030"
    assert docs[ODUYA]["specialty_codes"][0] == "207Q00000X"
