"""GET /v1/suggest on both engines, checked against answers worked out from the fixture roster."""

import unicodedata
from collections import Counter

import pytest

from app import create_app
from app.engines import embedded
from app.search.suggest import DirectoryNames, SuggestIndex, Suggestion, merge
from app.vocab.nucc import describe


def fold(text: str) -> str:
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()
    return "".join(c if c.isalnum() else " " for c in plain)


def name_words(doc: dict) -> list[str]:
    name = doc["name"]
    parts = (name["first"], name["middle"], name["last"], name["organization"])
    return [w for p in parts if p for w in fold(p).split()]


def completes(words: list[str], typed: list[str]) -> bool | None:
    """None when no run of the name's words starts with the typed ones; else whether the last
    typed word is a whole word there."""
    found = None
    for i in range(len(words) - len(typed) + 1):
        run = words[i : i + len(typed)]
        if run[:-1] == typed[:-1] and run[-1].startswith(typed[-1]):
            found = found or run[-1] == typed[-1]
    return found


def expected_providers(docs: list[dict], typed: str) -> list[tuple[str, bool]]:
    """(NPI, exact) of every provider the typed words complete, best first."""
    words = fold(typed).split()
    found = []
    for doc in docs:
        exact = completes(name_words(doc), words)
        if exact is not None:
            found.append((not exact, -len(doc["locations"]), doc["sort_name"], doc["npi"]))
    return [(npi, not inexact) for inexact, _n, _s, npi in sorted(found)]


def suggestions(client, q: str, **params) -> list[dict]:
    response = client.get("/v1/suggest", query_string={"q": q, **params})
    assert response.status_code == 200, response.json
    assert response.json["query"] == q.strip()
    return response.json["suggestions"]


def prefixes(docs: list[dict]) -> list[str]:
    """Two- to four-letter starts of name words, from the most to the least common, and a few
    runs of two words whose last is started."""
    starts = Counter(
        w[:n] for doc in docs for w in name_words(doc) for n in (2, 3, 4) if len(w) >= n
    )
    common = [p for p, _ in starts.most_common(25)]
    rare = [p for p, _ in starts.most_common()[-15:]]
    runs = []
    for doc in docs[::150]:
        words = name_words(doc)
        if len(words) >= 2:
            runs.append(f"{words[0]} {words[1][:2]}")
    return common + rare + runs


@pytest.fixture
def engine(search_app):
    return search_app.extensions["engine"]


@pytest.mark.parametrize("scan_rows", [embedded.SUGGEST_SCAN_ROWS, 3])
def test_the_engine_finds_every_provider_the_typed_words_complete_best_first(
    engine, roster_docs, monkeypatch, scan_rows
):
    # With few rows to scan, the embedded engine walks its keys best first instead of sorting.
    monkeypatch.setattr(embedded, "SUGGEST_SCAN_ROWS", scan_rows)
    for typed in prefixes(roster_docs):
        expected = expected_providers(roster_docs, typed)[:50]
        found = engine.suggest(tuple(fold(typed).split()), 50)
        assert [(e["npi"], e["exact"]) for e in found] == expected, typed
        assert all(e["kind"] == "provider" for e in found)


def test_providers_in_the_answer_are_the_best_that_match_and_nothing_else(client, roster_docs):
    by_npi = {doc["npi"]: doc for doc in roster_docs}
    for typed in ["gar", "ma", "nguy", "lo", "maria g", "ki"]:
        shown = [s for s in suggestions(client, typed, limit=10) if s["kind"] == "provider"]
        expected = [npi for npi, _ in expected_providers(roster_docs, typed)]
        assert [s["npi"] for s in shown] == expected[: len(shown)], typed
        assert len(shown) >= min(len(expected), 1)
        for s in shown:
            doc = by_npi[s["npi"]]
            assert s["label"] == doc["display_name"]
            assert s["href"] == f"/providers/{s['npi']}"
            assert s["params"] == {"q": s["npi"]}
            specialty = describe(doc["specialty_codes"][0]).display
            assert s["detail"] == f"{specialty} · {doc['locations'][0]['city']}"


def test_a_prefix_no_name_has_finds_no_provider(client, roster_docs):
    assert not expected_providers(roster_docs, "carta")
    assert suggestions(client, "carta") == []


def test_every_provider_is_found_by_its_name(engine, roster_docs):
    for doc in roster_docs[::7]:
        typed = " ".join(name_words(doc))
        found = [e["npi"] for e in engine.suggest(tuple(typed.split()), 50)]
        assert doc["npi"] in found, typed


def test_accents_either_way(client, roster_docs):
    accented = [
        doc
        for doc in roster_docs
        if doc["name"]["last"] and doc["name"]["last"] != fold(doc["name"]["last"]).title()
    ]
    assert accented
    for doc in accented[:10]:
        name = doc["name"]
        typed = " ".join(p for p in (name["first"], name["middle"], name["last"]) if p)[:-1]
        with_accents = suggestions(client, typed, limit=10)
        without = suggestions(client, fold(typed), limit=10)
        assert with_accents == without
        assert doc["npi"] in {s.get("npi") for s in without}


