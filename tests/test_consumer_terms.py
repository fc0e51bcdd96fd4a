"""The consumer vocabulary the search box reads: what members type, in English and Spanish, and
what it means (specialties, conditions, languages, gender, listing type and filters)."""

import csv
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from app.vocab.codes import ENTITY_TYPES, LINES_OF_BUSINESS, OPEN_TIMES
from app.vocab.languages import to_tag
from app.vocab.nucc import lookup

ROOT = Path(__file__).resolve().parent.parent
TERMS = ROOT / "app" / "vocab" / "data" / "consumer_terms.csv"

HEADER = ["phrase", "lang", "kind", "value", "reason_en", "reason_es"]
LANGS = {"en", "es"}
KINDS = {
    "specialty",
    "condition",
    "language",
    "gender",
    "type",
    "pcp",
    "accepting",
    "telehealth",
    "line_of_business",
    "open",
}
FIXED_VALUES = {
    "gender": {"female", "male"},
    "type": set(ENTITY_TYPES) - {"practitioner", "other"},
    "pcp": {"true"},
    "accepting": {"accepting"},
    "telehealth": {"true"},
    "line_of_business": set(LINES_OF_BUSINESS),
    "open": set(OPEN_TIMES),
}
MAX_WORDS = 5

# Names of people and places, and words too vague on their own: none of them is a phrase.
NOT_PHRASES = [
    "dennis",
    "rosa",
    "guadalupe",
    "mercedes",
    "dolores",
    "domingo",
    "jesus",
    "angel",
    "cruz",
    "luz",
    "paz",
    "soledad",
    "esperanza",
    "consuelo",
    "chino",
    "vista",
    "family",
    "familia",
    "heart",
    "skin",
    "kids",
    "women",
    "corazón",
    "piel",
    "niños",
    "mujeres",
    "doctor",
    "médico",
    "dr",
    "medical",
]


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def read() -> tuple[list[str], list[dict[str, str]]]:
    with TERMS.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


ROWS = read()[1]


def codes(row: dict[str, str]) -> list[str]:
    return row["value"].split("|")


def find(phrase: str, lang: str) -> dict[str, str] | None:
    key = fold(phrase)
    return next((r for r in ROWS if r["lang"] == lang and fold(r["phrase"]) == key), None)


def test_file_is_utf8_csv_with_lf_line_ends():
    data = TERMS.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    assert data.endswith(b"\n")
    data.decode("utf-8")


def test_header():
    assert read()[0] == HEADER


def test_lang_and_kind_values():
    for row in ROWS:
        assert row["lang"] in LANGS, row
        assert row["kind"] in KINDS, row
        assert row["value"] and row["value"] == row["value"].strip(), row


def test_every_kind_in_both_languages():
    for lang in LANGS:
        assert {r["kind"] for r in ROWS if r["lang"] == lang} == KINDS, lang


def test_phrases_are_lowercase_and_short():
    for row in ROWS:
        phrase = row["phrase"]
        assert phrase == phrase.strip().lower(), phrase
        assert "  " not in phrase, phrase
        assert 1 <= len(phrase.split()) <= MAX_WORDS, phrase


def test_no_phrase_twice_in_a_language():
    counts = Counter((fold(r["phrase"]), r["lang"]) for r in ROWS)
    assert [key for key, n in counts.items() if n > 1] == []


def test_same_words_mean_the_same_in_both_languages():
    # The search box reads English and Spanish phrases by their words alone, punctuation aside.
    meaning: dict[tuple[str, ...], tuple[str, str, str]] = {}
    for row in ROWS:
        words = tuple(w for w in re.split(r"[^0-9a-z]+", fold(row["phrase"])) if w)
        first = meaning.setdefault(words, (row["kind"], row["value"], row["phrase"]))
        assert first[:2] == (row["kind"], row["value"]), (first[2], row["phrase"])


def test_counts():
    by_lang = Counter(r["lang"] for r in ROWS)
    assert by_lang["en"] >= 420
    assert by_lang["es"] >= 320
    conditions = Counter(r["lang"] for r in ROWS if r["kind"] == "condition")
    assert conditions["en"] >= 120
    assert conditions["es"] >= 100


def test_specialty_and_condition_codes_are_nucc_codes():
    for row in ROWS:
        if row["kind"] not in {"specialty", "condition"}:
            continue
        row_codes = codes(row)
        assert len(row_codes) == len(set(row_codes)), row["phrase"]
        for code in row_codes:
            found = lookup(code)
            assert found is not None and found.code == code, (row["phrase"], code)


