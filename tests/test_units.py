"""Small pure pieces: NPI check digit, tokenizer, geometry, cursors, plan keys, query builder."""

import math
from dataclasses import replace

import pytest
from geopy.distance import great_circle

from app.engines import es_query
from app.search import cursor, ranking
from app.search.geo import EARTH_RADIUS_METERS, bounding_box, great_circle_miles, unit_vector
from app.search.query import GeoFilter, SearchQuery, plan_filter_keys, plan_keys
from app.vocab.npi import is_valid_npi, make_npi
from app.vocab.text import max_edits, query_tokens, tokens


@pytest.mark.parametrize(
    "npi,valid",
    [
        ("1234567893", True),  # the example NPI CMS publishes
        ("1234567890", False),
        ("123456789", False),
        ("12345678930", False),
        ("abcdefghij", False),
    ],
)
def test_npi_check_digit(npi, valid):
    assert is_valid_npi(npi) is valid


def test_make_npi_completes_nine_digits():
    assert make_npi("123456789") == "1234567893"
    assert all(is_valid_npi(make_npi(f"{n:09d}")) for n in range(100000000, 100000500))


def test_tokens_fold_accents_and_punctuation():
    assert tokens("María Núñez-O'Brien, M.D.") == ["maria", "nunez", "o", "brien", "m", "d"]
    assert query_tokens("Dr. José de la Cruz") == ["jose", "cruz"]
    assert query_tokens("OB/GYN") == ["ob", "gyn"]


def test_typo_allowance_follows_word_length():
    assert [max_edits(w) for w in ("ent", "ob", "smith", "nguyen", "cardiology")] == [1, 0, 1, 2, 2]


def test_unit_vector_nearness_agrees_with_great_circle_distance():
    pairs = [((34.0614, -118.2385), (33.7701, -118.1937)), ((32.7, -117.1), (37.77, -122.42))]
    for a, b in pairs:
        cosine = sum(u * v for u, v in zip(unit_vector(*a), unit_vector(*b), strict=True))
        miles = math.acos(min(1.0, cosine)) * EARTH_RADIUS_METERS / 1609.344
        assert great_circle_miles(*a, *b) == pytest.approx(miles, rel=1e-9)


def test_bounding_box_contains_the_circle():
    lat, lon, radius = 34.05, -118.25, 10
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius)
    for bearing in range(0, 360, 5):
        point = great_circle(miles=radius * 0.9999, radius=EARTH_RADIUS_METERS / 1000).destination(
            (lat, lon), bearing
        )
        assert min_lat <= point.latitude <= max_lat
        assert min_lon <= point.longitude <= max_lon


def test_cursor_round_trip_and_refusals():
    token = cursor.encode("distance", [3.25, "1234567893"])
    assert cursor.decode(token, "distance") == (3.25, "1234567893")
    with pytest.raises(cursor.BadCursor):
        cursor.decode(token, "name")
    with pytest.raises(cursor.BadCursor):
        cursor.decode("%%%", "name")


def test_plan_keys_answer_combined_conditions_with_one_term():
    entry = {"plan": "sunrise-medi-cal", "line_of_business": "medi-cal", "accepting": "accepting"}
    keys = plan_keys(entry)
    assert len(keys) == 7
    query = SearchQuery(plans=("sunrise-medi-cal",), accepting=("accepting", "existing_family"))
    wanted = plan_filter_keys(query)
    assert wanted == ["p=sunrise-medi-cal|a=accepting", "p=sunrise-medi-cal|a=existing_family"]
    assert set(wanted) & set(keys)
    closed = {**entry, "accepting": "not_accepting"}
    assert not set(wanted) & set(plan_keys(closed))


def test_es_query_puts_location_conditions_in_one_nested_clause():
    query = SearchQuery(
        geo=GeoFilter(34.06, -118.24, 10),
        lines_of_business=("medi-cal",),
        accepting=("accepting",),
        languages=("es",),
        pcp=True,
        open_times=("sat", "sun"),
        sort="distance",
        limit=5,
    )
    body = es_query.search_body(query)
    filters = body["query"]["bool"]["filter"]
    assert {"terms": {"languages": ["es"]}} in filters
    assert {"term": {"pcp": True}} in filters
    nested = [f["nested"] for f in filters if "nested" in f]
    assert len(nested) == 1 and nested[0]["path"] == "locations"
    inner = nested[0]["query"]["bool"]["filter"]
    assert inner[0]["geo_distance"]["distance"] == "10mi"
    assert inner[1] == {"terms": {"locations.plan_keys": ["l=medi-cal|a=accepting"]}}
    assert inner[2] == {"terms": {"locations.open_times": ["sat", "sun"]}}
    sort = body["sort"][0]["_geo_distance"]
    assert sort["nested"] == {"path": "locations", "filter": nested[0]["query"]}
    assert body["sort"][1] == {"npi": "asc"}
    assert body["size"] == 6 and body["track_total_hits"] is True
    assert "query_string" not in repr(body)


