"""SearchQuery -> Elasticsearch request body. Pure: no client, tested as data."""

from dataclasses import replace

from app.search import filters, ranking
from app.search.query import SearchQuery, plan_filter_keys
from app.search.suggest import typed_key
from app.vocab.text import max_edits

TEXT_FIELD = "search_text"
NAME_FIELD = "name_text"
# Enough room for every term a typo can reach in a large vocabulary; the default 50 could drop some.
FUZZY_MAX_EXPANSIONS = 1000
INNER_HITS_SIZE = 100
FACET_SIZE = 1000
SOURCE_EXCLUDES = [
    "search_text",
    "name_text",
    "suggest_keys",
    "location_count",
    "locations.geo",
    "locations.plan_keys",
]
SUGGEST_FIELD = "suggest_keys"
SUGGEST_PREFIXES = "suggest_keys.prefixes"
# The longest prefix indexed (`max_gram` of `suggest_edges` in the mapping); longer ones are
# matched with a prefix query on the whole keys.
SUGGEST_MAX_GRAM = 40
SUGGEST_SOURCE = ["npi", "display_name", "sort_name", "specialty_codes", "locations.city"]

PROVIDER_FACET_FIELDS = {f.parameter: f.field for f in filters.at(filters.PROVIDER) if f.facet}
LOCATION_FACET_FIELDS = {
    f.parameter: f"locations.{f.field}" for f in filters.at(filters.LOCATION) if f.facet
}
PLAN_FACET_FIELDS = {
    f.parameter: f"locations.plans.{f.field}" for f in filters.at(filters.PLAN) if f.facet
}


def _terms(field: str, values) -> dict:
    return {"terms": {field: list(values)}}


def _constant(query: dict, boost: float) -> dict:
    return {"constant_score": {"filter": query, "boost": boost}}


def word_query(word: str) -> dict:
    """One word: it must match a word of the provider within its typos (scored `FUZZY`); the best
    closer match adds the rest of its tier's score (see app/search/ranking.py)."""
    edits = max_edits(word)
    found = (
        {
            "fuzzy": {
                TEXT_FIELD: {
                    "value": word,
                    "fuzziness": edits,
                    "max_expansions": FUZZY_MAX_EXPANSIONS,
                    "transpositions": True,
                    "prefix_length": 0,
                }
            }
        }
        if edits
        else {"term": {TEXT_FIELD: word}}
    )
    closer = [
        _constant({"term": {NAME_FIELD: word}}, ranking.EXACT_NAME - ranking.FUZZY),
        _constant({"term": {TEXT_FIELD: word}}, ranking.EXACT_TEXT - ranking.FUZZY),
    ]
    if edits == 2:
        one_typo = {"fuzzy": {TEXT_FIELD: {**found["fuzzy"][TEXT_FIELD], "fuzziness": 1}}}
        closer.append(_constant(one_typo, ranking.ONE_TYPO - ranking.FUZZY))
    if len(word) >= ranking.MIN_PREFIX_LETTERS:
        closer.append(
            _constant({"prefix": {NAME_FIELD: word}}, ranking.NAME_PREFIX - ranking.FUZZY)
        )
    return {
        "bool": {
            "must": [_constant(found, ranking.FUZZY)],
            "should": [{"dis_max": {"queries": closer, "tie_breaker": 0.0}}],
        }
    }


def text_query(words: tuple[str, ...]) -> dict:
    """Every word must match a word of the provider (with the typos its length allows)."""
    return {"bool": {"must": [word_query(w) for w in words]}}


def ranking_queries(query: SearchQuery) -> list[dict]:
    """Optional clauses adding the non-text parts of the score (app/search/ranking.py)."""
    should: list[dict] = []
    if query.specialties:
        should.append(
            _constant(_terms("primary_specialty", query.specialties), ranking.PRIMARY_SPECIALTY)
        )
    if query.preferred_specialties:
        should.append(
            _constant(_terms("primary_specialty", query.preferred_specialties), ranking.SPECIALIST)
        )
    if (query.plans or query.lines_of_business) and not query.accepting:
        accepting = replace(query, accepting=("accepting",))
        should.append(
            {
                "nested": {
                    "path": "locations",
                    "query": _constant(location_filter(accepting), ranking.ACCEPTING),
                    "score_mode": "max",
                }
            }
        )
    if query.geo:
        should.append(
            {
                "nested": {
                    "path": "locations",
                    "query": {
                        "function_score": {
                            "query": location_filter(query),
                            "functions": [
                                {
                                    "exp": {
                                        "locations.geo": {
                                            "origin": {"lat": query.geo.lat, "lon": query.geo.lon},
                                            "scale": f"{ranking.DECAY_MILES}mi",
                                            "decay": 0.5,
                                        }
                                    },
                                    "weight": ranking.NEARNESS,
                                }
                            ],
                            "boost_mode": "replace",
                        }
                    },
                    "score_mode": "max",
                }
            }
        )
    return should


