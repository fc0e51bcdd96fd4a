"""A search over the embedded engine's columns (app/engines/embedded_columns.py): the locations
that meet every location condition of providers that meet every provider condition, one row per
provider found with its sort keys, the facet counts over them, and one page in sort order.

Pure numpy: the words' matches and the cursor's place in string order come in from SQL.
"""

from dataclasses import dataclass, replace

import numpy as np

from app.engines import embedded_sql as sql
from app.engines.embedded_columns import (
    LON_SHIFT,
    ROW_DEGREES,
    ROW_SPAN,
    Columns,
    Terms,
    ranges,
    spans,
)
from app.search import filters, ranking
from app.search.geo import EARTH_RADIUS_MILES, bounding_box, unit_vector
from app.search.query import SearchQuery

# Facet counts over fewer (providers found x values) than this use a table of cells seen.
MAX_SEEN_CELLS = 4_000_000


@dataclass(frozen=True)
class Resume:
    """Where a page resumes: the cursor's leading number (nearness or score; None for names)
    and the rank, in the sort's string order, of the first provider after the cursor's strings
    (ties on the number resume there)."""

    value: float | None
    rank: int


@dataclass
class Found:
    total: int
    providers: np.ndarray  # the page's provider indexes, in order, one more than the page
    near: np.ndarray  # their nearness (cosine of the angle to the place); 0 without a place
    score: np.ndarray  # their relevance score
    matched: list[list[int]] | None  # each one's matching location ords; None: all of them
    facets: dict[str, dict[str, int]]


def column_of(flt: filters.Filter) -> str:
    """The Columns attribute holding a filter's field."""
    return sql.PROVIDER_TERMS.get(flt.field) or sql.LOCATION_TERMS.get(flt.field) or flt.field


def search(
    columns: Columns,
    query: SearchQuery,
    text: tuple[np.ndarray, np.ndarray] | None = None,
    npi_provider: int | None = None,
    resume: Resume | None = None,
) -> Found:
    """Run a query. `text`: the providers the words found (indexes) with the words' score;
    `npi_provider`: the provider of query.npi (-1 when nobody has it)."""
    c = columns
    text_providers = text_scores = None
    if text is not None:
        order = np.argsort(text[0], kind="stable")
        text_providers, text_scores = text[0][order], text[1][order]
    located = _candidates(c, query, text_providers)
    near = None
    if query.geo is not None:
        near, keep = _nearness(c, query, located)
        located, near = located[keep], near[keep]
    keep = _location_conditions(c, query, located)
    owner = c.location_provider[located]
    keep &= _provider_conditions(c, query, owner, text_providers, npi_provider)
    located, owner = located[keep], owner[keep]
    if near is not None:
        near = near[keep]
    entries = entry_owner = entry_ok = None
    if query.has_plan_filter or _wants_plans(query) or _ranks_accepting(query):
        entries, entry_owner = _plan_entries(c, located)
        entry_ok = _plan_conditions(c, query, entries)
        if query.has_plan_filter:
            has = np.bincount(entry_owner[entry_ok], minlength=len(located)) > 0
            keep_entry = has[entry_owner]
            entries, entry_owner = entries[keep_entry], entry_owner[keep_entry]
            entry_ok = entry_ok[keep_entry]
            remap = np.cumsum(has) - 1
            entry_owner = remap[entry_owner]
            located, owner = located[has], owner[has]
            if near is not None:
                near = near[has]
    # One row per provider: its matching locations are a run of `by_provider`.
    by_provider = np.argsort(owner, kind="stable")
    sorted_owner = owner[by_provider]
    first = np.r_[True, sorted_owner[1:] != sorted_owner[:-1]] if len(owner) else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    found = sorted_owner[starts]
    # Each matching location's row: the position of its provider in `found`.
    row = np.empty(len(owner), dtype=np.int64)
    row[by_provider] = np.cumsum(first) - 1
    provider_near = (
        np.maximum.reduceat(near[by_provider], starts)
        if near is not None and len(found)
        else np.zeros(len(found))
    )
    score = _score(
        c, query, found, provider_near, text_providers, text_scores, entries, entry_owner, owner
    )
    page = _page(c, query, found, provider_near, score, resume)
    matched = None
    if query.has_location_filter:
        ends = np.r_[starts[1:], len(owner)]
        matched = [sorted(c.ord[located[by_provider[starts[j] : ends[j]]]].tolist()) for j in page]
    facets = {}
    if query.facets:
        plans = None
        if entries is not None:
            plans = (entries[entry_ok], row[entry_owner[entry_ok]])
        facets = _facets(c, query, found, located, row, plans)
    return Found(
        total=len(found),
        providers=found[page],
        near=provider_near[page],
        score=score[page],
        matched=matched,
        facets=facets,
    )


