"""Searches as people type them, through the API on both engines: the query is read into filters,
the reading is in the answer, explicit parameters win, and look-alike names are never matched."""

import re

import pytest

from app.search.reader import read_query
from tests.api_calls import search

DERMATOLOGY = "207N00000X"
PEDIATRICS = ("208000000X", "2080P0202X")
GERIATRICS = ("207QG0300X", "207RG0300X")
FAMILY = ("207Q00000X", "207QG0300X", "363LF0000X")
PODIATRY = "213E00000X"


def codes(result: dict) -> set[str]:
    return {s["code"] for s in result["specialties"]}


def test_spanish_speaking_pediatrician(client):
    body = search(client, q="spanish speaking pediatrician")
    assert body["total"] > 0
    for result in body["results"]:
        assert "es" in result["languages"] and codes(result) & set(PEDIATRICS)
    reading = body["interpretation"]
    assert {p["parameter"] for p in reading["phrases"]} == {"language", "specialty"}
    assert reading["words"] == []
    labels = [p["label"] for p in reading["phrases"]]
    assert "Speaks Spanish" in labels and "Pediatrics" in labels[1]


def test_the_same_in_spanish_with_labels_in_spanish(client):
    body = search(client, q="pediatra que hable español", lang="es")
    english = search(client, q="spanish speaking pediatrician")
    assert body["total"] == english["total"] > 0
    labels = [p["label"] for p in body["interpretation"]["phrases"]]
    assert "Habla español" in labels and any("Pediatría" in label for label in labels)


@pytest.mark.parametrize(
    ("typed", "must", "never_named"),
    [
        ("rash", (DERMATOLOGY,), "arash"),
        ("dentist", ("1223G0001X", "122300000X", "1223P0221X"), "dennis"),
        ("family doctor", FAMILY, "emily"),
        ("geriatrician", GERIATRICS, None),
        ("pediatra", PEDIATRICS, None),
    ],
)
def test_words_people_use_find_the_specialty_not_look_alike_names(client, typed, must, never_named):
    read = set(read_query(typed).values("specialty"))
    assert set(must) & read, (typed, read)  # the specialty people mean is among those read
    body = search(client, q=typed)
    for result in body["results"]:
        assert codes(result) & read, (typed, result["display_name"], codes(result))
        if never_named:
            assert never_named not in result["display_name"].lower()
    if typed == "pediatra":
        assert not any(PODIATRY in codes(r) for r in body["results"])


def test_a_zip_in_the_query_is_near(client):
    body = search(client, q="cardiology 90012")
    assert body["sort"] == "relevance"  # blended with distance (README "Ranking")
    assert all("distance_miles" in loc for r in body["results"] for loc in r["locations"])
    assert body["interpretation"]["phrases"][-1]["label"] == "Near 90012"


def test_explicit_parameters_win_and_understanding_can_be_turned_off(client):
    read = search(client, q="spanish speaking pediatrician")
    explicit = search(client, q="spanish speaking pediatrician", language="vi")
    assert explicit["total"] != read["total"]
    assert all("vi" in r["languages"] for r in explicit["results"])
    literal = search(client, q="spanish speaking pediatrician", understand="false")
    assert literal["interpretation"] is None
    assert literal["total"] == 0  # every word must match a provider's text


def test_the_page_shows_the_reading_as_removable_chips(client):
    html = client.get("/?q=spanish+speaking+pediatrician&lang=en").get_data(as_text=True)
    assert "Your search was read as" in html
    assert "Speaks Spanish" in html
    # Removing the language chip searches for the pediatrician alone.
    assert 'href="/?lang=en&amp;q=pediatrician"' in html
    near = client.get("/?q=pediatrician+90033&lang=en").get_data(as_text=True)
    assert "within 10 miles of 90033" in near


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("Liz King", "Elizabeth", "King"),
        ("Lupe Herrera", "Guadalupe", "Herrera"),
        ("Paco Romero", "Francisco", "Romero"),
        ("Dan Cook", "Daniel", "Cook"),
    ],
)
def test_nicknames_find_the_person(client, typed, first, last):
    body = search(client, q=typed)
    names = [(r["name"]["first"], r["name"]["last"]) for r in body["results"]]
    assert (first, last) in names, (typed, names)
    assert body["interpretation"]["words"] == [w.lower() for w in typed.split()]