def _condition(flt: filters.Filter, value, path: str = "") -> list[dict]:
    """One declared filter as Elasticsearch conditions, by its kind."""
    field = path + flt.field
    if flt.kind == filters.ANY_OF:
        return [_terms(field, value)]
    if flt.kind == filters.ALL_OF:
        return [{"term": {field: one}} for one in value]
    if flt.kind == filters.FLAG:
        return [{"term": {field: value}}]
    if flt.kind == filters.AGE:
        return [
            {"range": {f"{path}age_min": {"lte": value}}},
            {"range": {f"{path}age_max": {"gte": value}}},
        ]
    raise ValueError(f"no translation for filter kind {flt.kind}")


def _conditions(query: SearchQuery, grain: str, path: str = "") -> list[dict]:
    return [
        condition
        for flt in filters.at(grain)
        if filters.is_set(query, flt)
        for condition in _condition(flt, filters.values(query, flt), path)
    ]


def provider_filters(query: SearchQuery) -> list[dict]:
    found = [{"term": {"npi": query.npi}}] if query.npi else []
    return found + _conditions(query, filters.PROVIDER)


def location_filter(query: SearchQuery) -> dict:
    """The conditions one location must meet (inside the `locations` nested context)."""
    found: list[dict] = []
    if query.geo:
        found.append(
            {
                "geo_distance": {
                    "distance": f"{query.geo.radius_miles}mi",
                    "distance_type": "arc",
                    "locations.geo": {"lat": query.geo.lat, "lon": query.geo.lon},
                }
            }
        )
    if query.has_plan_filter:
        # Every plan condition on one and the same plan, as one exact key (see plan_keys).
        found.append(_terms("locations.plan_keys", plan_filter_keys(query)))
    found.extend(_conditions(query, filters.LOCATION, "locations."))
    return {"bool": {"filter": found}}


def plan_filter(query: SearchQuery) -> dict:
    """The conditions one plan entry must meet (inside `locations.plans`)."""
    return {"bool": {"filter": _conditions(query, filters.PLAN, "locations.plans.")}}


def sort_clause(query: SearchQuery) -> list:
    if query.sort == "distance":
        return [
            {
                "_geo_distance": {
                    "locations.geo": {"lat": query.geo.lat, "lon": query.geo.lon},
                    "order": "asc",
                    "unit": "mi",
                    "distance_type": "arc",
                    "mode": "min",
                    "nested": {"path": "locations", "filter": location_filter(query)},
                }
            },
            {"npi": "asc"},
        ]
    if query.sort == "relevance":
        return [{"_score": "desc"}, {"sort_name": "asc"}, {"npi": "asc"}]
    return [{"sort_name": "asc"}, {"npi": "asc"}]


def aggregations(query: SearchQuery) -> dict:
    aggs: dict = {}
    per_provider = {"providers": {"reverse_nested": {}}}
    for name in query.facets:
        if name in PROVIDER_FACET_FIELDS:
            aggs[name] = {"terms": {"field": PROVIDER_FACET_FIELDS[name], "size": FACET_SIZE}}
        elif name in LOCATION_FACET_FIELDS:
            aggs[name] = {
                "nested": {"path": "locations"},
                "aggs": {
                    "matching": {
                        "filter": location_filter(query),
                        "aggs": {
                            "values": {
                                "terms": {
                                    "field": LOCATION_FACET_FIELDS[name],
                                    "size": FACET_SIZE,
                                },
                                "aggs": per_provider,
                            }
                        },
                    }
                },
            }
        else:
            aggs[name] = {
                "nested": {"path": "locations"},
                "aggs": {
                    "matching": {
                        "filter": location_filter(query),
                        "aggs": {
                            "plans": {
                                "nested": {"path": "locations.plans"},
                                "aggs": {
                                    "matching": {
                                        "filter": plan_filter(query),
                                        "aggs": {
                                            "values": {
                                                "terms": {
                                                    "field": PLAN_FACET_FIELDS[name],
                                                    "size": FACET_SIZE,
                                                },
                                                "aggs": per_provider,
                                            }
                                        },
                                    }
                                },
                            }
                        },
                    }
                },
            }
    return aggs


