"""The search contract, run with the same code on the embedded engine and on Elasticsearch."""

import random

import pytest
from werkzeug.datastructures import MultiDict

from app.api.args import load_search_args
from tests import oracle


def fetch_all(client, params: dict, page_size: int = 50) -> tuple[list[dict], dict]:
    """Every result of a search, following cursors; returns (results, first page)."""
    params = {**params, "limit": page_size}
    first = None
    results: list[dict] = []
    cursor = None
    for _ in range(200):
        page_params = {**params, **({"cursor": cursor} if cursor else {}), "facets": "false"}
        if first is None:
            page_params["facets"] = "true"
        response = client.get("/v1/providers", query_string=page_params)
        assert response.status_code == 200, response.json
        body = response.json
        first = first or body
        results.extend(body["results"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    return results, first


def as_query(params: dict):
    return load_search_args(MultiDict(params))


def assert_matches_oracle(client, roster_docs, params: dict) -> list[dict]:
    results, first = fetch_all(client, params)
    expected = oracle.search(roster_docs, as_query(params))
    npis = [r["npi"] for r in results]
    assert len(npis) == len(set(npis)), "a provider appeared twice across pages"
    assert set(npis) == set(expected), params
    assert first["total"] == len(expected)
    by_npi = {d["npi"]: d for d in roster_docs}
    for result in results:
        wanted = {
            by_npi[result["npi"]]["locations"][i]["location_id"] for i in expected[result["npi"]]
        }
        assert {loc["location_id"] for loc in result["locations"]} == wanted
    return results


FILTERS = [
    {},
    {"pcp": "true"},
    {"pcp": "false"},
    {"type": "urgent_care"},
    {"type": "lab,pharmacy"},
    {"specialty": "208000000X"},
    {"specialty": ["207RC0000X", "207N00000X"]},
    {"language": "es"},
    {"language": "Korean"},
    {"language": ["vi", "km"]},
    {"gender": "female"},
    {"age": "8"},
    {"age": "70"},
    {"accepting_new_patients": "accepting"},
    {"accepting_new_patients": "existing_only"},
    {"line_of_business": "medi-cal"},
    {"line_of_business": ["medicare-advantage", "covered-california"]},
    {"telehealth": "true"},
    {"accessibility": "ada-access"},
    {"accessibility": ["ada-access", "accessible-parking"]},
    {"open": "sat"},
    {"open": ["sun", "evening"]},
    {"open": "early", "near": "90012", "radius": "15", "pcp": "true"},
    {"near": "90012"},
    {"near": "92868", "radius": "5"},
    {"near": "34.05,-118.25", "radius": "3"},
    {"pcp": "true", "line_of_business": "medi-cal", "accepting_new_patients": "accepting"},
    {
        "near": "90012",
        "radius": "10",
        "pcp": "true",
        "line_of_business": "medi-cal",
        "accepting_new_patients": "accepting",
        "language": "es",
        "gender": "female",
    },
    {"near": "90802", "radius": "15", "age": "5", "pcp": "true", "telehealth": "true"},
    {"near": "92701", "radius": "20", "language": "vi", "line_of_business": "commercial"},
    {"pcp": "true", "age": "40", "accepting_new_patients": ["accepting", "existing_family"]},
]


@pytest.mark.parametrize(
    "params", FILTERS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all"
)
def test_filters_match_brute_force(client, roster_docs, params):
    assert_matches_oracle(client, roster_docs, params)


def test_plan_and_group_filters_match_brute_force(client, roster_docs):
    plans = sorted({p["plan"] for d in roster_docs for loc in d["locations"] for p in loc["plans"]})
    groups = sorted({d["medical_group"] for d in roster_docs if d["medical_group"]})
    cities = sorted({loc["city"] for d in roster_docs for loc in d["locations"]})
    hospitals = sorted({h for d in roster_docs for h in d["hospital_affiliations"]})
    assert len(plans) >= 4 and len(groups) >= 4
    for params in (
        {"plan": plans[0]},
        {"plan": plans[1:3]},
        {"plan": plans[0], "accepting_new_patients": "accepting"},
        {"plan": plans[2], "line_of_business": "commercial"},
        {"group": groups[0]},
        {"network": groups[1], "pcp": "true"},
        {"city": cities[0]},
        {"city": cities[:3], "plan": plans[0]},
        {"hospital": hospitals[0]},
        {"zip": "90012"},
    ):
        assert_matches_oracle(client, roster_docs, params)


def test_plan_conditions_hold_for_the_same_plan(client, roster_docs):
    """Accepting under plan A and listed (closed) under plan B is not 'accepting under B'."""
    params = {"plan": "", "accepting_new_patients": "not_accepting"}
    plans = sorted({p["plan"] for d in roster_docs for loc in d["locations"] for p in loc["plans"]})
    for plan in plans:
        params["plan"] = plan
        results = assert_matches_oracle(client, roster_docs, params)
        for result in results:
            for location in result["locations"]:
                assert location["plans"], "a matching location lists its matching plans"
                assert all(
                    p["plan"] == plan and p["accepting"] == "not_accepting"
                    for p in location["plans"]
                )


def test_geography_is_exact_against_brute_force(client, roster_docs):
    rng = random.Random(7)
    checked_nonempty = 0
    for _ in range(30):
        lat = rng.uniform(33.55, 34.35)
        lon = rng.uniform(-118.55, -117.65)
        radius = round(rng.uniform(0.5, 12), 3)
        params = {"near": f"{lat:.6f},{lon:.6f}", "radius": str(radius), "sort": "distance"}
        results = assert_matches_oracle(client, roster_docs, params)
        query = as_query(params)
        by_npi = {d["npi"]: d for d in roster_docs}
        distances = [r["distance_miles"] for r in results]
        assert distances == sorted(distances), "results are nearest first across pages"
        expected = oracle.search(roster_docs, query)
        for result in results:
            truth = oracle.nearest_miles(by_npi[result["npi"]], expected[result["npi"]], query)
            assert result["distance_miles"] == pytest.approx(truth, abs=6e-4)
            assert result["distance_miles"] <= radius + 1e-9
            location_distances = [loc["distance_miles"] for loc in result["locations"]]
            assert location_distances == sorted(location_distances)
        # Against the WGS-84 ellipsoid: everything well inside is found, nothing well outside is.
        npis = {r["npi"] for r in results}
        inside = oracle.search(
            roster_docs, query, distance=oracle.geodesic_miles, radius_scale=0.995
        )
        outside = oracle.search(
            roster_docs, query, distance=oracle.geodesic_miles, radius_scale=1.005
        )
        assert set(inside) <= npis <= set(outside)
        checked_nonempty += bool(results)
    assert checked_nonempty >= 15


FACET_QUERIES = [
    {},
    {"pcp": "true", "line_of_business": "medi-cal"},
    {"near": "90012", "radius": "8", "accepting_new_patients": "accepting"},
    {"near": "92660", "radius": "12", "language": "es", "plan": "__first_plan__"},
    {"q": "family medicine"},
]


@pytest.mark.parametrize("params", FACET_QUERIES, ids=range(len(FACET_QUERIES)))
def test_facet_counts_equal_counts_from_the_roster(client, roster_docs, params):
    if params.get("plan") == "__first_plan__":
        params = {
            **params,
            "plan": sorted(
                {p["plan"] for d in roster_docs for loc in d["locations"] for p in loc["plans"]}
            )[0],
        }
    response = client.get("/v1/providers", query_string={**params, "limit": 1})
    assert response.status_code == 200
    facets = {
        name: {b["value"]: b["count"] for b in buckets}
        for name, buckets in response.json["facets"].items()
    }
    assert facets == oracle.facets(roster_docs, as_query(params))
    assert sum(facets["gender"].values()) <= response.json["total"]


def test_paging_by_name_is_complete_and_ordered(client, roster_docs):
    results, first = fetch_all(client, {"sort": "name"}, page_size=37)
    assert len(results) == len(roster_docs) == first["total"]
    keys = [(r["npi"]) for r in results]
    assert len(set(keys)) == len(keys)
    by_npi = {d["npi"]: d for d in roster_docs}
    order = [(by_npi[r["npi"]]["sort_name"], r["npi"]) for r in results]
    assert order == sorted(order)


def test_text_search_matches_brute_force(client, roster_docs):
    samples = [d for d in roster_docs if d["entity_type"] == "practitioner"][::97][:8]
    queries = [
        "heart doctor",
        "pediatra",
        "kids doctor",
        "ob gyn",
        "ent",
        "skin doctor",
        "family medicine",
        "urgent care",
        "farmacia",
        "cardiolgy",
        "dermatolgist",
    ]
    for doc in samples:
        queries.append(doc["name"]["last"])
        queries.append(f"{doc['name']['first']} {doc['name']['last']}")
    for q in queries:
        results, _first = fetch_all(client, {"q": q})
        expected = oracle.search(roster_docs, as_query({"q": q}))
        assert {r["npi"] for r in results} == set(expected), q
        assert expected, f"{q!r} should find someone in the fixture roster"


def test_misspelt_names_still_find_the_provider(client, roster_docs):
    doc = next(
        d for d in roster_docs if d["entity_type"] == "practitioner" and len(d["name"]["last"]) >= 6
    )
    last = doc["name"]["last"]
    typo = last[0] + last[2] + last[1] + last[3:]  # swap two letters
    for q in (typo, last[:-1], f"Dr. {last.upper()}"):
        npis = {r["npi"] for r in fetch_all(client, {"q": q})[0]}
        assert doc["npi"] in npis, q


def test_consumer_words_find_the_specialty(client, roster_docs):
    from app.search.reader import read_query

    cardiology = set(read_query("heart doctor").values("specialty"))
    assert "207RC0000X" in cardiology
    npis = {r["npi"] for r in fetch_all(client, {"q": "heart doctor"})[0]}
    expected = {d["npi"] for d in roster_docs if cardiology & set(d["specialty_codes"])}
    assert expected and npis == expected
    pediatric = {r["npi"] for r in fetch_all(client, {"q": "pediatra", "pcp": "true"})[0]}
    pediatricians = {
        d["npi"] for d in roster_docs if d["pcp"] and "208000000X" in d["specialty_codes"]
    }
    assert pediatricians and pediatricians <= pediatric


def test_npi_in_the_search_box_finds_that_provider(client, roster_docs):
    doc = roster_docs[len(roster_docs) // 2]
    body = client.get("/v1/providers", query_string={"q": doc["npi"]}).json
    assert [r["npi"] for r in body["results"]] == [doc["npi"]]


def test_results_carry_plan_provider_ids_and_status(client, roster_docs):
    body = client.get(
        "/v1/providers",
        query_string={"near": "90012", "line_of_business": "medi-cal", "pcp": "true"},
    ).json
    assert body["results"]
    by_npi = {d["npi"]: d for d in roster_docs}
    for result in body["results"]:
        for location in result["locations"]:
            source = next(
                loc
                for loc in by_npi[result["npi"]]["locations"]
                if loc["location_id"] == location["location_id"]
            )
            assert location["plans"]
            for plan in location["plans"]:
                assert plan["line_of_business"] == "medi-cal"
                assert plan in source["plans"]
                assert plan["plan_provider_id"]


def test_get_provider_returns_every_location(client, roster_docs):
    doc = max(roster_docs, key=lambda d: len(d["locations"]))
    body = client.get(f"/v1/providers/{doc['npi']}").json
    assert body["npi"] == doc["npi"]
    assert [loc["location_id"] for loc in body["locations"]] == [
        loc["location_id"] for loc in doc["locations"]
    ]
    assert body["locations"][0]["plans"] == doc["locations"][0]["plans"]


def test_health_reports_engine_generation_and_counts(client, engine_kind, roster_docs):
    body = client.get("/v1/health").json
    assert body["status"] == "ok"
    assert body["engine"] == engine_kind
    assert body["providers"] == len(roster_docs)
    assert body["locations"] == sum(len(d["locations"]) for d in roster_docs)
    assert body["generation"]


def test_facets_carry_readable_labels(client, roster_docs):
    names = {
        p["plan"]: p["plan_name"]
        for d in roster_docs
        for loc in d["locations"]
        for p in loc["plans"]
    }
    facets = client.get("/v1/providers", query_string={"limit": 1}).json["facets"]
    assert {b["value"]: b["label"] for b in facets["plan"]} == names
    labels = {b["value"]: b["label"] for b in facets["line_of_business"]}
    assert labels["medi-cal"] == "Medi-Cal"
    specialty = {b["value"]: b["label"] for b in facets["specialty"]}
    assert specialty["207Q00000X"] == "Family Medicine"
    language = {b["value"]: b["label"] for b in facets["language"]}
    assert language["es"] == "Spanish"
