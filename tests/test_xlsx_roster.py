"""Excel rosters: values read like the CSV's, formulas kept as text, hostile workbooks refused."""

import csv
import io
import itertools
import os
import struct
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from indexer.layout import load_layout, read_with_layout
from indexer.pipeline import collect
from indexer.records import ImportSummary
from indexer.sources import xlsx_roster
from indexer.sources.csv_roster import RosterFormatError, open_roster
from indexer.sources.xlsx_roster import read_xlsx_rows, xlsx_header
from indexer.validate import validate_rows
from tests.conftest import FIXTURE_ROSTER, ROOT

ROWS = 20
NUMBERS = ("npi", "zip", "age_min", "age_max", "panel_capacity")
# Cells changed from the CSV: (data row index, column, value written to the workbook).
FORMULA = (2, "first_name", "=1+1")
BAD_NPI = (5, "npi", '=HYPERLINK("http://example.com/","1234567893")')
AT_SIGN = (7, "medical_group", "@Harbor Coast IPA")
PLUS = (9, "phone", "+1 562 555 0196")
EDITS = (FORMULA, BAD_NPI, AT_SIGN, PLUS)


def fixture_csv() -> tuple[list[str], list[dict[str, str]]]:
    with open(FIXTURE_ROSTER, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or ()), list(itertools.islice(reader, ROWS))


def as_cell(column: str, text: str):
    """The value a person typing the roster into Excel would leave in the cell."""
    if not text:
        return None
    if column in NUMBERS and text.isdigit():
        return int(text)
    if column == "last_verified":
        return date.fromisoformat(text)
    return text