def test_specialties_in_english_and_spanish(client, roster_docs):
    present = {code for doc in roster_docs for code in doc["specialty_codes"]}
    assert "207RC0000X" in present
    english = suggestions(client, "card")
    assert english[0] == {
        "kind": "specialty",
        "label": "Cardiology",
        "detail": "Specialty",
        "params": {"specialty": ["207RC0000X"]},
    }
    spanish = suggestions(client, "card", lang="es")
    assert spanish[0]["label"] == "Cardiología"
    assert spanish[0]["detail"] == "Especialidad"
    # Typed in Spanish, read in English: the label is the reader's.
    assert suggestions(client, "cardiolo")[0]["label"] == "Cardiology"
    for typed in ["ca", "pe", "de", "ps", "ob", "or", "ne", "pedia"]:
        for s in suggestions(client, typed, limit=10):
            if s["kind"] == "specialty":
                assert s["params"]["specialty"][0] in present, (typed, s)


def test_languages_conditions_groups_and_cities(client, roster_docs):
    spanish = [s for s in suggestions(client, "spa") if s["kind"] == "language"]
    assert spanish == [
        {
            "kind": "language",
            "label": "Spanish",
            "detail": "Language spoken",
            "params": {"language": ["es"]},
        }
    ]
    espanol = [s for s in suggestions(client, "espa", lang="es") if s["kind"] == "language"]
    assert espanol[0]["label"] == "Español" and espanol[0]["detail"] == "Idioma que habla"
    chest = [s for s in suggestions(client, "chest") if s["kind"] == "condition"]
    assert {"chest pain"} <= {s["label"] for s in chest}
    assert all(s["params"] == {"q": s["label"]} for s in chest)
    harbor = [s for s in suggestions(client, "harb") if s["kind"] == "group"]
    assert harbor == [
        {
            "kind": "group",
            "label": "Harbor Coast IPA",
            "detail": "Medical group",
            "params": {"group": ["Harbor Coast IPA"]},
        }
    ]
    long_beach = suggestions(client, "long be")
    assert {
        "kind": "city",
        "label": "Long Beach",
        "detail": "City",
        "params": {"city": ["Long Beach"]},
    } in long_beach
    offices = [s for s in long_beach if s["kind"] == "office"]
    assert offices
    for office in offices:
        assert completes(fold(office["label"]).split(), ["long", "be"]) is not None
        assert office["detail"].startswith("Office · ")
    cities = [s for s in suggestions(client, "long be", lang="es") if s["kind"] == "city"]
    assert cities[0]["detail"] == "Ciudad"


def test_groups_rank_by_their_locations(client, roster_docs):
    locations = Counter()
    for doc in roster_docs:
        if doc["medical_group"]:
            locations[doc["medical_group"]] += len(doc["locations"])
    found = [s["label"] for s in suggestions(client, "medical", limit=10) if s["kind"] == "group"]
    expected = sorted(
        (g for g in locations if "medical" in fold(g).split()),
        key=lambda g: (-locations[g], fold(g)),
    )
    assert found == expected[: len(found)] and found


def all_npis(client, params: dict) -> set[str]:
    found, cursor = set(), None
    while True:
        page = client.get(
            "/v1/providers",
            query_string={
                **params,
                "limit": 50,
                "facets": "false",
                **({"cursor": cursor} if cursor else {}),
            },
        ).json
        found |= {r["npi"] for r in page["results"]}
        cursor = page["next_cursor"]
        if not cursor:
            return found


def test_each_suggestion_searches_what_it_shows(client, roster_docs):
    by_npi = {doc["npi"]: doc for doc in roster_docs}
    seen = set()
    for typed in ["card", "spa", "chest", "harb", "long be", "gar", "pedia"]:
        for s in suggestions(client, typed, limit=10):
            seen.add(s["kind"])
            found = all_npis(client, s["params"])
            assert found, s
            if s["kind"] == "provider":
                assert found == {s["npi"]}
            elif s["kind"] == "specialty":
                code = s["params"]["specialty"][0]
                assert found == {d["npi"] for d in roster_docs if code in d["specialty_codes"]}
            elif s["kind"] == "language":
                tag = s["params"]["language"][0]
                assert found == {d["npi"] for d in roster_docs if tag in d["languages"]}
            elif s["kind"] == "group":
                group = s["label"]
                assert found == {d["npi"] for d in roster_docs if d["medical_group"] == group}
            elif s["kind"] == "city":
                city = s["label"]
                assert found == {
                    d["npi"]
                    for d in roster_docs
                    if any(loc["city"] == city for loc in d["locations"])
                }
            elif s["kind"] == "office":
                here = {
                    d["npi"]
                    for d in roster_docs
                    if any(loc["name"] == s["label"] for loc in d["locations"])
                }
                assert here and here <= found
            elif s["kind"] == "condition":
                assert all(by_npi[n]["specialty_codes"] for n in found)
    assert seen == {"specialty", "condition", "language", "provider", "group", "office", "city"}


def test_short_input_is_an_empty_list(client):
    for q in ["", " ", "a", " b ", "--"]:
        assert suggestions(client, q) == []


