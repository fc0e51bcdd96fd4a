"""sort=relevance orders by the one documented score on both engines (README "Ranking"), checked
against the score restated in tests/oracle.py over every result, across pages."""

import itertools

import pytest

from tests import oracle
from tests.test_search_contract import as_query, fetch_all

DOWNTOWN_LA = "34.0522,-118.2437"
# What "cardiologist" reads as: cardiology and interventional cardiology.
CARDIOLOGY = ("207RC0000X", "207RI0011X")
GERIATRICS = ("207QG0300X", "207RG0300X", "363LG0600X")
# Scores closer than this may be ordered either way (Elasticsearch keeps scores as float32).
CLOSE = 1e-3

SEARCHES = [
    {"q": "nguyen"},
    {"q": "nguyn"},
    {"q": "kim"},
    {"q": "cruz"},
    {"q": "orozc"},
    {"q": "harbor", "understand": "false"},
    {"q": "cardiology"},
    {"q": "pediatrician", "line_of_business": "medi-cal"},
    {"q": "cardiology", "near": DOWNTOWN_LA, "radius": 30},
    {"q": "nguyen", "near": DOWNTOWN_LA, "radius": 40},
    {"q": "spanish speaking family doctor", "near": DOWNTOWN_LA, "radius": 15, "plan": None},
]


@pytest.mark.parametrize("params", SEARCHES, ids=lambda p: " ".join(f"{v}" for v in p.values()))
def test_relevance_follows_the_documented_score(client, roster_docs, params):
    params = {k: v for k, v in params.items() if v is not None}
    results, first = fetch_all(client, params)
    assert first["sort"] == "relevance"
    query = as_query(params)
    expected = oracle.search(roster_docs, query)
    assert {r["npi"] for r in results} == set(expected)
    assert results, params
    by_npi = {d["npi"]: d for d in roster_docs}
    scored = [
        (oracle.relevance(by_npi[r["npi"]], expected[r["npi"]], query), r["npi"]) for r in results
    ]
    for (score, npi), (next_score, next_npi) in itertools.pairwise(scored):
        assert score >= next_score - CLOSE, (params, npi, score, next_npi, next_score)
        if score == next_score:
            # Ties: by name, then NPI.
            before = (by_npi[npi]["sort_name"], npi)
            after = (by_npi[next_npi]["sort_name"], next_npi)
            assert before < after, (params, before, after)


def test_an_exact_name_outranks_a_misspelt_one_whatever_the_distance(client, roster_docs):
    results, _ = fetch_all(client, {"q": "kim", "near": DOWNTOWN_LA, "radius": 60})
    names = [set(oracle_doc["name_text"].split()) for oracle_doc in _docs(roster_docs, results)]
    exact = [i for i, n in enumerate(names) if "kim" in n]
    others = [i for i, n in enumerate(names) if "kim" not in n]
    assert exact and others
    assert max(exact) < min(others)


def test_a_near_cardiologist_beats_a_far_one(client, roster_docs):
    results, _ = fetch_all(client, {"q": "cardiologist", "near": DOWNTOWN_LA, "radius": 60})
    primary = [
        r for r in results if r["specialties"] and r["specialties"][0]["code"] == "207RC0000X"
    ]
    distances = [min(loc["distance_miles"] for loc in r["locations"]) for r in primary]
    assert len(distances) > 2
    assert distances == sorted(distances)


def test_primary_specialty_before_secondary(client):
    # Geriatrics is the first-listed specialty of most who have it, a second one of a few.
    results, _ = fetch_all(client, {"q": "geriatrician"})
    primary = [r["specialties"][0]["code"] in GERIATRICS for r in results]
    assert any(primary) and not all(primary)
    assert primary == sorted(primary, reverse=True)


def test_relevance_pages_resume_where_they_stopped(client):
    whole, _ = fetch_all(client, {"q": "family doctor", "near": DOWNTOWN_LA, "radius": 20}, 50)
    paged, _ = fetch_all(client, {"q": "family doctor", "near": DOWNTOWN_LA, "radius": 20}, 7)
    assert [r["npi"] for r in paged] == [r["npi"] for r in whole]


def _docs(roster_docs, results):
    by_npi = {d["npi"]: d for d in roster_docs}
    return [by_npi[r["npi"]] for r in results]