def write_xlsx(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([as_cell(c, row[c]) for c in header])
    workbook.save(path)
    return path


@pytest.fixture
def roster_xlsx(tmp_path) -> Path:
    header, rows = fixture_csv()
    for index, column, value in EDITS:
        rows[index][column] = value
    return write_xlsx(tmp_path / "roster.xlsx", header, rows)


def rewrite(path: Path, members: dict[str, bytes]) -> Path:
    """Replace or add zip members, keeping the others."""
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as source:
        kept = {m: source.read(m) for m in source.namelist() if m not in members}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in {**kept, **members}.items():
            target.writestr(name, data)
    return path


def test_cells_read_as_the_csv_reader_reads_them(roster_xlsx):
    csv_rows = list(itertools.islice(open_roster(FIXTURE_ROSTER), ROWS))
    xlsx_rows = list(read_xlsx_rows(roster_xlsx))
    assert [line for line, _ in xlsx_rows] == [line for line, _ in csv_rows] == list(range(2, 22))
    edited = {index: column for index, column, _ in EDITS}
    for index, ((_, got), (_, expected)) in enumerate(zip(xlsx_rows, csv_rows, strict=True)):
        column = edited.get(index)
        if column:
            expected = {**expected, column: got[column]}
        assert got == expected
    assert xlsx_rows[0][1]["npi"] == "1026484265" and xlsx_rows[0][1]["zip"] == "90808"


def test_formulas_are_passed_through_as_text_never_evaluated(roster_xlsx):
    with zipfile.ZipFile(roster_xlsx) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>1+1</f>" in sheet_xml  # a real formula cell, not a string starting with "="
    rows = [row for _, row in read_xlsx_rows(roster_xlsx)]
    for index, column, value in EDITS:
        assert rows[index][column] == value


def test_the_pipeline_imports_good_rows_and_reports_the_formula_npi(roster_xlsx):
    summary = ImportSummary(source=str(roster_xlsx))
    builder = collect(read_xlsx_rows(roster_xlsx), summary)
    assert (summary.rows_read, summary.rows_imported, summary.rows_rejected) == (ROWS, ROWS - 1, 1)
    [error] = summary.errors
    assert (error.line, error.field, error.value) == (BAD_NPI[0] + 2, "npi", BAD_NPI[2])
    assert len(builder) == 5  # the providers of the first 20 fixture rows
    # The formula-like texts are imported as the text they are (a CSV export escapes them).
    records = {line: record for line, record, _ in validate_rows(read_xlsx_rows(roster_xlsx))}
    for index, column, value in (FORMULA, AT_SIGN):
        assert records[index + 2][column] == value


def test_cell_types_render_as_roster_text(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["npi", "zip", "latitude", "telehealth", "last_updated", "age_min", "note"])
    sheet.append([1234567893.0, 2134, 33.813966, True, datetime(2026, 11, 2, 14, 30), 18, "  x "])
    sheet["B2"].number_format = "00000"  # Excel's "Zip Code" format
    workbook.save(tmp_path / "types.xlsx")
    [(line, row)] = read_xlsx_rows(tmp_path / "types.xlsx", require_columns=False)
    assert line == 2
    assert row == {
        "npi": "1234567893",
        "zip": "02134",
        "latitude": "33.813966",
        "telehealth": "Y",
        "last_updated": "2026-11-02",
        "age_min": "18",
        "note": "x",
    }


def test_the_header_is_the_first_non_empty_row_and_row_numbers_are_the_sheets(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet["C3"] = "npi"
    sheet["D3"] = "zip"
    sheet["C5"] = 1234567893
    sheet["D5"] = 90012
    workbook.save(tmp_path / "offset.xlsx")
    assert xlsx_header(tmp_path / "offset.xlsx") == ["", "", "npi", "zip"]
    rows = list(read_xlsx_rows(tmp_path / "offset.xlsx", require_columns=False))
    assert rows == [(5, {"": "", "npi": "1234567893", "zip": "90012"})]


def test_a_declared_layout_reads_an_xlsx_like_its_csv(tmp_path):
    sample = ROOT / "fixtures" / "layouts" / "pacific-crest-sample.csv"
    with open(sample, newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    workbook = Workbook()
    for row in [header, *rows]:
        workbook.active.append([cell or None for cell in row])
    workbook.save(tmp_path / "pacific.xlsx")
    layout = load_layout("pacific-crest")
    layout.check_header(xlsx_header(tmp_path / "pacific.xlsx"))
    rows_via_xlsx = layout.translate(
        read_xlsx_rows(tmp_path / "pacific.xlsx", require_columns=False)
    )
    expected = list(read_with_layout(sample, layout))
    assert expected and list(rows_via_xlsx) == expected


def test_missing_required_columns_are_refused_unless_a_layout_checks_them(tmp_path):
    header, _ = fixture_csv()
    path = write_xlsx(tmp_path / "short.xlsx", [h for h in header if h != "zip"], [])
    with pytest.raises(RosterFormatError, match=r"missing required column.*zip"):
        read_xlsx_rows(path)
    assert list(read_xlsx_rows(path, require_columns=False)) == []


def test_a_wrong_declared_dimension_does_not_cut_rows(roster_xlsx):
    with zipfile.ZipFile(roster_xlsx) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert '<dimension ref="A1:AM21" />' in sheet_xml
    rewrite(roster_xlsx, {"xl/worksheets/sheet1.xml": sheet_xml.replace("A1:AM21", "A1:B2")})
    assert len(list(read_xlsx_rows(roster_xlsx))) == ROWS


@pytest.fixture
def no_parsing(monkeypatch):
    """Fail the test if openpyxl is asked to parse the workbook."""

    def parse(*args, **kwargs):
        raise AssertionError("openpyxl parsed a workbook that should have been refused")

    monkeypatch.setattr(xlsx_roster, "load_workbook", parse)


def test_a_decompression_bomb_is_refused_before_parsing(roster_xlsx, no_parsing):
    # 300 MB of zeros deflate to about 300 kB: over both the ratio and the size limit.
    chunk = bytes(1024**2)
    with (
        zipfile.ZipFile(roster_xlsx, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/media/image1.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(300):
            member.write(chunk)
    assert roster_xlsx.stat().st_size < 2 * 1024**2
    with pytest.raises(RosterFormatError, match="decompression bomb"):
        read_xlsx_rows(roster_xlsx)


def test_a_workbook_over_the_size_limit_is_refused_before_parsing(roster_xlsx, no_parsing):
    with pytest.raises(RosterFormatError, match="over the 10000 byte limit"):
        read_xlsx_rows(roster_xlsx, max_uncompressed_bytes=10_000)


def test_too_many_members_are_refused_before_parsing(roster_xlsx, no_parsing, monkeypatch):
    with zipfile.ZipFile(roster_xlsx, "a") as archive:
        for n in range(10_001):
            archive.writestr(f"xl/media/{n}.bin", b"")
    with pytest.raises(RosterFormatError, match="has more than 10000 members"):
        read_xlsx_rows(roster_xlsx)
    # A directory too big for 10,000 members is refused before zipfile even reads it.
    monkeypatch.setattr(xlsx_roster, "MAX_DIRECTORY_BYTES", 100_000)
    with pytest.raises(RosterFormatError, match="lists more than 10000 members"):
        read_xlsx_rows(roster_xlsx)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"npi,zip\n1234567893,90012\n", "not a zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "password-protected"),
        (b"", "not a zip archive"),
    ],
)
def test_a_file_that_is_not_an_xlsx_is_refused(tmp_path, no_parsing, content, reason):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(content)
    with pytest.raises(RosterFormatError, match=reason):
        read_xlsx_rows(path)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path, no_parsing):
    with zipfile.ZipFile(tmp_path / "roster.xlsx", "w") as archive:
        archive.writestr("roster.csv", "npi,zip\n")
    with pytest.raises(RosterFormatError, match=r"without \[Content_Types\]"):
        read_xlsx_rows(tmp_path / "roster.xlsx")


def test_a_sheet_with_too_many_rows_is_refused_while_reading(roster_xlsx):
    rows = read_xlsx_rows(roster_xlsx, max_rows=10)
    with pytest.raises(RosterFormatError, match="more than 10 rows"):
        list(rows)


def test_a_far_away_row_number_is_refused_without_reading_the_gap(roster_xlsx):
    with zipfile.ZipFile(roster_xlsx) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    far = '<row r="999999999"><c r="A999999999" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet_xml = sheet_xml.replace("</sheetData>", far + "</sheetData>")
    rewrite(roster_xlsx, {"xl/worksheets/sheet1.xml": sheet_xml})
    with pytest.raises(RosterFormatError, match="more than 1000 rows"):
        list(read_xlsx_rows(roster_xlsx, max_rows=1000))


def test_declared_member_sizes_cannot_lie(roster_xlsx):
    # Shrink the size the central directory declares for the sheet: zipfile stops inflating there
    # and the read fails, so the declared sizes the limits use bound what is really inflated.
    data = bytearray(roster_xlsx.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, 2048)
    roster_xlsx.write_bytes(bytes(data))
    with pytest.raises(RosterFormatError):
        list(read_xlsx_rows(roster_xlsx))


LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 "lol">\n'
    + "".join(f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n' for n in range(1, 10))
    + "]>\n"
)
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)


def billion_laughs_in_shared_strings(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        types = archive.read("[Content_Types].xml").decode()
    override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/>'
    strings = (
        LAUGHS + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    rewrite(
        path,
        {
            "[Content_Types].xml": types.replace("</Types>", override + "</Types>").encode(),
            "xl/sharedStrings.xml": strings.encode(),
        },
    )


def billion_laughs_in_the_sheet(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    sheet_xml = LAUGHS.replace("lolz", "worksheet") + sheet_xml.replace(">npi<", ">&lol9;<", 1)
    rewrite(path, {"xl/worksheets/sheet1.xml": sheet_xml.encode()})


@pytest.mark.parametrize("plant", [billion_laughs_in_shared_strings, billion_laughs_in_the_sheet])
def test_xml_entity_expansion_is_refused_without_expanding(roster_xlsx, plant):
    plant(roster_xlsx)
    started = time.monotonic()
    with pytest.raises(RosterFormatError, match="declares entities"):
        list(read_xlsx_rows(roster_xlsx))
    assert time.monotonic() - started < 5


def test_openpyxl_parses_through_defusedxml():
    assert os.environ.get("OPENPYXL_DEFUSEDXML", "True") == "True"
    xlsx_roster._require_defused_xml()