def _candidates(c: Columns, query: SearchQuery, text_providers) -> np.ndarray:
    """Location indexes to test: those in the place's box, or of the providers the words found,
    whichever are fewer; every location without either."""
    by_text = None
    if text_providers is not None:
        by_text = c.provider_locations[ranges(c.provider_location_ptr, text_providers)]
    if query.geo is None:
        return by_text if by_text is not None else np.arange(c.locations, dtype=np.int64)
    starts, lengths = _box(c, query)
    if by_text is not None and len(by_text) < lengths.sum():
        return np.sort(by_text)
    return spans(starts, lengths)


def _box(c: Columns, query: SearchQuery) -> tuple[np.ndarray, np.ndarray]:
    """The runs of the spatial order inside the bounding box of the place's circle, one per row."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(
        query.geo.lat, query.geo.lon, query.geo.radius_miles
    )
    rows = np.arange(np.floor(min_lat / ROW_DEGREES), np.floor(max_lat / ROW_DEGREES) + 1)
    starts = np.searchsorted(c.location_key, rows * ROW_SPAN + (min_lon + LON_SHIFT), "left")
    ends = np.searchsorted(c.location_key, rows * ROW_SPAN + (max_lon + LON_SHIFT), "right")
    return starts, ends - starts


def _nearness(c: Columns, query: SearchQuery, located: np.ndarray):
    """Nearness of each location (the dot product of unit vectors: the cosine of the angle),
    and which lie within the radius."""
    ux, uy, uz = unit_vector(query.geo.lat, query.geo.lon)
    near = c.x[located] * ux + c.y[located] * uy + c.z[located] * uz
    return near, near >= np.cos(query.geo.radius_miles / EARTH_RADIUS_MILES)


def _any_of(column: np.ndarray, codes: list[int]) -> np.ndarray:
    if len(codes) == 1:
        return column == codes[0]
    return np.isin(column, codes)


def _location_conditions(c: Columns, query: SearchQuery, located: np.ndarray) -> np.ndarray:
    keep = np.ones(len(located), dtype=bool)
    for flt in filters.at(filters.LOCATION):
        if not filters.is_set(query, flt):
            continue
        value = filters.values(query, flt)
        column = getattr(c, column_of(flt))
        if flt.kind == filters.FLAG:
            keep &= column[located] == bool(value)
        elif isinstance(column, Terms):
            groups = [[one] for one in value] if flt.kind == filters.ALL_OF else [value]
            for group in groups:
                codes = c.codes(column_of(flt), group)
                keep &= column.having(codes, c.locations)[located]
        elif flt.kind == filters.ANY_OF:
            keep &= _any_of(column[located], c.codes(column_of(flt), value))
        else:
            raise ValueError(f"no translation for {flt.kind} on {flt.field}")
    return keep


def _provider_conditions(
    c: Columns, query: SearchQuery, owner: np.ndarray, text_providers, npi_provider
) -> np.ndarray:
    keep = np.ones(len(owner), dtype=bool)
    if npi_provider is not None:
        keep &= owner == npi_provider
    if text_providers is not None:
        at = np.searchsorted(text_providers, owner)
        at[at == len(text_providers)] = 0
        keep &= text_providers[at] == owner if len(text_providers) else False
    for flt in filters.at(filters.PROVIDER):
        if not filters.is_set(query, flt):
            continue
        value = filters.values(query, flt)
        if flt.kind == filters.AGE:
            keep &= (c.age_min[owner] <= value) & (c.age_max[owner] >= value)
            continue
        column = getattr(c, column_of(flt))
        if flt.kind == filters.FLAG:
            keep &= column[owner] == bool(value)
        elif isinstance(column, Terms) and flt.kind == filters.ANY_OF:
            keep &= column.having(c.codes(column_of(flt), value), c.providers)[owner]
        elif flt.kind == filters.ANY_OF:
            keep &= _any_of(column[owner], c.codes(column_of(flt), value))
        else:
            raise ValueError(f"no translation for {flt.kind} on {flt.field}")
    return keep


def _wants_plans(query: SearchQuery) -> bool:
    return any(filters.BY_PARAMETER[name].grain == filters.PLAN for name in query.facets)


def _ranks_accepting(query: SearchQuery) -> bool:
    return (
        query.sort == "relevance"
        and bool(query.plans or query.lines_of_business)
        and (not query.accepting)
    )


def _plan_entries(c: Columns, located: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plan entries at these locations, and the position in `located` each belongs to."""
    entries = ranges(c.plan_ptr, located)
    counts = c.plan_ptr[located + 1] - c.plan_ptr[located]
    return entries, np.repeat(np.arange(len(located)), counts)


