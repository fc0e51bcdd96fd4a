"""Opening hours: reading an hours text into the times a location is open, and the `open` filter
through the API on both engines, checked against the fixture roster read with plain code."""

import random

import pytest

from app.vocab.codes import OPEN_TIMES
from app.vocab.hours import open_times
from tests import oracle
from tests.test_search_contract import as_query, assert_matches_oracle, fetch_all

WEEKDAYS = {"mon", "tue", "wed", "thu", "fri"}
EVERY_DAY = WEEKDAYS | {"sat", "sun"}
PEDIATRICS = "208000000X"

# Hours as rosters and Plan-Net write them -> the times they are open.
HOURS = [
    ("Mon-Fri 8:00-17:00", WEEKDAYS),
    ("Mon-Fri 8:00-17:00; Sat 9:00-13:00", WEEKDAYS | {"sat"}),
    ("Mon, Wed, Fri 9:00-17:00; Tue, Thu 12:00-20:00", WEEKDAYS | {"evening"}),
    ("Mon-Thu 8:00-18:00; Fri 8:00-12:00", WEEKDAYS),  # closing at 18:00 is not the evening
    ("Mon-Fri 7:30-16:30", WEEKDAYS | {"early"}),
    ("Mon-Fri 8:00-19:00; Sat-Sun 9:00-14:00", EVERY_DAY | {"evening"}),
    ("Daily 9:00-21:00", EVERY_DAY | {"evening"}),
    ("Open 24 hours", EVERY_DAY | {"evening", "early"}),
    ("24/7", EVERY_DAY | {"evening", "early"}),
    ("24 hours", EVERY_DAY | {"evening", "early"}),
    ("Mon, Tue, Thu 7:30-12:00; Sun 24 hours", {"mon", "tue", "thu", "sun", "early", "evening"}),
    ("M-F 8am-5pm", WEEKDAYS),
    ("M-F 7am-7pm", WEEKDAYS | {"early", "evening"}),
    ("Mon-Fri 8:30am - 5:00pm", WEEKDAYS),
    ("Mon-Fri 8:30 AM - 6:30 PM", WEEKDAYS | {"evening"}),
    ("Mon-Fri 8:00 a.m. - 5:00 p.m.", WEEKDAYS),
    ("Mon-Fri 9a-5p", WEEKDAYS),
    ("Sat 9-1", {"sat"}),
    ("M-Th 8-6, F 8-12", WEEKDAYS),
    ("M-Th 7-7, F 8-12", WEEKDAYS | {"early", "evening"}),
    ("Tue 5-9", {"tue", "evening"}),
    ("Monday-Friday 8:00AM-5:00PM, Saturday 9:00AM-12:00PM", WEEKDAYS | {"sat"}),
    ("8:00 AM - 5:00 PM Monday - Friday", WEEKDAYS),
    ("8am-5pm M-F; 9am-1pm Sat", WEEKDAYS | {"sat"}),
    ("Mon-Fri 0800-1700", WEEKDAYS),
    ("Mon-Fri 0700-1900", WEEKDAYS | {"early", "evening"}),
    ("MWF 9-5", {"mon", "wed", "fri"}),
    ("TTh 1-7", {"tue", "thu", "evening"}),
    ("Tues/Thurs 9-5", {"tue", "thu"}),
    ("Mon-Fri 9-5, closed weekends", WEEKDAYS),
    ("Mon-Sat 9-5, Closed Sunday", WEEKDAYS | {"sat"}),
    ("Sat-Sun: Closed; Mon-Fri 9-5", WEEKDAYS),
    ("Daily 9-5 except Sun", WEEKDAYS | {"sat"}),
    ("Mon-Fri except Wed 8-5", {"mon", "tue", "thu", "fri"}),
    ("Fri-Mon 10-6", {"fri", "sat", "sun", "mon"}),
    ("7 days a week 8am-8pm", EVERY_DAY | {"evening"}),
    ("Weekends 10-4", {"sat", "sun"}),
    ("Weekdays 7:30-4", WEEKDAYS | {"early"}),
    ("Mon-Fri 8-5 (lunch 12-1)", WEEKDAYS),
    ("Mon-Fri 9-5, closed 12-1 for lunch", WEEKDAYS),
    ("Mon-Fri 8:00-12:00, 13:00-17:00", WEEKDAYS),
    ("Mon 9-12, 1-5", {"mon"}),
    ("Mon-Fri 8:00-17:00 Sat 9:00-13:00", WEEKDAYS | {"sat"}),
    ("Mon-Fri 20:00-2:00", WEEKDAYS | {"evening"}),  # past midnight
    ("Mon-Fri 8am-noon", WEEKDAYS),
    ("Fri 5pm-midnight", {"fri", "evening"}),
    ("Mon \u2013 Fri 8:00\u201317:00", WEEKDAYS),
    ("Mon thru Fri 8 to 5", WEEKDAYS),
    ("Monday through Friday 8:00am until 8:00pm", WEEKDAYS | {"evening"}),
    ("lunes a viernes de 8 a 5, sábados de 9 a 1", WEEKDAYS | {"sat"}),
    ("Lun-Vie 8:00-17:00; Sáb 9:00-13:00", WEEKDAYS | {"sat"}),
    ("Mon-Fri", WEEKDAYS),  # days without times
    ("Saturday by appointment", {"sat"}),
    ("8am-8pm", {"evening"}),  # times without days: open in the evening, on days not said
]
# Texts that say no time a location is open.
NO_TIME = [
    None,
    "",
    "   ",
    "Closed",
    "Closed Sunday",
    "Closed Sat, Sun",
    "call for hours",
    "By appointment only",
    "Varies",
    "N/A",
    "see website",
    "25:00-26:00",
    "13pm-5pm",
]


