"""The query reader: what people type -> filters and leftover words, checked exactly."""

import pytest

from app.search.reader import read_query

PCP_FAMILY = "207Q00000X"
PEDIATRICS = "208000000X"
DERMATOLOGY = "207N00000X"
OBGYN = "207V00000X"

# query -> {parameter: values that must all be read}, leftover words (exactly)
READINGS = [
    ("spanish speaking pediatrician", {"language": {"es"}, "specialty": {PEDIATRICS}}, ()),
    ("pediatra que hable español", {"language": {"es"}, "specialty": {PEDIATRICS}}, ()),
    ("female obgyn irvine", {"gender": {"female"}, "specialty": {OBGYN}}, ()),
    ("cardiology 90012", {"near": {"90012"}}, ()),
    ("rash", {"specialty": {DERMATOLOGY}}, ()),
    ("family doctor", {"specialty": {PCP_FAMILY}}, ()),
    ("kids doctor", {"specialty": {PEDIATRICS}}, ()),
    ("urgent care", {"type": {"urgent_care"}}, ()),
    ("farmacia", {"type": {"pharmacy"}}, ()),
    ("medi-cal", {"line_of_business": {"medi-cal"}}, ()),
    ("accepting new patients", {"accepting_new_patients": {"accepting"}}, ()),
    ("telehealth", {"telehealth": {"true"}}, ()),
    ("habla vietnamita", {"language": {"vi"}}, ()),
    ("doctora", {"gender": {"female"}}, ()),
    ("ASL", {"language": {"ase"}}, ()),
    ("Dr. Nguyen", {}, ("nguyen",)),
    ("Bob Smith", {}, ("bob", "smith")),
    ("smith pediatrician los angeles", {"specialty": {PEDIATRICS}}, ("smith",)),
]


@pytest.mark.parametrize(("typed", "filters", "words"), READINGS)
def test_a_query_reads_as_filters_and_words(typed, filters, words):
    reading = read_query(typed)
    for parameter, wanted in filters.items():
        assert wanted <= set(reading.values(parameter)), (typed, reading)
    assert reading.words == words, (typed, reading)


def test_what_was_read_is_nothing_else():
    reading = read_query("spanish speaking pediatrician")
    assert {p.parameter for p in reading.phrases} == {"language", "specialty"}


@pytest.mark.parametrize(
    ("typed", "not_codes"),
    [("geriatrician", ("2080",)), ("pediatrician", ("207QG", "207RG")), ("pediatra", ("213E",))],
)
def test_look_alike_specialties_stay_apart(typed, not_codes):
    codes = read_query(typed).values("specialty")
    assert codes and not [c for c in codes if c.startswith(not_codes)], (typed, codes)


def test_a_long_word_one_typo_away_reads_as_the_word_a_short_name_does_not():
    reading = read_query("pediatrision")
    assert PEDIATRICS in reading.values("specialty")
    assert reading.phrases[0].text == "pediatrision" and reading.phrases[0].phrase
    dennis = read_query("Dennis")
    assert dennis.phrases == () and dennis.words == ("dennis",)
    arash = read_query("Arash")
    assert arash.phrases == () and arash.words == ("arash",)


def test_a_one_word_city_is_a_place_only_beside_something_read():
    assert read_query("Irvine").words == ("irvine",)  # may be a name
    assert read_query("pediatrician irvine").values("near")
    assert read_query("los angeles").values("near")


def test_a_zip_is_a_place_once():
    reading = read_query("90012 90033")
    assert reading.values("near") == ("90012",) and reading.words == ("90033",)
