"""The layout format: every key it knows, checked when a layout loads, and what it does to rows."""

import json

import pytest

from indexer.layout import LayoutError, load_layout, read_with_layout, title_case
from indexer.records import Skipped
from tests.conftest import ROOT
from tests.layout_files import with_check_digit, write_csv

NPI = with_check_digit("158320417")


def layout_file(tmp_path, **keys):
    body = {"name": "test-layout", "columns": {"NPI": "npi", "Zip": "zip"}, **keys}
    path = tmp_path / "layout.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def make(tmp_path, **keys):
    return load_layout(layout_file(tmp_path, **keys))


def refused(tmp_path, match, **keys):
    with pytest.raises(LayoutError, match=match):
        make(tmp_path, **keys)


def one(layout, **cells) -> dict[str, str] | Skipped:
    """Translate a single row of source cells."""
    [(line, row)] = list(layout.translate([(2, {"NPI": NPI, "Zip": "90012", **cells})]))
    assert line == 2
    return row


def read(tmp_path, layout, header, rows):
    path = write_csv(tmp_path / "roster.csv", tuple(header), rows)
    return list(read_with_layout(path, layout))


# --- what a layout must fill ------------------------------------------------------------------


def test_npi_and_a_zip_are_all_a_layout_must_fill(tmp_path):
    layout = make(tmp_path)
    assert one(layout) == {"npi": NPI, "zip": "90012"}
    located = make(tmp_path, columns={"NPI": "npi", "Lat": "latitude", "Lon": "longitude"})
    assert one(located, Lat="34.05", Lon="-118.24")["latitude"] == "34.05"
    refused(tmp_path, "nothing fills the required column npi", columns={"Zip": "zip"})
    refused(tmp_path, r"nothing fills zip \(or latitude and longitude\)", columns={"NPI": "npi"})
    refused(
        tmp_path,
        "nothing fills zip",
        columns={"NPI": "npi", "Lat": "latitude"},
    )


def test_plan_columns_need_the_plans_provider_id(tmp_path):
    refused(
        tmp_path,
        "plan_provider_id",
        columns={"NPI": "npi", "Zip": "zip", "Product": "plan"},
    )


# --- aliases and header matching -------------------------------------------------------------


def test_a_column_is_found_under_any_of_its_names_trimmed_and_case_folded(tmp_path):
    layout = make(
        tmp_path,
        columns={"NPI": "npi", "Zip": "zip", "lst_nm": "last_name"},
        aliases={"lst_nm": ["Provider Last Name"]},
    )
    for header in (["NPI", "Zip", "lst_nm"], [" npi ", "ZIP", "PROVIDER  LAST NAME"]):
        row = dict(zip(header, [NPI, "90012", "NUNEZ"], strict=True))
        [(_, got)] = read(tmp_path, layout, header, [row])
        assert got == {"npi": NPI, "zip": "90012", "last_name": "NUNEZ"}


def test_a_missing_column_is_named_with_its_aliases(tmp_path):
    layout = make(
        tmp_path,
        columns={"NPI": "npi", "Zip": "zip", "lst_nm": "last_name"},
        aliases={"lst_nm": ["Provider Last Name", "Last"]},
    )
    with pytest.raises(LayoutError, match=r"'lst_nm' \(or 'Provider Last Name', 'Last'\)"):
        read(tmp_path, layout, ["NPI", "Zip", "Surname"], [])


def test_shipped_layouts_compare_headers_case_folded(tmp_path):
    sample = ROOT / "fixtures" / "layouts" / "pacific-crest-sample.csv"
    header, rest = sample.read_text(encoding="utf-8").split("\n", 1)
    shouted = tmp_path / "shouted.csv"
    shouted.write_text(header.upper().replace(",", " , ") + "\n" + rest, encoding="utf-8")
    layout = load_layout("pacific-crest")
    assert list(read_with_layout(shouted, layout)) == list(read_with_layout(sample, layout))


