"""The vocabulary data files: the NUCC taxonomy, our specialty labels and the CMS crosswalk."""

import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUCC = ROOT / "app" / "vocab" / "data" / "nucc_taxonomy.csv"
LABELS = ROOT / "app" / "vocab" / "data" / "specialty_labels.csv"
CROSSWALK = ROOT / "indexer" / "data" / "cms_specialty_nucc.csv"

NUCC_CODE = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
MEDICARE_CODE = re.compile(r"^[0-9A-Z]{2}$")
PCP_TYPES = {"family", "internal", "pediatrics", "general", "geriatrics", "obgyn"}


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def taxonomy_codes() -> set[str]:
    return {row["code"] for row in read(NUCC)[1]}


def test_files_are_utf8_without_bom():
    for path in (NUCC, LABELS, CROSSWALK):
        assert not path.read_bytes().startswith(b"\xef\xbb\xbf"), path.name


def test_taxonomy_has_every_code_once():
    fields, rows = read(NUCC)
    assert fields == [
        "code",
        "grouping",
        "classification",
        "specialization",
        "display_name",
        "section",
    ]
    codes = [row["code"] for row in rows]
    assert len(codes) == 883
    assert len(set(codes)) == 883
    assert codes == sorted(codes)


def test_taxonomy_values():
    for row in read(NUCC)[1]:
        assert NUCC_CODE.match(row["code"]), row["code"]
        assert row["section"] in {"Individual", "Non-Individual"}, row["code"]
        assert row["grouping"] and row["classification"] and row["display_name"], row["code"]
        for value in row.values():
            assert value == value.strip(), row["code"]


def test_labels_columns_and_codes():
    fields, rows = read(LABELS)
    assert fields == ["code", "display", "display_es", "pcp_type", "terms"]
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes))
    assert codes == sorted(codes)
    assert set(codes) <= taxonomy_codes()
    assert all(row["display"] for row in rows)


def test_labels_spanish_coverage():
    rows = read(LABELS)[1]
    assert sum(1 for row in rows if row["display_es"]) >= 180


def test_labels_pcp_types():
    rows = read(LABELS)[1]
    pcp_rows = [row for row in rows if row["pcp_type"]]
    assert pcp_rows
    for row in pcp_rows:
        assert row["pcp_type"] in PCP_TYPES, row["code"]
        assert row["display_es"], row["code"]
    by_code = {row["code"]: row["pcp_type"] for row in rows}
    assert by_code["207Q00000X"] == "family"
    assert by_code["207R00000X"] == "internal"
    assert by_code["208000000X"] == "pediatrics"
    assert by_code["363LP0200X"] == "pediatrics"


def test_labels_terms_are_plain_words():
    for row in read(LABELS)[1]:
        terms = row["terms"].split("|") if row["terms"] else []
        for term in terms:
            assert term and term == term.strip() and term == term.lower(), row["code"]
        assert "doctor" not in terms, row["code"]


def test_crosswalk():
    fields, rows = read(CROSSWALK)
    assert fields == ["cms_specialty", "medicare_code", "nucc_code"]
    assert len(rows) >= 150
    names = [row["cms_specialty"] for row in rows]
    assert len(names) == len(set(names))
    codes = taxonomy_codes()
    for row in rows:
        name = row["cms_specialty"]
        assert name == name.upper() and name == " ".join(name.split()), name
        assert row["nucc_code"] in codes, name
        assert not row["medicare_code"] or MEDICARE_CODE.match(row["medicare_code"]), name
    by_name = {row["cms_specialty"]: row for row in rows}
    assert by_name["INTERNAL MEDICINE"]["nucc_code"] == "207R00000X"
    assert by_name["INTERNAL MEDICINE"]["medicare_code"] == "11"
    assert by_name["NURSE PRACTITIONER"]["nucc_code"] == "363L00000X"
    assert by_name["FAMILY PRACTICE"]["medicare_code"] == "08"
