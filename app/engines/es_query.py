"""SearchQuery -> Elasticsearch request body. Pure: no client, tested as data."""

from app.search.query import SearchQuery, plan_filter_keys
from app.search.suggest import typed_key
from app.vocab.text import max_edits

TEXT_FIELD = "search_text"
NAME_FIELD = "name_text"
NAME_BOOST = 3.0
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

PROVIDER_FACET_FIELDS = {
    "specialty": "specialty_codes",
    "language": "languages",
    "gender": "gender",
}
PLAN_FACET_FIELDS = {
    "plan": "locations.plans.plan",
    "line_of_business": "locations.plans.line_of_business",
    "accepting_new_patients": "locations.plans.accepting",
}


def _terms(field: str, values) -> dict:
    return {"terms": {field: list(values)}}


def text_query(words: tuple[str, ...]) -> dict:
    """Every word must match a word of the provider (with the typos its length allows)."""
    must = [
        {
            "fuzzy": {
                TEXT_FIELD: {
                    "value": w,
                    "fuzziness": max_edits(w),
                    "max_expansions": FUZZY_MAX_EXPANSIONS,
                    "transpositions": True,
                    "prefix_length": 0,
                }
            }
        }
        if max_edits(w)
        else {"term": {TEXT_FIELD: w}}
        for w in words
    ]
    should = [{"match": {NAME_FIELD: {"query": " ".join(words), "boost": NAME_BOOST}}}]
    return {"bool": {"must": must, "should": should}}


def provider_filters(query: SearchQuery) -> list[dict]:
    filters: list[dict] = []
    if query.npi:
        filters.append({"term": {"npi": query.npi}})
    if query.entity_types:
        filters.append(_terms("entity_type", query.entity_types))
    if query.specialties:
        filters.append(_terms("specialty_codes", query.specialties))
    if query.pcp is not None:
        filters.append({"term": {"pcp": query.pcp}})
    if query.languages:
        filters.append(_terms("languages", query.languages))
    if query.genders:
        filters.append(_terms("gender", query.genders))
    if query.age is not None:
        filters.append({"range": {"age_min": {"lte": query.age}}})
        filters.append({"range": {"age_max": {"gte": query.age}}})
    if query.groups:
        filters.append(_terms("medical_group", query.groups))
    if query.hospitals:
        filters.append(_terms("hospital_affiliations", query.hospitals))
    return filters


def location_filter(query: SearchQuery) -> dict:
    """The conditions one location must meet (inside the `locations` nested context)."""
    filters: list[dict] = []
    if query.geo:
        filters.append(
            {
                "geo_distance": {
                    "distance": f"{query.geo.radius_miles}mi",
                    "distance_type": "arc",
                    "locations.geo": {"lat": query.geo.lat, "lon": query.geo.lon},
                }
            }
        )
    if query.has_plan_filter:
        filters.append(_terms("locations.plan_keys", plan_filter_keys(query)))
    if query.telehealth is not None:
        filters.append({"term": {"locations.telehealth": query.telehealth}})
    if query.cities:
        filters.append(_terms("locations.city", query.cities))
    if query.zips:
        filters.append(_terms("locations.zip", query.zips))
    for code in query.accessibility:
        filters.append({"term": {"locations.accessibility": code}})
    return {"bool": {"filter": filters}}


def plan_filter(query: SearchQuery) -> dict:
    """The conditions one plan entry must meet (inside `locations.plans`)."""
    filters = []
    if query.plans:
        filters.append(_terms("locations.plans.plan", query.plans))
    if query.lines_of_business:
        filters.append(_terms("locations.plans.line_of_business", query.lines_of_business))
    if query.accepting:
        filters.append(_terms("locations.plans.accepting", query.accepting))
    return {"bool": {"filter": filters}}


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
        return [{"_score": "desc"}, {"npi": "asc"}]
    return [{"sort_name": "asc"}, {"npi": "asc"}]


def aggregations(query: SearchQuery) -> dict:
    aggs: dict = {}
    per_provider = {"providers": {"reverse_nested": {}}}
    for name in query.facets:
        if name in PROVIDER_FACET_FIELDS:
            aggs[name] = {"terms": {"field": PROVIDER_FACET_FIELDS[name], "size": FACET_SIZE}}
        elif name == "city":
            aggs[name] = {
                "nested": {"path": "locations"},
                "aggs": {
                    "matching": {
                        "filter": location_filter(query),
                        "aggs": {
                            "values": {
                                "terms": {"field": "locations.city", "size": FACET_SIZE},
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
        elif name == "city":
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