def test_the_own_layout_needs_only_npi_and_zip(tmp_path):
    path = write_csv(
        tmp_path / "upper.csv",
        ("NPI", "ZIP", "TAXONOMY_CODES"),
        [{"NPI": NPI, "ZIP": "90012", "TAXONOMY_CODES": "207Q00000X"}],
    )
    [(_, row)] = list(read_with_layout(path, load_layout("provider-directory")))
    assert (row["npi"], row["zip"], row["taxonomy_codes"]) == (NPI, "90012", "207Q00000X")
    assert row["plan"] == row["location_id"] == ""
    with pytest.raises(LayoutError, match="'zip'"):
        read(tmp_path, load_layout("provider-directory"), ["NPI"], [])


def test_aliases_must_name_a_column_of_the_layout(tmp_path):
    refused(
        tmp_path, r"aliases: aliases name no column of this layout: 'Last'", aliases={"Last": ["x"]}
    )
    refused(
        tmp_path,
        "an alias of the numbered column",
        combine={"hospital_affiliations": {"from": ["hosp_{n}"], "n": [1, 2]}},
        aliases={"hosp_{n}": ["Hospital"]},
    )


def test_optional_columns_may_be_absent(tmp_path):
    layout = make(
        tmp_path,
        columns={"NPI": "npi", "Zip": "zip", "Telehlth": "telehealth"},
        combine={"hospital_affiliations": {"from": ["hosp_{n}"], "n": [1, 2]}},
        optional=["Telehlth", "hosp_{n}"],
    )
    [(_, row)] = read(tmp_path, layout, ["NPI", "Zip"], [{"NPI": NPI, "Zip": "90012"}])
    assert row == {"npi": NPI, "zip": "90012", "telehealth": "", "hospital_affiliations": ""}
    refused(tmp_path, "optional names no column of this layout", optional=["Nope"])


# --- filters ----------------------------------------------------------------------------------


def test_filters_keep_rows_that_hold_and_skip_the_others_with_a_reason(tmp_path):
    layout = make(
        tmp_path,
        filters=[
            {"column": "Type", "equals": "1"},
            {"column": "State", "in": ["CA", "NV"]},
            {"column": "Name", "is": "not-empty"},
            {"column": "Ended", "is": "empty", "reason": "terminated"},
        ],
    )
    keep = {"Type": "1", "State": "ca", "Name": "X", "Ended": " "}
    assert one(layout, **keep) == {"npi": NPI, "zip": "90012"}
    assert one(layout, **{**keep, "Type": "2"}) == Skipped("Type must be 1")
    assert one(layout, **{**keep, "State": "AZ"}) == Skipped("State must be ca or nv")
    assert one(layout, **{**keep, "Name": ""}) == Skipped("Name must be not empty")
    assert one(layout, **{**keep, "Ended": "01/01/2020"}) == Skipped("terminated")


def test_any_and_all_combine_conditions(tmp_path):
    active = {
        "any": [
            {"column": "Deactivated", "is": "empty"},
            {"column": "Reactivated", "is": "not-empty"},
        ],
        "reason": "deactivated",
    }
    layout = make(tmp_path, filters=[active])
    assert one(layout) == {"npi": NPI, "zip": "90012"}
    assert one(layout, Deactivated="03/16/2006", Reactivated="03/20/2006")["npi"] == NPI
    assert one(layout, Deactivated="03/16/2006") == Skipped("deactivated")
    both = make(
        tmp_path,
        filters=[
            {
                "any": [
                    {"all": [{"column": "A", "equals": "y"}, {"column": "B", "equals": "y"}]},
                    {"column": "C", "equals": "y"},
                ]
            }
        ],
    )
    assert one(both, A="Y", B="y")["npi"] == NPI
    assert one(both, C="y")["npi"] == NPI
    assert isinstance(one(both, A="y"), Skipped)