def test_reasons_only_on_conditions():
    for row in ROWS:
        if row["kind"] == "condition":
            assert row["reason_en"].strip() and row["reason_es"].strip(), row["phrase"]
        else:
            assert row["reason_en"] == "" and row["reason_es"] == "", row["phrase"]


def test_language_values_are_bcp47_tags():
    for row in ROWS:
        if row["kind"] == "language":
            assert to_tag(row["value"]) == row["value"], row


def test_fixed_values():
    for row in ROWS:
        if row["kind"] in FIXED_VALUES:
            assert set(codes(row)) <= FIXED_VALUES[row["kind"]], row


@pytest.mark.parametrize("word", NOT_PHRASES)
def test_names_and_vague_words_are_not_phrases(word):
    assert find(word, "en") is None
    assert find(word, "es") is None


def test_pediatrics_and_podiatry_stay_apart():
    for phrase, lang in [("pediatra", "es"), ("pediatrician", "en"), ("kids doctor", "en")]:
        row = find(phrase, lang)
        assert row is not None and row["kind"] == "specialty", phrase
        assert "208000000X" in codes(row), phrase
        assert not any(c.startswith("213E") for c in codes(row)), phrase
    podiatry = [("podiatra", "es"), ("podriatra", "es"), ("podólogo", "es"), ("podiatrist", "en")]
    for phrase, lang in podiatry:
        row = find(phrase, lang)
        assert row is not None and row["kind"] == "specialty", phrase
        assert any(c.startswith("213E") for c in codes(row)), phrase
        assert not any(c.startswith("2080") for c in codes(row)), phrase


def test_geriatrics_is_never_pediatrics():
    for phrase, lang in [("geriatrician", "en"), ("geriatra", "es")]:
        row = find(phrase, lang)
        assert row is not None and row["kind"] == "specialty", phrase
        assert "207QG0300X" in codes(row) or "207RG0300X" in codes(row), phrase
        assert not any(c.startswith("2080") for c in codes(row)), phrase


@pytest.mark.parametrize(
    ("phrase", "lang", "kind", "value"),
    [
        ("heart doctor", "en", "specialty", "207RC0000X"),
        ("ob/gyn", "en", "specialty", "207V00000X"),
        ("women's health", "en", "specialty", "207V00000X"),
        ("family doctor", "en", "specialty", "207Q00000X"),
        ("médico de familia", "es", "specialty", "207Q00000X"),
        ("dentist", "en", "specialty", "1223G0001X"),
        ("eye doctor", "en", "specialty", "207W00000X"),
        ("rash", "en", "condition", "207N00000X"),
        ("sarpullido", "es", "condition", "207N00000X"),
        ("embarazada", "es", "condition", "207V00000X"),
        ("dolor de muelas", "es", "condition", "1223G0001X"),
        ("diabetes", "en", "condition", "207RE0101X"),
        ("spanish speaking", "en", "language", "es"),
        ("habla vietnamita", "es", "language", "vi"),
        ("lengua de señas", "es", "language", "ase"),
        ("doctora", "es", "gender", "female"),
        ("male doctor", "en", "gender", "male"),
        ("urgencias", "es", "type", "urgent_care"),
        ("farmacia", "es", "type", "pharmacy"),
        ("médico de cabecera", "es", "pcp", "true"),
        ("acepta pacientes nuevos", "es", "accepting", "accepting"),
        ("telehealth", "en", "telehealth", "true"),
        ("medicaid", "en", "line_of_business", "medi-cal"),
        ("covered ca", "es", "line_of_business", "covered-california"),
        ("open saturday", "en", "open", "sat"),
        ("open on saturdays", "en", "open", "sat"),
        ("weekend hours", "en", "open", "sun"),
        ("open evenings", "en", "open", "evening"),
        ("after work", "en", "open", "evening"),
        ("early morning", "en", "open", "early"),
        ("abierto los sábados", "es", "open", "sat"),
        ("fines de semana", "es", "open", "sat"),
        ("horario de noche", "es", "open", "evening"),
        ("abierto en la noche", "es", "open", "evening"),
    ],
)
def test_examples(phrase, lang, kind, value):
    row = find(phrase, lang)
    assert row is not None, phrase
    assert row["kind"] == kind, phrase
    assert value in row["value"].split("|"), phrase


def test_accents_need_no_second_row():
    assert find("medico de familia", "es") is not None
    assert sum(1 for r in ROWS if r["lang"] == "es" and fold(r["phrase"]) == "pediatra") == 1