@pytest.mark.parametrize(("written", "times"), HOURS, ids=[h for h, _ in HOURS])
def test_hours_as_rosters_write_them(written, times):
    assert set(open_times(written)) == times


@pytest.mark.parametrize("written", NO_TIME)
def test_text_that_says_no_time_is_open_at_no_time(written):
    assert open_times(written) == ()


def test_times_come_in_the_code_lists_order():
    assert open_times("Sun 7:00-20:00; Mon 9-5") == ("mon", "sun", "evening", "early")


def test_no_text_raises():
    pieces = [*"0123456789:;,-/ apmAPM.|()\n", "Mon", "Fri", "Sat", "Sun", "M", "Th", "closed"]
    pieces += ["except", "24", "hours", "to", "noon", "midnight", "daily", "7 days", "0800", "99"]
    rng = random.Random(2026)
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 24)))
        assert set(open_times(text)) <= set(OPEN_TIMES)


def test_documents_carry_the_times_their_hours_say(roster_docs):
    for doc in roster_docs:
        for loc in doc["locations"]:
            assert set(loc["open_times"]) == oracle.open_times(loc["hours"]), loc["hours"]


def test_the_fixture_roster_has_every_time_and_locations_without_hours(roster_docs):
    read = [oracle.open_times(loc["hours"]) for doc in roster_docs for loc in doc["locations"]]
    assert set().union(*read) == set(OPEN_TIMES)
    assert any(not times for times in read)


@pytest.mark.parametrize("code", OPEN_TIMES)
def test_open_matches_brute_force(client, roster_docs, code):
    assert_matches_oracle(client, roster_docs, {"open": code})


def _read(body: dict) -> dict[str, list[str]]:
    return {p["parameter"]: p["values"] for p in body["interpretation"]["phrases"]}


def _with_hours(docs, specialties, code) -> set[str]:
    """Providers of these specialties with a location open at that time, by plain reading."""
    return {
        doc["npi"]
        for doc in docs
        if set(doc["specialty_codes"]) & set(specialties)
        and any(code in oracle.open_times(loc["hours"]) for loc in doc["locations"])
    }


