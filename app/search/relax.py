"""When a search finds nobody: which condition emptied it, and the nearest searches that find
someone ("No Spanish-speaking pediatricians within 5 miles; 12 within 15 miles").

Each relaxation changes one thing: a wider radius (the smallest of the usual radii that finds
someone), or one filter dropped. Counts come from the engine, one small search each, and only
when the search itself found nobody.
"""

from dataclasses import dataclass, replace

from app.search.query import GeoFilter, SearchQuery

WIDER_RADII = (5.0, 10.0, 15.0, 25.0, 50.0, 100.0)
# Filters a member may give up, most dispensable first, with the query fields they live in.
DROPPABLE = (
    ("accepting_new_patients", "accepting"),
    ("telehealth", "telehealth"),
    ("gender", "genders"),
    ("language", "languages"),
    ("accessibility", "accessibility"),
    ("type", "entity_types"),
    ("specialty", "specialties"),
    ("pcp", "pcp"),
    ("line_of_business", "lines_of_business"),
    ("plan", "plans"),
)
MAX_RELAXATIONS = 3


@dataclass(frozen=True)
class Relaxation:
    """One change to the search, and how many providers the changed search finds."""

    parameter: str
    total: int
    radius: float | None = None  # for parameter "radius": the radius that finds someone


def _count(engine, query: SearchQuery) -> int:
    return engine.search(replace(query, limit=1, after=None, facets=())).total


def relaxations(engine, query: SearchQuery) -> list[Relaxation]:
    """The nearest searches that find someone, at most MAX_RELAXATIONS of them."""
    found: list[Relaxation] = []
    if query.geo is not None:
        for radius in WIDER_RADII:
            if radius <= query.geo.radius_miles:
                continue
            wider = GeoFilter(query.geo.lat, query.geo.lon, radius)
            total = _count(engine, replace(query, geo=wider))
            if total:
                found.append(Relaxation("radius", total, radius))
                break
    for parameter, name in DROPPABLE:
        value = getattr(query, name)
        if value in ((), None):
            continue
        dropped = None if isinstance(value, bool) else ()
        total = _count(engine, replace(query, **{name: dropped}))
        if total:
            found.append(Relaxation(parameter, total))
        if len(found) >= MAX_RELAXATIONS:
            break
    return found