def search_body(query: SearchQuery) -> dict:
    """The whole request: one page (plus one to tell whether more follow), totals and facets."""
    bool_query: dict = {"filter": provider_filters(query)}
    if query.text:
        bool_query["must"] = [text_query(query.text)]
    should = ranking_queries(query) if query.sort == "relevance" else []
    if should:
        bool_query["should"] = should
    if query.has_location_filter:
        bool_query["filter"].append(
            {
                "nested": {
                    "path": "locations",
                    "query": location_filter(query),
                    "inner_hits": {
                        "size": INNER_HITS_SIZE,
                        "_source": False,
                        "sort": [{"locations.location_id": "asc"}],
                    },
                }
            }
        )
    body: dict = {
        "query": {"bool": bool_query},
        "sort": sort_clause(query),
        "size": query.limit + 1,
        "track_total_hits": True,
        "_source": {"excludes": SOURCE_EXCLUDES},
    }
    if query.after is not None:
        body["search_after"] = list(query.after)
    aggs = aggregations(query)
    if aggs:
        body["aggs"] = aggs
    return body


def parse_facets(query: SearchQuery, aggs: dict) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {}
    for name in query.facets:
        agg = aggs[name]
        if name in PROVIDER_FACET_FIELDS:
            buckets = agg["buckets"]
            facets[name] = {b["key"]: b["doc_count"] for b in buckets}
        elif name in LOCATION_FACET_FIELDS:
            buckets = agg["matching"]["values"]["buckets"]
            facets[name] = {b["key"]: b["providers"]["doc_count"] for b in buckets}
        else:
            buckets = agg["matching"]["plans"]["matching"]["values"]["buckets"]
            facets[name] = {b["key"]: b["providers"]["doc_count"] for b in buckets}
    return facets


def _starts_with(prefix: str) -> dict:
    if len(prefix) <= SUGGEST_MAX_GRAM:
        return {"term": {SUGGEST_PREFIXES: prefix}}
    return {"prefix": {SUGGEST_FIELD: prefix}}


def suggest_body(words: tuple[str, ...], limit: int) -> dict:
    """Providers with a name key that completes the typed words; a key where the last word is
    whole scores 1, others 0; then the most locations, then sort_name and NPI."""
    typed = typed_key(words)
    whole_word = {"bool": {"should": [{"term": {SUGGEST_FIELD: typed}}, _starts_with(typed + " ")]}}
    return {
        "size": limit,
        "query": {
            "bool": {
                "filter": [_starts_with(typed)],
                "should": [{"constant_score": {"filter": whole_word, "boost": 1.0}}],
            }
        },
        "sort": [
            {"_score": "desc"},
            {"location_count": "desc"},
            {"sort_name": "asc"},
            {"npi": "asc"},
        ],
        "_source": SUGGEST_SOURCE,
        "track_total_hits": False,
    }


def directory_names_body(size: int) -> dict:
    """Aggregations of the groups (with their locations), cities, specialties and languages."""
    return {
        "size": 0,
        "aggs": {
            "groups": {
                "terms": {"field": "medical_group", "size": size},
                "aggs": {"locations": {"sum": {"field": "location_count"}}},
            },
            "specialties": {"terms": {"field": "specialty_codes", "size": size}},
            "languages": {"terms": {"field": "languages", "size": size}},
            "locations": {
                "nested": {"path": "locations"},
                "aggs": {"cities": {"terms": {"field": "locations.city", "size": size}}},
            },
        },
    }


def offices_body(page: int, after: dict | None) -> dict:
    """One page of the (office name, city) pairs of all locations, with their counts."""
    composite: dict = {
        "size": page,
        "sources": [
            {"name": {"terms": {"field": "locations.name"}}},
            {"city": {"terms": {"field": "locations.city"}}},
        ],
    }
    if after:
        composite["after"] = after
    return {
        "size": 0,
        "aggs": {
            "locations": {
                "nested": {"path": "locations"},
                "aggs": {"offices": {"composite": composite}},
            }
        },
    }