def test_pediatrician_open_saturday_finds_the_pediatricians_open_on_saturday(client, roster_docs):
    results, first = fetch_all(client, {"q": "pediatrician open saturday"})
    read = _read(first)
    assert set(read) == {"specialty", "open"} and read["open"] == ["sat"]
    assert PEDIATRICS in read["specialty"]
    expected = _with_hours(roster_docs, read["specialty"], "sat")
    assert expected and {r["npi"] for r in results} == expected
    # Only the Saturday locations are listed.
    for result in results:
        assert all("sat" in oracle.open_times(loc["hours"]) for loc in result["locations"])
    labels = [p["label"] for p in first["interpretation"]["phrases"]]
    assert "Open Saturday" in labels


def test_an_explicit_open_wins_over_the_reading(client, roster_docs):
    results, first = fetch_all(client, {"q": "pediatrician open saturday", "open": "evening"})
    read = _read(first)
    expected = _with_hours(roster_docs, read["specialty"], "evening")
    assert expected != _with_hours(roster_docs, read["specialty"], "sat")
    assert {r["npi"] for r in results} == expected


@pytest.mark.parametrize(
    ("typed", "lang", "label"),
    [
        ("pediatrician open saturday", "en", "Open Saturday"),
        ("pediatra abierto el sábado", "es", "Abierto el sábado"),
        ("doctor open evenings", "en", "Open evenings"),
        ("médico abierto en la noche", "es", "Abierto por la noche"),
        ("open weekends", "en", "Open weekends"),
        ("fines de semana", "es", "Abierto los fines de semana"),
        ("early morning", "en", "Open early mornings"),
    ],
)
def test_the_reading_is_labelled_in_the_readers_language(client, typed, lang, label):
    body = client.get("/v1/providers", query_string={"q": typed, "lang": lang, "limit": 1}).json
    opened = [p for p in body["interpretation"]["phrases"] if p["parameter"] == "open"]
    assert [p["label"] for p in opened] == [label]


def _empty_only_for_sunday(docs) -> str:
    """A ZIP code with pediatricians within 3 miles, none of them open on Sunday there."""
    zips = sorted({loc["zip"] for doc in docs for loc in doc["locations"]})
    for zip_code in zips:
        near = {"specialty": PEDIATRICS, "near": zip_code, "radius": "3"}
        try:
            found = oracle.search(docs, as_query(near))
        except Exception:  # a ZIP the directory cannot place
            continue
        if found and not oracle.search(docs, as_query({**near, "open": "sun"})):
            return zip_code
    raise AssertionError("the fixture has no such place")


def test_nobody_open_sunday_offers_the_search_without_it(client, roster_docs):
    zip_code = _empty_only_for_sunday(roster_docs)
    params = {"specialty": PEDIATRICS, "near": zip_code, "radius": "3", "open": "sun"}
    body = client.get("/v1/providers", query_string=params).json
    assert body["total"] == 0
    offered = {item["parameter"]: item for item in body["relaxations"]}
    without = {k: v for k, v in params.items() if k != "open"}
    assert offered["open"]["drop"] == "open"
    assert offered["open"]["total"] == len(oracle.search(roster_docs, as_query(without)))
    assert offered["open"]["label"].startswith("Without “Open”")
    # Read from the search box, the same search gives up the same filter.
    typed = {"q": "pediatrician open sunday", "near": zip_code, "radius": "3"}
    body = client.get("/v1/providers", query_string=typed).json
    assert body["total"] == 0 and "open" in {i["parameter"] for i in body["relaxations"]}


def test_the_page_shows_the_reading_and_an_explicit_choice_as_chips(client):
    page = client.get("/?q=pediatra+abierto+los+s%C3%A1bados&lang=es").get_data(as_text=True)
    assert "Abierto el sábado" in page
    page = client.get("/?q=pediatrician&open=evening&lang=en").get_data(as_text=True)
    assert "Open evenings" in page