def test_read_with_layout_yields_skipped_rows_at_their_line(tmp_path):
    layout = make(tmp_path, filters=[{"column": "Type", "equals": "1"}])
    rows = [{"NPI": NPI, "Zip": "90012", "Type": t} for t in ("1", "2", "1")]
    got = read(tmp_path, layout, ["NPI", "Zip", "Type"], rows)
    assert [(line, isinstance(row, Skipped)) for line, row in got] == [
        (2, False),
        (3, True),
        (4, False),
    ]
    with pytest.raises(LayoutError, match="'Type'"):  # a filter's column must be in the file
        read(tmp_path, layout, ["NPI", "Zip"], [])


@pytest.mark.parametrize(
    ("condition", "match"),
    [
        ({"column": "Type", "contains": "1"}, r"filters\[0\]\.contains: unknown filter key"),
        ({"column": "Type"}, "exactly one of"),
        ({"column": "Type", "equals": "1", "in": ["2"]}, "exactly one of"),
        ({"equals": "1"}, "needs the column it tests"),
        ({"column": "Type", "is": "blank"}, r"filters\[0\]\.is: 'empty' or 'not-empty'"),
        ({"any": [{"column": "T", "like": "x"}]}, r"filters\[0\]\.any\[0\]\.like"),
        ({"any": [], "reason": "x"}, r"filters\[0\]\.any"),
        ({"column": "T", "any": [{"column": "T", "equals": "1"}]}, "takes no column"),
    ],
)
def test_a_filter_outside_the_allowed_set_is_refused(tmp_path, condition, match):
    refused(tmp_path, match, filters=[condition])


# --- one column to several, several columns to one --------------------------------------------


def test_one_source_column_fills_several_canonical_columns(tmp_path):
    layout = make(
        tmp_path, columns={"NPI": "npi", "Zip": "zip", "Group": ["medical_group", "location_name"]}
    )
    got = one(layout, Group="Eastside Unidos IPA")
    assert got["medical_group"] == got["location_name"] == "Eastside Unidos IPA"
    refused(
        tmp_path,
        "not a roster column: groep",
        columns={"NPI": "npi", "Zip": "zip", "Group": ["medical_group", "groep"]},
    )


def test_numbered_columns_gather_into_a_list_primary_first(tmp_path):
    layout = make(
        tmp_path,
        combine={
            "taxonomy_codes": {
                "from": ["Code_{n}"],
                "n": [1, 4],
                "primary": {"column": "Switch_{n}", "equals": "Y"},
            },
            "license": {
                "from": ["License_{n}"],
                "n": [1, 4],
                "pick": "primary",
                "primary": {"column": "Switch_{n}", "equals": "Y"},
            },
        },
    )
    cells = {
        "Code_1": "207Q00000X",
        "Code_2": "207QG0300X",
        "Code_3": "207R00000X",
        "Code_4": "207Q00000X",
        **{f"License_{n}": f"L{n}" for n in range(1, 5)},
        "Switch_1": "N",
        "Switch_2": "N",
        "Switch_3": "y",
        "Switch_4": "N",
    }
    got = one(layout, **cells)
    assert got["taxonomy_codes"] == "207R00000X|207Q00000X|207QG0300X"  # once each
    assert got["license"] == "L3"
    unanswered = one(layout, **{**cells, "Switch_3": "X", "License_1": ""})
    assert unanswered["taxonomy_codes"] == "207Q00000X|207QG0300X|207R00000X"
    assert unanswered["license"] == "L2"  # no primary: the first licence there is
    header = ["NPI", "Zip", *cells]
    assert layout.check_header(header) is None
    with pytest.raises(LayoutError, match="'Switch_4'"):
        layout.check_header([h for h in header if h != "Switch_4"])