def _plan_conditions(c: Columns, query: SearchQuery, entries: np.ndarray) -> np.ndarray:
    """Which plan entries meet every plan condition (one and the same plan)."""
    ok = np.ones(len(entries), dtype=bool)
    for flt in filters.at(filters.PLAN):
        if filters.is_set(query, flt):
            codes = c.codes(flt.field, filters.values(query, flt))
            ok &= _any_of(getattr(c, flt.field)[entries], codes)
    return ok


def _score(
    c, query, found, provider_near, text_providers, text_scores, entries, entry_owner, owner
) -> np.ndarray:
    """The relevance score of each provider found (app/search/ranking.py), in the order the
    parts are documented; the words' part alone for other sorts."""
    score = np.zeros(len(found))
    if text_providers is not None and len(found):
        score = text_scores[np.searchsorted(text_providers, found)].astype(np.float64)
    if query.sort != "relevance":
        return score
    primary = c.primary_specialty[found]
    for asked, weight in (
        (query.specialties, ranking.PRIMARY_SPECIALTY),
        (query.preferred_specialties, ranking.SPECIALIST),
    ):
        if asked:
            score = score + np.where(np.isin(primary, c.codes("specialty", asked)), weight, 0.0)
    if _ranks_accepting(query):
        accepting = replace(query, accepting=("accepting",))
        ok = _plan_conditions(c, accepting, entries)
        providers = owner[entry_owner[ok]]
        score = score + np.where(np.isin(found, providers), ranking.ACCEPTING, 0.0)
    if query.geo is not None:
        miles = np.arccos(np.minimum(1.0, provider_near)) * EARTH_RADIUS_MILES / ranking.DECAY_MILES
        score = score + ranking.NEARNESS * np.power(0.5, miles)
    return score


def _page(c, query, found, provider_near, score, resume: Resume | None) -> np.ndarray:
    """Positions in `found` of the page past the cursor, in sort order, plus one."""
    if query.sort == "distance":
        number, rank = -provider_near, c.npi_rank[found]
    elif query.sort == "relevance":
        number, rank = -score, c.name_rank[found]
    else:
        number, rank = None, c.name_rank[found]
    positions = np.arange(len(found))
    if resume is not None:
        after = rank >= resume.rank
        if number is not None:
            after = (number > -resume.value) | ((number == -resume.value) & after)
        positions = positions[after]
    keys = (rank[positions],) if number is None else (rank[positions], number[positions])
    want = query.limit + 1
    if len(positions) > 4 * want:
        # Only the first few are wanted: keep those up to the want-th leading key, ties included.
        lead = keys[-1]
        bound = np.partition(lead, want - 1)[want - 1]
        positions = positions[lead <= bound]
        keys = tuple(k[lead <= bound] for k in keys)
    return positions[np.lexsort(keys)][:want]


def _distinct_counts(rows: np.ndarray, codes: np.ndarray, found: int, values: int) -> np.ndarray:
    """How many distinct providers have each value, from (row of the provider in the providers
    found, value code) pairs with repeats."""
    if found * values <= MAX_SEEN_CELLS:
        # A table of seen (provider, value) cells: cheaper than sorting the pairs.
        seen = np.zeros((found, values), dtype=bool)
        seen[rows, codes] = True
        return seen.sum(axis=0)
    pairs = np.unique(rows * values + codes)
    return np.bincount(pairs % values, minlength=values)


def _facets(c, query, found, located, row, plans) -> dict[str, dict[str, int]]:
    """Counts of providers per value over the whole result, each at its filter's grain: `row`
    places each matching location's provider in `found`; `plans` holds the plan entries that
    match there (and their rows)."""
    facets = {}
    for name in query.facets:
        flt = filters.BY_PARAMETER[name]
        field = column_of(flt)
        values = len(c.vocab[field])
        column = getattr(c, field)
        if flt.grain == filters.PROVIDER and isinstance(column, Terms):
            counts = column.count(found, values)
        elif flt.grain == filters.PROVIDER:
            counts = np.bincount(column[found], minlength=values)
        elif flt.grain == filters.LOCATION and isinstance(column, Terms):
            positions = ranges(column.owner_ptr, located)
            lengths = column.owner_ptr[located + 1] - column.owner_ptr[located]
            counts = _distinct_counts(
                np.repeat(row, lengths), column.codes[positions], len(found), values
            )
        elif flt.grain == filters.LOCATION:
            counts = _distinct_counts(row, column[located], len(found), values)
        else:
            entries, rows = plans
            counts = _distinct_counts(rows, column[entries], len(found), values)
        vocab = c.vocab[field]
        facets[name] = {vocab[v]: int(counts[v]) for v in np.flatnonzero(counts) if vocab[v]}
    return facets
