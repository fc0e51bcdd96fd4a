"""The engine-neutral search request: what to match, how to sort, where to resume."""

from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations

from app.search import filters
from app.search.reader import Reading

SORTS = ("distance", "relevance", "name")
FACETS = tuple(f.parameter for f in filters.FILTERS if f.facet)
# Dimensions of one plan entry at a location (the plan filters' fields), each with the short name
# its keys are written with, in the order they are written.
PLAN_DIMENSIONS = (("p", "plan"), ("l", "line_of_business"), ("a", "accepting"))
_PLAN_FILTERS = {f.field: f for f in filters.at(filters.PLAN)}


@dataclass(frozen=True)
class GeoFilter:
    lat: float
    lon: float
    radius_miles: float


@dataclass(frozen=True)
class SearchQuery:
    """A validated search. Tuples hold alternatives (any of); separate fields must all hold."""

    text: tuple[str, ...] = ()
    npi: str | None = None
    # provider level
    entity_types: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    # Ranking only: among `specialties`, those the words named first (app/search/ranking.py).
    preferred_specialties: tuple[str, ...] = ()
    pcp: bool | None = None
    languages: tuple[str, ...] = ()
    genders: tuple[str, ...] = ()
    age: int | None = None
    groups: tuple[str, ...] = ()
    hospitals: tuple[str, ...] = ()
    # location level: all must hold at one and the same location
    geo: GeoFilter | None = None
    telehealth: bool | None = None
    cities: tuple[str, ...] = ()
    zips: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()  # every one required
    open_times: tuple[str, ...] = ()  # any one of them (app/vocab/codes.py OPEN_TIMES)
    # plan level: all must hold for one and the same plan at that location
    plans: tuple[str, ...] = ()
    lines_of_business: tuple[str, ...] = ()
    accepting: tuple[str, ...] = ()
    sort: str = "name"
    limit: int = 10
    after: tuple | None = None
    facets: tuple[str, ...] = field(default=FACETS)
    # How `q` was read (None when it was not): shown to the user, never sent to an engine.
    reading: Reading | None = field(default=None, compare=False)

    # Worked out once per query (results ask for each location): a query is never changed.
    @cached_property
    def plan_conditions(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(plan entry field, values it must be one of) for each plan-level filter given."""
        return tuple(
            (f.field, filters.values(self, f))
            for f in filters.at(filters.PLAN)
            if filters.is_set(self, f)
        )

    @property
    def has_plan_filter(self) -> bool:
        return bool(self.plan_conditions)

    @cached_property
    def has_location_filter(self) -> bool:
        located = any(filters.is_set(self, f) for f in filters.at(filters.LOCATION))
        return bool(self.geo or located or self.has_plan_filter)

    def plan_values(self) -> dict[str, tuple[str, ...]]:
        return {short: filters.values(self, _PLAN_FILTERS[name]) for short, name in PLAN_DIMENSIONS}


def plan_keys(plan: dict) -> list[str]:
    """Keys naming every combination of one plan entry's plan, line of business and status.

    A location carrying `p=x|a=accepting` has plan x *and* accepts new patients under plan x, so a
    single exact term answers "plan x, accepting, here" on either engine.
    """
    parts = [f"{short}={plan[name]}" for short, name in PLAN_DIMENSIONS]
    keys = []
    for size in range(1, len(parts) + 1):
        for combo in combinations(parts, size):
            keys.append("|".join(combo))
    return keys


def plan_filter_keys(query: SearchQuery) -> list[str]:
    """The plan keys of which a location must carry at least one to pass the plan filters."""
    keys = [""]
    for short, _name in PLAN_DIMENSIONS:
        values = query.plan_values()[short]
        if values:
            keys = [f"{k}|{short}={v}" if k else f"{short}={v}" for k in keys for v in values]
    return [k for k in keys if k]


def plan_matches(plan: dict, query: SearchQuery) -> bool:
    """True when one plan entry satisfies the plan-level filters."""
    return all(plan[name] in values for name, values in query.plan_conditions)