def test_nobody_found_offers_the_nearest_searches_that_find_someone(client):
    params = {"q": "armenian speaking pediatrician", "near": "90033", "radius": "1"}
    body = search(client, **params)
    assert body["total"] == 0
    offered = body["relaxations"]
    assert offered, body
    for item in offered:
        changed = dict(params)
        if item["parameter"] == "radius":
            changed["radius"] = str(item["radius"])
        else:
            changed["understand"] = "false"
            changed.pop("q")
            read = {p["parameter"]: p["values"] for p in body["interpretation"]["phrases"]}
            for parameter, values in read.items():
                if parameter != item["drop"]:
                    changed[parameter] = values
        again = search(client, **changed)
        assert again["total"] == item["total"] > 0, (item, again["total"])
        assert str(item["total"]) in item["label"]
    assert search(client, q="pediatrician")["relaxations"] == []


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("rahs", "rash"),
        ("ashtma", "asthma"),
        ("alergy", "allergy"),
        ("cancr", "cancer"),
    ],
)
def test_did_you_mean_a_misspelt_word(client, typed, meant):
    body = search(client, q=typed)
    offered = body["did_you_mean"]
    assert offered["q"] == meant
    assert offered["total"] == search(client, q=meant)["total"] > 0
    assert meant in offered["label"]


@pytest.mark.parametrize("typed", ["Dennis", "pediatrician", "nguyen", "Garcia Lopez"])
def test_no_did_you_mean_for_names_and_words_read(client, typed):
    assert search(client, q=typed)["did_you_mean"] is None


def test_the_page_offers_the_respelled_search_and_the_nearest_searches(client):
    html = client.get("/?q=rahs&lang=en").get_data(as_text=True)
    assert "Did you mean “rash”?" in html and 'href="/?lang=en&amp;q=rash"' in html
    spanish = client.get("/?q=rahs&lang=es").get_data(as_text=True)
    assert "¿Quiso decir “rash”?" in spanish
    # Nobody within a mile: the page says how many a wider radius finds, and links to it.
    html = client.get("/?q=pediatrician&near=90033&radius=1&lang=en").get_data(as_text=True)
    assert "No providers match" in html
    assert 'href="/?lang=en&amp;q=pediatrician&amp;near=90033&amp;radius=5">Within 5 miles:' in html
    # A filter read from the box is dropped by taking its words out of the box.
    typed = "/?q=female+pediatrician+who+speaks+russian+90033&lang=en"
    html = client.get(typed).get_data(as_text=True)
    assert "No providers match" in html
    assert '<a href="/?lang=en&amp;q=female+pediatrician+who+90033">Without “Language' in html


def test_near_me_is_read_as_a_place_the_visitor_must_give(client):
    body = search(client, q="pediatrician near me")
    near_me = body["interpretation"]["phrases"][-1]
    assert near_me == {
        "text": "near me",
        "kind": "near_me",
        "parameter": "near",
        "values": [],
        "label": "Near you",
    }
    # Without a place nobody is left out; with one, it applies.
    assert body["total"] == search(client, q="pediatrician")["total"]
    near = search(client, q="pediatrician near me", near="90033")
    assert near["total"] < body["total"]
    assert all("distance_miles" in loc for r in near["results"] for loc in r["locations"])
    assert (
        search(client, q="pediatra cerca de mi", lang="es")["interpretation"]["phrases"][-1][
            "label"
        ]
        == "Cerca de usted"
    )
    # The page asks for the place, and (with JavaScript) the browser's location at once.
    html = client.get("/?q=pediatrician+near+me&lang=en").get_data(as_text=True)
    assert "To see who is near you, enter your ZIP code or use your location." in html
    assert 'id="use-location" hidden data-auto="1"' in html
    placed = client.get("/?q=pediatrician+near+me&near=90033&lang=en").get_data(as_text=True)
    assert "data-auto" not in placed


ISSUE_TABLE = [
    "spanish speaking pediatrician",
    "pediatra que hable español",
    "female obgyn irvine",
    "cardiology 90012",
    "dentist",
    "rash",
    "family doctor",
    "geriatrician",
    "pediatra",
    "Bob Smith",
    "Liz Nguyen",
]


@pytest.mark.parametrize("typed", ISSUE_TABLE)
def test_the_page_shows_the_people_the_api_finds(client, typed):
    api = search(client, q=typed, limit=10)
    html = client.get("/", query_string={"q": typed, "lang": "en"}).get_data(as_text=True)
    shown = list(dict.fromkeys(re.findall(r'href="/providers/(\d{10})', html)))
    assert shown == [r["npi"] for r in api["results"]], typed
