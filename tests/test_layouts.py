"""Declared roster layouts: health-plan rosters of other shapes and codes, with no code per plan."""

import json
from pathlib import Path

import pytest

from indexer.documents import build_documents
from indexer.layout import LayoutError, load_layout, read_with_layout, shipped_layouts
from indexer.pipeline import collect
from indexer.records import ERROR, ImportSummary
from indexer.sources.csv_roster import open_roster
from tests.conftest import EDGE_ROSTER, ROOT

SAMPLES = ROOT / "fixtures" / "layouts"


def directory_of(rows) -> tuple[ImportSummary, list[dict]]:
    summary = ImportSummary(source="sample")
    return summary, list(collect(rows, summary).documents())


def plan_rows(docs) -> set[tuple]:
    return {
        (
            d["npi"],
            loc["location_id"],
            p["plan"],
            p["line_of_business"],
            p["plan_provider_id"],
            p["accepting"],
            p["panel_capacity"],
        )
        for d in docs
        for loc in d["locations"]
        for p in loc["plans"]
    }


def test_shipped_layouts_load():
    assert {"provider-directory", "pacific-crest", "sunrise-medi-cal"} <= set(shipped_layouts())
    for name in shipped_layouts():
        assert load_layout(name).name == name


def test_own_layout_reads_like_the_plain_reader():
    layout = load_layout("provider-directory")
    _, via_layout = directory_of(read_with_layout(EDGE_ROSTER, layout))
    _, plain = directory_of(open_roster(EDGE_ROSTER))
    assert via_layout == plain


def test_row_per_plan_layout_round_trips():
    summary, docs = directory_of(
        read_with_layout(SAMPLES / "pacific-crest-sample.csv", load_layout("pacific-crest"))
    )
    assert summary.rows_rejected == 0, summary.errors
    assert plan_rows(docs) == {
        (
            "1583204171",
            "PC-OF-101",
            "pacific-crest-hmo",
            "commercial",
            "PCH10000001",
            "accepting",
            1500,
        ),
        (
            "1583204171",
            "PC-OF-101",
            "pacific-crest-ppo",
            "commercial",
            "PCP20000001",
            "existing_only",
            None,
        ),
        (
            "1928044662",
            "PC-OF-202",
            "pacific-crest-hmo",
            "commercial",
            "PCH10000002",
            "not_accepting",
            1200,
        ),
        (
            "1492307768",
            "PC-OF-303",
            "pacific-crest-ppo",
            "commercial",
            "PCP20000003",
            "accepting",
            None,
        ),
    }
    nunez = next(d for d in docs if d["npi"] == "1583204171")
    assert nunez["languages"] == ["es", "en"] and nunez["gender"] == "male"
    assert nunez["last_verified"] == "2026-11-02"
    assert nunez["locations"][0]["telehealth"] is True
    pena = next(d for d in docs if d["npi"] == "1928044662")
    assert (pena["age_min"], pena["age_max"]) == (0, 18)


def test_plan_columns_layout_round_trips():
    summary, docs = directory_of(
        read_with_layout(SAMPLES / "sunrise-medi-cal-sample.csv", load_layout("sunrise-medi-cal"))
    )
    assert summary.rows_rejected == 0, summary.errors
    assert plan_rows(docs) == {
        ("1583204171", "S-0101", "sunrise-medi-cal", "medi-cal", "SNR4410923", "accepting", 1500),
        (
            "1583204171",
            "S-0101",
            "sunrise-covered-ca",
            "covered-california",
            "SNRC4410923",
            "existing_only",
            None,
        ),
        (
            "1364779029",
            "S-0201",
            "sunrise-medi-cal",
            "medi-cal",
            "SNR7730481",
            "existing_family",
            800,
        ),
        (
            "1928044662",
            "S-0301",
            "sunrise-covered-ca",
            "covered-california",
            "SNRC0418876",
            "accepting",
            None,
        ),
    }
    linh = next(d for d in docs if d["npi"] == "1364779029")
    assert linh["locations"][0]["staff_languages"] == ["vi", "es"]
    assert linh["locations"][0]["accessibility"] == []
    nunez = next(d for d in docs if d["npi"] == "1583204171")
    assert nunez["locations"][0]["accessibility"] == ["ada-access"]
    assert nunez["last_verified"] == "2026-11-02"


def test_a_misspelt_column_is_refused_before_any_row(tmp_path):
    text = (SAMPLES / "pacific-crest-sample.csv").read_text(encoding="utf-8")
    broken = tmp_path / "roster.csv"
    broken.write_text(text.replace("Panel Status", "Panel Stauts", 1), encoding="utf-8")
    with pytest.raises(LayoutError, match="'Panel Status'"):
        read_with_layout(broken, load_layout("pacific-crest"))


def test_a_layout_naming_an_unknown_column_is_refused(tmp_path):
    layout = json.loads(Path(shipped_layouts()["pacific-crest"]).read_text(encoding="utf-8"))
    layout["columns"]["Sex"] = "sex"
    path = tmp_path / "bad-layout.json"
    path.write_text(json.dumps(layout), encoding="utf-8")
    with pytest.raises(LayoutError, match="not a roster column: sex"):
        load_layout(path)
    del layout["columns"]["PCP ID"]
    layout["columns"]["Sex"] = "gender"
    path.write_text(json.dumps(layout), encoding="utf-8")
    with pytest.raises(LayoutError, match="plan_provider_id"):
        load_layout(path)


def test_bad_cells_are_reported_with_the_rosters_own_column_names(tmp_path, fresh_engine):
    from indexer.pipeline import import_roster

    text = (SAMPLES / "pacific-crest-sample.csv").read_text(encoding="utf-8")
    broken = tmp_path / "roster.csv"
    # A bad panel status is left out with a warning; a bad NPI (the key) rejects its row.
    text = text.replace(",Closed,", ",Maybe,").replace("1492307768,", "1492307769,")
    broken.write_text(text, encoding="utf-8")
    summary = import_roster(fresh_engine, broken, layout=load_layout("pacific-crest"))
    assert [(e.line, e.field, e.severity) for e in summary.errors] == [
        (4, "Panel Status", "warning"),
        (5, "Provider NPI", "error"),
    ]
    assert (summary.rows_imported, summary.rows_with_warnings, summary.rows_rejected) == (3, 1, 1)
    assert fresh_engine.health()["providers"] == 2  # Goldberg's only row had the bad NPI


def test_build_documents_helper_matches_collect():
    _summary, docs = directory_of(open_roster(EDGE_ROSTER))
    records = []
    from indexer.enrich import enrich
    from indexer.validate import validate_rows

    for _line, record, _problems in validate_rows(open_roster(EDGE_ROSTER)):
        if record is not None and not any(p.severity == ERROR for p in enrich(record)):
            records.append(record)
    assert [d["npi"] for d in build_documents(records)] == [d["npi"] for d in docs]
