"""When a search finds nobody: which condition emptied it, and the nearest searches that find
someone ("No Spanish-speaking pediatricians within 5 miles; 12 within 15 miles").

Each relaxation changes one thing: a wider radius (the smallest of the usual radii that finds
someone), or one filter dropped. Counts come from the engine, one small search each, and only
when the search itself found nobody.
"""

from dataclasses import dataclass, replace

from app.search import filters
from app.search.query import GeoFilter, SearchQuery

WIDER_RADII = (5.0, 10.0, 15.0, 25.0, 50.0, 100.0)
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
    # Filters a member may give up, most dispensable first (declared in app/search/filters.py).
    for flt in filters.GIVE_UP_ORDER:
        if not filters.is_set(query, flt):
            continue
        dropped = None if flt.kind == filters.FLAG else ()
        total = _count(engine, replace(query, **{flt.attribute: dropped}))
        if total:
            found.append(Relaxation(flt.parameter, total))
        if len(found) >= MAX_RELAXATIONS:
            break
    return found
