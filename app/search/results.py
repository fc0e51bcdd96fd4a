"""Engine hits -> the JSON callers see: a result per provider, matching locations nearest first."""

from app.engines.base import Hit, SearchResult
from app.search import cursor
from app.search.geo import great_circle_miles
from app.search.query import SearchQuery, plan_matches
from app.vocab import languages
from app.vocab.nucc import describe as describe_specialty

PUBLIC_PROVIDER_FIELDS = (
    "npi",
    "entity_type",
    "display_name",
    "name",
    "credentials",
    "gender",
    "specialties",
    "pcp",
    "pcp_type",
    "age_min",
    "age_max",
    "languages",
    "board_certifications",
    "hospital_affiliations",
    "medical_group",
    "license",
    "last_updated",
    "last_verified",
)
LOCATION_FIELDS = (
    "location_id",
    "name",
    "address",
    "city",
    "state",
    "zip",
    "zip4",
    "phone",
    "phone_extension",
    "hours",
    "accessibility",
    "staff_languages",
    "telehealth",
    "lat",
    "lon",
)


def present_location(location: dict, query: SearchQuery | None) -> dict:
    view = {name: location.get(name) for name in LOCATION_FIELDS}
    plans = location["plans"]
    if query is not None and query.has_plan_filter:
        plans = [p for p in plans if plan_matches(p, query)]
    view["plans"] = [dict(p) for p in plans]
    if query is not None and query.geo is not None:
        view["distance_miles"] = round(
            great_circle_miles(query.geo.lat, query.geo.lon, location["lat"], location["lon"]), 3
        )
    return view


def present_provider(doc: dict, query: SearchQuery | None = None, indexes=None) -> dict:
    view = {name: doc.get(name) for name in PUBLIC_PROVIDER_FIELDS}
    chosen = range(len(doc["locations"])) if indexes is None else indexes
    locations = [present_location(doc["locations"][i], query) for i in chosen]
    if query is not None and query.geo is not None:
        locations.sort(key=lambda loc: (loc["distance_miles"], loc["location_id"]))
        view["distance_miles"] = locations[0]["distance_miles"] if locations else None
    view["locations"] = locations
    return view


LABELS = {
    "gender": {"female": "Female", "male": "Male", "nonbinary": "Nonbinary"},
    "line_of_business": {
        "commercial": "Commercial",
        "medi-cal": "Medi-Cal",
        "medicare-advantage": "Medicare Advantage",
        "covered-california": "Covered California",
    },
    "accepting_new_patients": {
        "accepting": "Accepting new patients",
        "not_accepting": "Not accepting new patients",
        "existing_only": "Existing patients only",
        "existing_family": "Existing patients and their family",
    },
}


def facet_label(facet: str, value: str, plan_names: dict[str, str]) -> str:
    if facet == "plan":
        return plan_names.get(value, value)
    if facet in LABELS:
        return LABELS[facet].get(value, value)
    if facet == "specialty":
        return describe_specialty(value).display
    if facet == "language":
        return languages.name(value)
    return value


def present_facets(
    facets: dict[str, dict[str, int]], plan_names: dict[str, str]
) -> dict[str, list[dict]]:
    return {
        name: [
            {"value": value, "label": facet_label(name, value, plan_names), "count": count}
            for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        for name, counts in facets.items()
    }


def present_search(result: SearchResult, query: SearchQuery, plan_names: dict[str, str]) -> dict:
    hits: list[Hit] = result.hits
    next_cursor = cursor.encode(query.sort, hits[-1].sort) if result.more and hits else None
    return {
        "total": result.total,
        "count": len(hits),
        "sort": query.sort,
        "results": [present_provider(h.doc, query, h.matched_locations) for h in hits],
        "facets": present_facets(result.facets, plan_names),
        "next_cursor": next_cursor,
    }
