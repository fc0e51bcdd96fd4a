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
    ("pediatrician open saturday", {"specialty": {PEDIATRICS}, "open": {"sat"}}, ()),
    ("urgent care open sunday", {"type": {"urgent_care"}, "open": {"sun"}}, ()),
    ("doctor open evenings", {"open": {"evening"}}, ()),
    ("abierto los sábados", {"open": {"sat"}}, ()),
    ("pediatra abierto los sabados", {"specialty": {PEDIATRICS}, "open": {"sat"}}, ()),
    ("fines de semana", {"open": {"sat", "sun"}}, ()),
    ("family doctor early morning", {"specialty": {PCP_FAMILY}, "open": {"early"}}, ()),
    ("Domingo Lopez", {}, ("domingo", "lopez")),
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


# Plan names as a live directory may hold them (code -> display name).
PLANS = {
    "sunrise-medi-cal": "Sunrise Health Medi-Cal",
    "sunrise-covered-ca": "Sunrise Health Covered California",
    "golden-poppy-medi-cal": "Golden Poppy Health Plan Medi-Cal",
    "golden-poppy-dual-advantage": "Golden Poppy Dual Advantage (HMO D-SNP)",
    "bluewave-ppo": "BlueWave PPO",
    "blue-shield-promise": "Blue Shield of California Promise Health Plan",
    "la-care": "L.A. Care Health Plan",
    "seaside-senior-advantage": "Seaside Senior Advantage (HMO)",
}
GOLDEN_POPPY = ("golden-poppy-dual-advantage", "golden-poppy-medi-cal")
SUNRISE = ("sunrise-covered-ca", "sunrise-medi-cal")

# query -> (plans read, lines of business read, words left)
PLAN_READINGS = [
    ("golden poppy medi-cal", ("golden-poppy-medi-cal",), (), ()),
    ("Golden Poppy", GOLDEN_POPPY, (), ()),
    ("golden poppy medicare", GOLDEN_POPPY, ("medicare-advantage",), ()),
    ("blue shield", ("blue-shield-promise",), (), ()),
    ("blue shield medi-cal", ("blue-shield-promise",), ("medi-cal",), ()),
    ("LA care", ("la-care",), (), ()),
    ("L.A. Care", ("la-care",), (), ()),
    ("blue wave", ("bluewave-ppo",), (), ()),
    ("sunrise medi-cal", ("sunrise-medi-cal",), (), ()),
    ("medi-cal sunrise", SUNRISE, ("medi-cal",), ()),
    ("seaside senior advantage", ("seaside-senior-advantage",), (), ()),
    ("smith golden poppy", GOLDEN_POPPY, (), ("smith",)),
    # A brand word alone may be a name; "la" is also "de la Cruz"; "health plan" is no brand.
    ("Dr. Golden", (), (), ("golden",)),
    ("golden pediatrician", (), (), ("golden",)),
    ("sunrise", (), (), ("sunrise",)),
    ("de la cruz", (), (), ("cruz",)),
    ("health plan", (), (), ("health", "plan")),
    ("poppy", (), (), ("poppy",)),
]


@pytest.mark.parametrize(("typed", "plans", "lines", "words"), PLAN_READINGS)
def test_plan_names_read_as_plans(typed, plans, lines, words):
    reading = read_query(typed, PLANS)
    assert reading.values("plan") == plans, (typed, reading)
    assert reading.values("line_of_business") == lines, (typed, reading)
    assert reading.words == words, (typed, reading)


def test_plan_names_are_read_only_when_given():
    assert read_query("golden poppy").words == ("golden", "poppy")
    (plan,) = read_query("golden poppy medi-cal", PLANS).phrases
    assert plan.labels == ("Golden Poppy Health Plan Medi-Cal",)


# query -> (kind, what is matched exactly, words left)
DIRECT_READINGS = [
    ("(562) 555-0196", "phone", "5625550196", ()),
    ("562-555-0196", "phone", "5625550196", ()),
    ("562.555.0196", "phone", "5625550196", ()),
    ("5625550196", "phone", "5625550196", ()),
    ("+1 562 555 0196", "phone", "5625550196", ()),
    ("1-562-555-0196 king", "phone", "5625550196", ("king",)),
    ("GP-91506-T", "provider_id", "gp91506t", ()),
    ("gp91506t", "provider_id", "gp91506t", ()),
    ("SNRC8360852", "provider_id", "snrc8360852", ()),
    ("snr-4575573 smith", "provider_id", "snr4575573", ("smith",)),
    ("BW-1234-5678", "provider_id", "bw12345678", ()),
]


@pytest.mark.parametrize(("typed", "kind", "exact", "words"), DIRECT_READINGS)
def test_phone_numbers_and_provider_ids_are_read_as_one_exact_word(typed, kind, exact, words):
    reading = read_query(typed)
    (phrase,) = reading.phrases
    assert (phrase.kind, phrase.parameter, phrase.values) == (kind, "q", (exact,))
    assert reading.words == words
    assert reading.search_words == (exact, *words)
    # The zip code inside an ID or a phone is no place.
    assert not reading.values("near")


@pytest.mark.parametrize("typed", ["covid-19", "type 2 diabetes", "90012", "b12"])
def test_words_with_a_few_digits_are_no_ids(typed):
    assert not [p for p in read_query(typed).phrases if p.kind in ("phone", "provider_id")]


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("J Smith", ("j", "smith")),
        ("J. Smith", ("j", "smith")),
        ("Smith J", ("smith", "j")),
        ("Smith, J.", ("smith", "j")),
        ("John Q Smith", ("john", "q", "smith")),
        ("A. Smith", ("a", "smith")),  # "a" is an initial here, not the article
        ("Robert A Phillips", ("robert", "a", "phillips")),
        ("a smith", ("smith",)),
        ("Dr. Smith", ("smith",)),
        ("Dra. Smith", ("smith",)),
        ("Smith MD", ("smith",)),
        ("doctor smith", ("smith",)),
    ],
)
def test_initials_stay_and_titles_go(typed, words):
    assert read_query(typed).words == words