def test_es_text_query_allows_typos_by_word_length():
    body = es_query.search_body(SearchQuery(text=("ob", "gyn", "cardiology"), sort="relevance"))
    words = body["query"]["bool"]["must"][0]["bool"]["must"]
    # Each word must match within its typos (the constant FUZZY part of the score) ...
    found = [w["bool"]["must"][0]["constant_score"] for w in words]
    assert found[0] == {"filter": {"term": {"search_text": "ob"}}, "boost": ranking.FUZZY}
    assert found[1]["filter"]["fuzzy"]["search_text"]["fuzziness"] == 1
    assert found[2]["filter"]["fuzzy"]["search_text"]["fuzziness"] == 2
    # ... and the closest way it matches adds the rest of its tier, prefixes from 3 letters.
    closer = [w["bool"]["should"][0]["dis_max"]["queries"] for w in words]
    assert [c["constant_score"]["boost"] for c in closer[0]] == [
        ranking.EXACT_NAME - ranking.FUZZY,
        ranking.EXACT_TEXT - ranking.FUZZY,
    ]
    assert closer[1][2] == {
        "constant_score": {
            "filter": {"prefix": {"name_text": "gyn"}},
            "boost": ranking.NAME_PREFIX - ranking.FUZZY,
        }
    }
    assert body["sort"] == [{"_score": "desc"}, {"sort_name": "asc"}, {"npi": "asc"}]
    assert "should" not in body["query"]["bool"]


def test_es_relevance_adds_specialty_accepting_and_nearness():
    query = SearchQuery(
        specialties=("207RC0000X", "207R00000X"),
        preferred_specialties=("207RC0000X",),
        lines_of_business=("medi-cal",),
        geo=GeoFilter(34.0, -118.0, 10.0),
        sort="relevance",
    )
    primary, specialist, accepting, near = es_query.search_body(query)["query"]["bool"]["should"]
    assert primary == {
        "constant_score": {
            "filter": {"terms": {"primary_specialty": ["207RC0000X", "207R00000X"]}},
            "boost": ranking.PRIMARY_SPECIALTY,
        }
    }
    assert specialist["constant_score"] == {
        "filter": {"terms": {"primary_specialty": ["207RC0000X"]}},
        "boost": ranking.SPECIALIST,
    }
    assert accepting["nested"]["score_mode"] == "max"
    keys = accepting["nested"]["query"]["constant_score"]["filter"]["bool"]["filter"][1]
    assert keys == {"terms": {"locations.plan_keys": ["l=medi-cal|a=accepting"]}}
    decay = near["nested"]["query"]["function_score"]["functions"][0]
    assert decay["exp"]["locations.geo"]["scale"] == "10.0mi"
    assert decay["weight"] == ranking.NEARNESS
    # Another sort leaves the score out.
    by_name = es_query.search_body(replace(query, sort="name"))["query"]["bool"]
    assert "should" not in by_name


def test_a_phrase_names_its_specialists_first():
    # Back pain: physiatry, chiropractic, physical therapy, orthopedics; not family medicine.
    back_pain = ("207Q00000X", "207R00000X", "111N00000X", "225100000X", "208100000X")
    assert ranking.specialists_first(back_pain) == ("111N00000X", "225100000X", "208100000X")
    # All primary care: the first one.
    assert ranking.specialists_first(("207Q00000X", "363LF0000X")) == ("207Q00000X",)


def test_each_search_schema_checks_its_own_page_size():
    """A schema's page size is its own: one made for another app (or a thousand made before it)
    changes nothing in the next."""
    from marshmallow import ValidationError

    from app.api.args import ProviderSearchArgs

    declared = list(ProviderSearchArgs._declared_fields["limit"].validators)
    for size in range(1, 1000):
        ProviderSearchArgs(max_page_size=size)
    assert ProviderSearchArgs._declared_fields["limit"].validators == declared
    assert ProviderSearchArgs(max_page_size=50).load({"limit": "20"}).limit == 20
    with pytest.raises(ValidationError) as refused:
        ProviderSearchArgs(max_page_size=5).load({"limit": "20"})
    assert "limit" in refused.value.messages