def test_plain_and_numbered_columns_gather_together(tmp_path):
    layout = make(
        tmp_path,
        combine={
            "hospital_affiliations": {"from": ["Main Hospital", "Other {n}"], "n": [1, 3]},
            "medical_group": {"from": ["Group", "Parent"], "pick": "first"},
        },
    )
    got = one(layout, **{"Main Hospital": "A", "Other 2": "B", "Other 3": " ", "Parent": "P"})
    assert got["hospital_affiliations"] == "A|B"
    assert got["medical_group"] == "P"


def test_join_makes_one_value_of_several_columns(tmp_path):
    layout = make(
        tmp_path,
        combine={"address": {"from": ["Line 1", "Line 2"], "join": ", "}},
        transforms={"address": ["upper"]},
    )
    assert one(layout, **{"Line 1": "115 Mall Dr", "Line 2": "Ste 2"})["address"] == (
        "115 MALL DR, STE 2"
    )
    assert one(layout, **{"Line 1": "115 Mall Dr", "Line 2": " "})["address"] == "115 MALL DR"


@pytest.mark.parametrize(
    ("combine", "match"),
    [
        ({"address": {"from": ["A", "B"]}}, "say how to make it"),
        ({"taxonomy_codes": {"from": ["A", "B"], "join": ","}}, "is a list"),
        ({"address": {"from": ["A_{n}"], "join": " "}}, "needs the range"),
        ({"address": {"from": ["A"], "n": [1, 2], "join": " "}}, r"needs a column name with \{n\}"),
        ({"address": {"from": ["A_{n}"], "n": [3, 1], "join": " "}}, "a range"),
        ({"license": {"from": ["A_{n}"], "n": [1, 2], "pick": "primary"}}, "needs a primary"),
        ({"license": {"from": ["A"], "pick": "best"}}, r"combine\.license\.pick"),
        ({"license": {"from": ["A"], "pick": "first", "sep": "x"}}, r"combine\.license\.sep"),
        ({"zip": {"from": ["A"], "pick": "first"}}, "filled by both columns and combine"),
    ],
)
def test_a_combine_outside_the_allowed_set_is_refused(tmp_path, combine, match):
    refused(tmp_path, match, combine=combine)


# --- transforms -------------------------------------------------------------------------------


def test_each_transform(tmp_path):
    layout = make(
        tmp_path,
        columns={
            "NPI": "npi",
            "Zip": "zip",
            "Last": "last_name",
            "First": "first_name",
            "Cred": "credentials",
            "State": "state",
            "Phone": "phone",
            "City": "city",
        },
        transforms={
            "last_name": ["trim", "title"],
            "first_name": ["lower"],
            "credentials": ["upper"],
            "state": ["upper"],
            "zip": ["zip"],
            "phone": ["phone"],
            "city": ["trim"],
        },
    )
    got = one(
        layout,
        Zip="900121234",
        Last="  O'BRIEN-SMITH   III ",
        First="ANA",
        Cred="md",
        State="ca",
        Phone="2135550100 x12",
        City=" Los   Angeles ",
    )
    assert got == {
        "npi": NPI,
        "zip": "90012-1234",
        "last_name": "O'Brien-Smith Iii",
        "first_name": "ana",
        "credentials": "MD",
        "state": "CA",
        "phone": "(213) 555-0100 ext. 12",
        "city": "Los Angeles",
    }
    # A value a transform cannot make sense of is left as it is, for validation to report.
    bad = one(layout, Zip="ABCDE", Phone="2.12689E+12")
    assert (bad["zip"], bad["phone"]) == ("ABCDE", "2.12689E+12")
    assert one(layout, Zip="2134")["zip"] == "02134"


def test_title_case_keeps_names_readable():
    assert title_case("JOHN'S 3RD ST") == "John's 3rd St"
    assert title_case("D'ANGELO-MCDONALD") == "D'Angelo-Mcdonald"
    assert title_case("NÚÑEZ DE LA CRUZ") == "Núñez De La Cruz"


