"""The embedded engine's statements, built from queries and checked as data (no database)."""

from app.engines import embedded_sql as sql
from app.search import ranking
from app.search.query import GeoFilter, SearchQuery

HOSTILE = "x') OR 1=1; DROP TABLE providers; --"


def test_filters_become_conditions_with_values_as_parameters():
    query = SearchQuery(
        specialties=("207RC0000X",),
        languages=("es", HOSTILE),
        genders=("female",),
        pcp=True,
        age=7,
        cities=("Irvine",),
        accessibility=("ada-access", "public-transit"),
        open_times=("sat", "evening"),
        telehealth=False,
        lines_of_business=("medi-cal",),
        accepting=("accepting",),
    )
    text, params = sql.matched(query, text_rows=None)
    assert text.startswith("CREATE TEMP TABLE m AS SELECT")
    # Without a place or words, the locations are the outer loop and terms are looked up by set.
    assert "FROM locations l JOIN providers p" in text
    assert (
        "l.provider_id IN (SELECT provider_id FROM provider_terms WHERE field = 'specialty'" in text
    )
    assert "field = 'language'" in text
    assert "l.gender IN (" in text and "l.city IN (" in text
    assert "l.pcp = :" in text and "l.telehealth = :" in text
    assert "l.age_min <= :" in text and "l.age_max >= :" in text
    # Every accessibility feature is required: one condition each.
    assert text.count("field = 'access'") == 2
    # Any of the opening times: one condition for all of them.
    assert text.count("field = 'open'") == 1
    # Plan conditions on one and the same plan: one exact key.
    assert "field = 'plan_key'" in text
    assert "l=medi-cal|a=accepting" in params.values()
    # Values never reach the text.
    assert HOSTILE in params.values() and HOSTILE not in text
    assert set(params.values()) >= {"207RC0000X", "es", "female", 7, "Irvine", 1, 0, "sat"}


def test_a_place_uses_the_rtree_box_and_exact_nearness():
    query = SearchQuery(geo=GeoFilter(34.05, -118.25, 10.0), specialties=("208000000X",))
    text, params = sql.matched(query, text_rows=None)
    assert "FROM location_geo g CROSS JOIN locations l" in text
    assert "g.max_lat >= :min_lat" in text
    assert f"{sql.NEARNESS_SQL} >= :min_nearness" in text
    # Driven by the R*Tree: each candidate's terms looked up one by one.
    assert "EXISTS (SELECT 1 FROM provider_terms pt WHERE pt.provider_id = l.provider_id" in text
    assert {"min_lat", "max_lat", "min_lon", "max_lon", "ux", "uy", "uz"} <= set(params)


def test_few_text_matches_drive_the_search_many_do_not():
    query = SearchQuery(text=("kim",), geo=GeoFilter(34.05, -118.25, 10.0))
    few, _ = sql.matched(query, text_rows=12)
    assert "FROM temp.t t CROSS JOIN locations l" in few
    assert "g.max_lat" not in few
    many, _ = sql.matched(query, text_rows=sql.TEXT_DRIVES_BELOW + 1)
    assert "FROM location_geo g" in many
    assert "l.provider_id IN (SELECT pid FROM temp.t)" in many


def test_word_score_tiers_and_fts_expressions():
    text, params = sql.word_score("nguyen", ["nguyan"])
    assert params["exact_name"] == 'name : "nguyen"'
    assert params["name_prefix"] == 'name : "nguyen" *'
    assert params["exact_text"] == '"nguyen"'
    assert params["one_typo"] == '("nguyan")'
    assert params["w_one_typo"] == ranking.ONE_TYPO
    assert text.index(":exact_name") < text.index(":name_prefix") < text.index(":exact_text")
    short, short_params = sql.word_score("ob", [])
    assert short_params["name_prefix"] == short_params["exact_name"]  # no prefix under 3 letters
    assert ":one_typo" not in short
    matches, words = sql.text_matches([{"kim": 0}, {"smith": 0, "smyth": 1}])
    assert words == {"words": '("kim") AND ("smith" OR "smyth")'}
    assert "MATCH :words" in matches


def test_relevance_adds_the_documented_parts():
    query = SearchQuery(
        text=("kim",),
        specialties=("207RC0000X", "207R00000X"),
        preferred_specialties=("207RC0000X",),
        plans=("golden-poppy-medi-cal",),
        geo=GeoFilter(34.05, -118.25, 10.0),
        sort="relevance",
    )
    text, params = sql.hits(query, with_text=True)
    assert "t.score + (CASE WHEN EXISTS" in text
    assert params["w_primary"] == ranking.PRIMARY_SPECIALTY
    assert params["w_specialist"] == ranking.SPECIALIST
    assert params["w_accepting"] == ranking.ACCEPTING
    assert "p=golden-poppy-medi-cal|a=accepting" in params.values()
    assert "pow(0.5, acos(min(1.0, md.near)) * :radius_miles / :decay_miles)" in text
    # Another sort leaves the score out.
    by_name, name_params = sql.hits(SearchQuery(text=("kim",), sort="name"), with_text=True)
    assert " t.score AS score" in by_name and name_params == {}


def test_pages_resume_after_the_cursor_in_sort_order():
    text, params = sql.page(SearchQuery(text=("kim",), sort="relevance", limit=5))
    assert "ORDER BY score DESC, sort_name ASC, npi ASC LIMIT :limit" in text
    assert params == {"limit": 6}
    after = SearchQuery(text=("kim",), sort="relevance", after=(8.0, "kim christine", "1"))
    text, params = sql.page(after)
    assert (
        "WHERE (score < :k0) OR (score = :k0 AND sort_name > :k1)"
        " OR (score = :k0 AND sort_name = :k1 AND npi > :k2)"
    ) in text
    assert (params["k0"], params["k1"], params["k2"]) == (8.0, "kim christine", "1")
    distance = sql.page(SearchQuery(geo=GeoFilter(34, -118, 5), sort="distance"))[0]
    assert "ORDER BY near DESC, npi ASC" in distance


def test_facets_count_at_their_grain():
    from app.search import filters

    assert "FROM temp.h GROUP BY gender" in sql.facet(filters.BY_PARAMETER["gender"])[0]
    assert (
        "COUNT(DISTINCT pid) FROM temp.m GROUP BY city"
        in sql.facet(filters.BY_PARAMETER["city"])[0]
    )
    plan = sql.facet(filters.BY_PARAMETER["accepting_new_patients"])[0]
    assert "FROM temp.mp GROUP BY accepting" in plan
    text, params = sql.matched_plans(SearchQuery(plans=("a-plan",), accepting=("accepting",)))
    assert "lp.plan IN (" in text and "lp.accepting IN (" in text
    assert set(params.values()) == {"a-plan", "accepting"}
    terms, _ = sql.term_facets(["specialty", "language"])
    assert "pt.field IN ('specialty', 'language') GROUP BY pt.field, pt.value" in terms
