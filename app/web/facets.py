"""Facet counts for the filter menus, each counted as if its own choice were not yet made.

A visitor who picked Spanish still needs to see how many providers speak Vietnamese, or the menu
could only ever offer the one language already chosen. So a facet whose filter is set is counted
by a second small search without that filter (one result, that facet only).
"""

import time
from dataclasses import dataclass, replace

from flask import current_app

from app.engines.base import Engine, SearchResult
from app.search.query import SearchQuery

# Facet name -> the SearchQuery field its filter sets.
FILTER_OF = {
    "specialty": "specialties",
    "language": "languages",
    "gender": "genders",
    "plan": "plans",
    "line_of_business": "lines_of_business",
    "accepting_new_patients": "accepting",
}
SHOWN = tuple(FILTER_OF)
DIRECTORY_TTL_SECONDS = 300.0


def search(engine: Engine, query: SearchQuery) -> tuple[SearchResult, dict[str, dict[str, int]]]:
    """One page of results and the counts of every facet the page shows."""
    chosen = [name for name in SHOWN if getattr(query, FILTER_OF[name])]
    result = engine.search(replace(query, facets=tuple(n for n in SHOWN if n not in chosen)))
    counts = dict(result.facets)
    for name in chosen:
        without = replace(query, **{FILTER_OF[name]: ()}, limit=1, after=None, facets=(name,))
        counts[name] = engine.search(without).facets.get(name, {})
    return result, counts


@dataclass
class _Cached:
    at: float
    counts: dict[str, dict[str, int]]


def directory(engine: Engine) -> dict[str, dict[str, int]]:
    """Counts over the whole directory, for the menus before the first search; kept a while
    because they change only with an import and cost a scan of everything."""
    cache = current_app.extensions.setdefault("web_directory_facets", {})
    entry = cache.get("counts")
    now = time.monotonic()
    if entry is None or now - entry.at > DIRECTORY_TTL_SECONDS:
        result = engine.search(SearchQuery(limit=1, facets=SHOWN))
        entry = cache["counts"] = _Cached(now, dict(result.facets))
    return entry.counts