def test_an_unknown_transform_is_refused(tmp_path):
    refused(
        tmp_path,
        r"transforms\.last_name\[0\]: unknown transform 'titel'",
        transforms={"last_name": ["titel"]},
    )
    refused(tmp_path, "not a roster column: surname", transforms={"surname": ["title"]})


# --- value maps: inline and shipped crosswalks ------------------------------------------------

CROSSWALK = {"file": "cms_specialty_nucc", "from": "cms_specialty", "to": "nucc_code"}


def test_a_crosswalk_maps_names_to_codes(tmp_path):
    layout = make(
        tmp_path,
        columns={"NPI": "npi", "Zip": "zip", "Specialty": "taxonomy_codes"},
        split={"taxonomy_codes": ";"},
        crosswalks={"taxonomy_codes": CROSSWALK},
        values={"taxonomy_codes": {"HOUSE CALLS": "207Q00000X"}},
    )
    specialties = "NURSE PRACTITIONER; internal  medicine ;Space Medicine;HOUSE CALLS;207RC0000X"
    assert one(layout, Specialty=specialties)["taxonomy_codes"] == (
        "363L00000X|207R00000X|Space Medicine|207Q00000X|207RC0000X"
    )


def test_a_crosswalk_maps_a_single_value_column_too(tmp_path):
    table = {"file": "cms_specialty_nucc.csv", "from": "cms_specialty", "to": "medicare_code"}
    layout = make(
        tmp_path,
        columns={"NPI": "npi", "Zip": "zip", "Spec": "license"},
        crosswalks={"license": table},
    )
    assert one(layout, Spec="Internal Medicine")["license"] == "11"


@pytest.mark.parametrize(
    ("crosswalk", "match"),
    [
        (
            {**CROSSWALK, "file": "../layouts/nppes.json"},
            r"crosswalks\.taxonomy_codes\.file: not a shipped crosswalk",
        ),
        ({**CROSSWALK, "file": "/etc/passwd"}, "not a shipped crosswalk: '/etc/passwd'"),
        ({**CROSSWALK, "file": "no_such_table"}, "shipped: .*cms_specialty_nucc"),
        ({**CROSSWALK, "from": "specialty"}, "has no column 'specialty'"),
        ({**CROSSWALK, "to": "nucc"}, r"crosswalks\.taxonomy_codes\.to"),
        ({**CROSSWALK, "fallback": "x"}, r"crosswalks\.taxonomy_codes\.fallback: Unknown field"),
    ],
)
def test_a_crosswalk_that_is_not_shipped_is_refused(tmp_path, crosswalk, match):
    refused(tmp_path, match, crosswalks={"taxonomy_codes": crosswalk})


def test_inline_values_and_dates_still_apply(tmp_path):
    layout = make(
        tmp_path,
        columns={"NPI": "npi", "Zip": "zip", "Sex": "gender", "Updated": "last_updated"},
        values={"gender": {"F": "female"}},
        dates={"last_updated": "%m/%d/%Y"},
    )
    got = one(layout, Sex="F", Updated="10/14/2026")
    assert (got["gender"], got["last_updated"]) == ("female", "2026-10-14")
    assert one(layout, Updated="2026-13-45")["last_updated"] == "2026-13-45"


# --- anything else is refused, naming the key -------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "match"),
    [
        ({"colums": {}}, "colums: Unknown field"),
        ({"transform": {}}, "transform: Unknown field"),
        ({"split": {"address": ","}}, r"split\.address.*Must be one of"),
        ({"dates": {"zip": "%Y"}}, r"dates\.zip"),
        ({"filters": {"column": "x"}}, "filters: Not a valid list"),
    ],
)
def test_an_unknown_key_is_refused_naming_it(tmp_path, keys, match):
    refused(tmp_path, match, **keys)


def test_a_layout_that_is_not_an_object_is_refused(tmp_path):
    path = tmp_path / "layout.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(LayoutError, match="a layout is a JSON object"):
        load_layout(path)