BAD = [
    ({}, "q"),
    ({"q": "x" * 101}, "q"),
    ({"q": "card", "lang": "fr"}, "lang"),
    ({"q": "card", "limit": "0"}, "limit"),
    ({"q": "card", "limit": "11"}, "limit"),
    ({"q": "card", "limit": "ten"}, "limit"),
    ({"q": "card", "colour": "blue"}, "colour"),
]


@pytest.mark.parametrize("params,field", BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_parameters_are_a_400_naming_the_field(client, params, field):
    response = client.get("/v1/suggest", query_string=params)
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "invalid_parameter"
    assert field in error["fields"] and field in error["message"]


def test_a_parameter_given_twice_is_a_400(client):
    response = client.get("/v1/suggest?q=card&q=gar")
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"q": ["given more than once"]}


def test_limit_is_kept(client):
    for limit in (1, 3, 10):
        assert len(suggestions(client, "ma", limit=limit)) == limit


def test_suggest_shares_the_public_rate_limit(directory_config):
    app = create_app({**directory_config, "PD_RATE_LIMIT": "3/minute"})
    client = app.test_client()
    statuses = [client.get("/v1/suggest?q=gar").status_code for _ in range(2)]
    statuses.append(client.get("/v1/providers?limit=1&facets=false").status_code)
    statuses.append(client.get("/v1/suggest?q=gar").status_code)
    assert statuses == [200, 200, 200, 429]
    assert client.get("/v1/suggest?q=gar").json["error"]["code"] == "rate_limited"


# -- ranking and caps, as data --------------------------------------------------------------


def made(kind: str, label: str, popularity: int = 1, exact: bool = False) -> Suggestion:
    return Suggestion(
        kind=kind,
        label=label,
        detail=kind,
        params={},
        popularity=popularity,
        sort_name=label.lower(),
        exact=exact,
    )


def test_vocabulary_first_then_exact_words_then_kind_popularity_and_name():
    found = [
        made("city", "Marina", 50),
        made("provider", "Mara Lee", 1),
        made("provider", "Mar Vista", 1, exact=True),
        made("group", "Marin IPA", 9),
        made("provider", "Maria Cruz", 3),
        made("specialty", "Maternal Medicine"),
    ]
    labels = [s.label for s in merge(found, 10)]
    assert labels == [
        "Maternal Medicine",
        "Mar Vista",
        "Maria Cruz",
        "Mara Lee",
        "Marin IPA",
        "Marina",
    ]


def test_each_kind_is_capped_and_what_the_caps_leave_is_filled():
    providers = [made("provider", f"P{i}", 10 - i) for i in range(8)]
    groups = [made("group", f"G{i}") for i in range(2)]
    kinds = Counter(s.kind for s in merge(providers + groups, 6))
    assert kinds == {"provider": 4, "group": 2}
    kinds = Counter(s.kind for s in merge(providers, 6))
    assert kinds == {"provider": 6}
    specialties = [made("specialty", f"S{i}") for i in range(5)]
    kinds = Counter(s.kind for s in merge(specialties + providers, 8))
    assert kinds == {"specialty": 3, "provider": 5}


def test_the_index_matches_word_starts_only_and_marks_whole_words():
    names = DirectoryNames(
        groups={"Harbor Coast IPA": 5}, cities={"Long Beach": 3, "Belmont Shore": 1}
    )
    index = SuggestIndex(names, "en")
    assert {s.label for s in index.find(("be",))} == {"Long Beach", "Belmont Shore"}
    assert {s.label for s in index.find(("long", "be"))} == {"Long Beach"}
    assert index.find(("lon", "beach")) == []
    assert index.find(("oast",)) == []
    (coast,) = index.find(("coast",))
    assert coast.exact and coast.params == {"group": ["Harbor Coast IPA"]}


def test_changes_in_place_are_suggested_at_once(fresh_engine, roster_docs):
    docs = roster_docs[:40]
    with fresh_engine.new_generation() as writer:
        writer.write(docs)
        writer.publish(len(docs))
    assert fresh_engine.suggest(("zebu",), 5) == []
    assert "Zephyr Valley IPA" not in fresh_engine.directory_names().groups
    renamed = {
        **docs[0],
        "name": {**docs[0]["name"], "first": "Zebulon", "middle": None, "last": "Quixote-Ñandú"},
        "display_name": "Zebulon Quixote-Ñandú, MD",
        "sort_name": "quixote-nandu zebulon",
        "medical_group": "Zephyr Valley IPA",
    }
    fresh_engine.apply_changes([renamed], [docs[1]["npi"]])
    (found,) = fresh_engine.suggest(("nand",), 5)
    assert (found["npi"], found["label"], found["exact"]) == (
        docs[0]["npi"],
        "Zebulon Quixote-Ñandú, MD",
        False,
    )
    # Neither the old name nor the removed provider is suggested any more.
    for doc in docs[:2]:
        found = fresh_engine.suggest(tuple(name_words(doc)), 5)
        assert doc["npi"] not in {e["npi"] for e in found}
    names = fresh_engine.directory_names()
    assert names.groups["Zephyr Valley IPA"] == len(docs[0]["locations"])
