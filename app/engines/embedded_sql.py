"""SearchQuery -> the embedded engine's SQLite statements. Pure: SQL text and parameters out, no
database, tested as data. Values always travel as parameters; the text is made only of the
constants here and of the declared filters' storage names.

A search runs as a few statements over temporary tables: `t` the providers the words found, with
the words' part of the score; `m` the locations that meet every location condition, of providers
that meet every provider condition; `h` one row per provider found with its sort keys; then one
page of `h`, and the facet counts over `h` and `m`.
"""

import math
from dataclasses import replace

from app.search import filters, ranking
from app.search.geo import EARTH_RADIUS_MILES, bounding_box, unit_vector
from app.search.query import SearchQuery, plan_filter_keys

Statement = tuple[str, dict]

# Where each declared filter's field is kept. A location row repeats its provider's columns so
# that a search reads one row per place; list-valued fields are rows of a terms table.
PROVIDER_COLUMNS = ("entity_type", "gender", "pcp", "medical_group")
PROVIDER_TERMS = {
    "specialty_codes": "specialty",
    "languages": "language",
    "hospital_affiliations": "hospital",
}
LOCATION_COLUMNS = ("telehealth", "city", "zip")
LOCATION_TERMS = {"accessibility": "access", "open_times": "open"}
PRIMARY_SPECIALTY_TERM = "primary_specialty"
PLAN_KEY_TERM = "plan_key"
# With a geographic filter, text matches drive the search only when there are fewer than this.
TEXT_DRIVES_BELOW = 5000

# Nearness as the dot product of unit vectors: cos(angle between the points). Within the radius
# means cos(angle) >= cos(radius / R); nearer means larger: three products instead of trig calls.
NEARNESS_SQL = "(l.x * :ux + l.y * :uy + l.z * :uz)"

TEXT_MATCHES_SQL = (
    "INSERT INTO temp.t SELECT rowid, 0.0 FROM provider_text WHERE provider_text MATCH :words"
)
# One text word's part of the relevance score (app/search/ranking.py), added to every provider
# the words found: the best of an exact name word, a name prefix, an exact word, a word one typo
# away (for words allowed two), else a fuzzy one.
WORD_SCORE_SQL = """
UPDATE temp.t SET score = score + CASE
  WHEN pid IN (SELECT rowid FROM provider_text WHERE provider_text MATCH :exact_name)
    THEN :w_exact_name
  WHEN pid IN (SELECT rowid FROM provider_text WHERE provider_text MATCH :name_prefix)
    THEN :w_prefix
  WHEN pid IN (SELECT rowid FROM provider_text WHERE provider_text MATCH :exact_text)
    THEN :w_exact_text{one_typo}
  ELSE :w_fuzzy END
"""
ONE_TYPO_SQL = """
  WHEN pid IN (SELECT rowid FROM provider_text WHERE provider_text MATCH :one_typo)
    THEN :w_one_typo"""
SORT_KEYS = {
    "distance": (("near", "DESC"),),
    "name": (("sort_name", "ASC"),),
    "relevance": (("score", "DESC"), ("sort_name", "ASC")),
}


def placeholders(prefix: str, values, params: dict) -> str:
    """`:prefix0, :prefix1, ...` for the values, which are added to `params`."""
    names = []
    for i, value in enumerate(values):
        key = f"{prefix}{i}"
        params[key] = value
        names.append(f":{key}")
    return ", ".join(names)


def any_of(terms) -> str:
    """An FTS5 expression matching any of these words (letters and digits only: quoting is
    enough)."""
    return "(" + " OR ".join(f'"{t}"' for t in sorted(terms)) + ")"


def text_matches(word_matches: list[dict[str, int]]) -> Statement:
    """Fill `t` with the providers that have, for every query word, one of the words it matches."""
    return TEXT_MATCHES_SQL, {"words": " AND ".join(any_of(found) for found in word_matches)}


def word_score(word: str, one_typo: list[str]) -> Statement:
    """Add one query word's part of the score to `t`; `one_typo` are the directory's words one
    edit from it, when the word may carry two."""
    exact_name = f'name : "{word}"'
    prefixed = len(word) >= ranking.MIN_PREFIX_LETTERS
    params = {
        "exact_name": exact_name,
        "name_prefix": f'name : "{word}" *' if prefixed else exact_name,
        "exact_text": f'"{word}"',
        "w_exact_name": ranking.EXACT_NAME,
        "w_prefix": ranking.NAME_PREFIX,
        "w_exact_text": ranking.EXACT_TEXT,
        "w_fuzzy": ranking.FUZZY,
    }
    if not one_typo:
        return WORD_SCORE_SQL.format(one_typo=""), params
    params.update(one_typo=any_of(one_typo), w_one_typo=ranking.ONE_TYPO)
    return WORD_SCORE_SQL.format(one_typo=ONE_TYPO_SQL), params


def text_drives(query: SearchQuery, text_rows: int | None) -> bool:
    """Whether the text matches (`t`) are the outer loop: without a place, or when they are few."""
    return text_rows is not None and (query.geo is None or text_rows <= TEXT_DRIVES_BELOW)


def matched(query: SearchQuery, text_rows: int | None) -> Statement:
    """Create `m`: locations meeting every location condition, of providers meeting every provider
    one. `text_rows` is how many providers the words found (None without words).

    The outer loop is chosen here rather than left to the planner, which otherwise prefers to
    walk a broad term list (every accepting location) over the R*Tree or the text matches.
    """
    params: dict = {}
    where = ["1"]
    nearness = "NULL"
    by_text = text_drives(query, text_rows)
    if by_text:
        source = "temp.t t CROSS JOIN locations l ON l.provider_id = t.pid"
    elif query.geo:
        source = "location_geo g CROSS JOIN locations l ON l.id = g.id"
    else:
        source = "locations l"
    driven = by_text or query.geo is not None
    join = "CROSS JOIN" if driven else "JOIN"
    source += f" {join} providers p ON p.id = l.provider_id"
    if query.geo:
        geo = query.geo
        params["ux"], params["uy"], params["uz"] = unit_vector(geo.lat, geo.lon)
        params["min_nearness"] = math.cos(geo.radius_miles / EARTH_RADIUS_MILES)
        if not by_text:
            box = bounding_box(geo.lat, geo.lon, geo.radius_miles)
            params.update(zip(("min_lat", "max_lat", "min_lon", "max_lon"), box, strict=True))
            where.append(
                "g.max_lat >= :min_lat AND g.min_lat <= :max_lat"
                " AND g.max_lon >= :min_lon AND g.min_lon <= :max_lon"
            )
        nearness = NEARNESS_SQL
        where.append(f"{NEARNESS_SQL} >= :min_nearness")
    if text_rows is not None and not by_text:
        where.append("l.provider_id IN (SELECT pid FROM temp.t)")
    if query.has_plan_filter:
        where.append(_location_term(PLAN_KEY_TERM, plan_filter_keys(query), "pk", params, driven))
    if query.npi:
        params["npi"] = query.npi
        where.append("l.npi = :npi")
    for i, flt in enumerate(filters.FILTERS):
        if filters.is_set(query, flt) and flt.grain != filters.PLAN:
            value = filters.values(query, flt)
            where.extend(_condition(flt, value, f"f{i}_", params, driven))
    sql = (
        "CREATE TEMP TABLE m AS SELECT l.id AS lid, l.provider_id AS pid, l.ord AS ord,"
        f" l.city AS city, {nearness} AS near FROM {source} WHERE {' AND '.join(where)}"
    )
    return sql, params


def _condition(flt: filters.Filter, value, prefix: str, params: dict, driven: bool) -> list[str]:
    """One declared filter of provider or location grain, on a location row `l`, by its kind."""
    if flt.kind == filters.AGE:
        params[f"{prefix}age"] = value
        return [f"l.age_min <= :{prefix}age AND l.age_max >= :{prefix}age"]
    if flt.kind == filters.FLAG:
        params[f"{prefix}flag"] = int(value)
        return [f"l.{_column(flt)} = :{prefix}flag"]
    if flt.field in PROVIDER_TERMS:
        if flt.kind == filters.ANY_OF:
            return [_provider_term(PROVIDER_TERMS[flt.field], value, prefix, params, driven)]
    elif flt.field in LOCATION_TERMS:
        term = LOCATION_TERMS[flt.field]
        if flt.kind == filters.ALL_OF:
            return [
                _location_term(term, [one], f"{prefix}{i}_", params, driven)
                for i, one in enumerate(value)
            ]
        return [_location_term(term, value, prefix, params, driven)]
    elif flt.kind == filters.ANY_OF:
        return [f"l.{_column(flt)} IN ({placeholders(prefix, value, params)})"]
    raise ValueError(f"no translation for {flt.kind} on {flt.field}")


def _column(flt: filters.Filter) -> str:
    columns = PROVIDER_COLUMNS if flt.grain == filters.PROVIDER else LOCATION_COLUMNS
    if flt.field not in columns:
        raise ValueError(f"{flt.field} is not a column of a location row")
    return flt.field


def _provider_term(term: str, values, prefix: str, params: dict, driven: bool) -> str:
    marks = placeholders(prefix, values, params)
    if driven:  # few rows: look each one up
        return (
            "EXISTS (SELECT 1 FROM provider_terms pt WHERE pt.provider_id = l.provider_id"
            f" AND pt.field = '{term}' AND pt.value IN ({marks}))"
        )
    return (
        "l.provider_id IN (SELECT provider_id FROM provider_terms"
        f" WHERE field = '{term}' AND value IN ({marks}))"
    )


def _location_term(term: str, values, prefix: str, params: dict, driven: bool) -> str:
    marks = placeholders(prefix, values, params)
    if driven:
        return (
            "EXISTS (SELECT 1 FROM location_terms lt WHERE lt.location_id = l.id"
            f" AND lt.field = '{term}' AND lt.value IN ({marks}))"
        )
    return (
        "l.id IN (SELECT location_id FROM location_terms"
        f" WHERE field = '{term}' AND value IN ({marks}))"
    )


def hits(query: SearchQuery, with_text: bool) -> Statement:
    """Create `h`: one row per provider with a matching location, with its sort keys.

    With sort=relevance, the score adds to the words' part (`t`) the parts of
    app/search/ranking.py that do not depend on words, as the Elasticsearch query does.
    """
    params: dict = {}
    parts, join = ["0.0"], ""
    if with_text:
        parts, join = ["t.score"], " JOIN temp.t t ON t.pid = p.id"
    if query.sort == "relevance":
        parts.extend(_ranking(query, params))
    sql = (
        "CREATE TEMP TABLE h AS SELECT p.id AS pid, p.npi AS npi, p.sort_name AS sort_name,"
        f" p.gender AS gender, md.near AS near, {' + '.join(parts)} AS score"
        " FROM (SELECT pid, MAX(near) AS near FROM temp.m GROUP BY pid) md"
        f" JOIN providers p ON p.id = md.pid{join}"
    )
    return sql, params


def _primary_among(codes, prefix: str, weight: str, params: dict) -> str:
    marks = placeholders(prefix, codes, params)
    return (
        "(CASE WHEN EXISTS (SELECT 1 FROM provider_terms pt WHERE pt.provider_id = p.id"
        f" AND pt.field = '{PRIMARY_SPECIALTY_TERM}' AND pt.value IN ({marks}))"
        f" THEN :{weight} ELSE 0.0 END)"
    )


def _ranking(query: SearchQuery, params: dict) -> list[str]:
    parts = []
    if query.specialties:
        params["w_primary"] = ranking.PRIMARY_SPECIALTY
        parts.append(_primary_among(query.specialties, "rs", "w_primary", params))
    if query.preferred_specialties:
        params["w_specialist"] = ranking.SPECIALIST
        parts.append(_primary_among(query.preferred_specialties, "rp", "w_specialist", params))
    if (query.plans or query.lines_of_business) and not query.accepting:
        keys = plan_filter_keys(replace(query, accepting=("accepting",)))
        marks = placeholders("ra", keys, params)
        params["w_accepting"] = ranking.ACCEPTING
        parts.append(
            "(CASE WHEN EXISTS (SELECT 1 FROM temp.m m2 CROSS JOIN location_terms lt"
            f" ON lt.location_id = m2.lid WHERE m2.pid = md.pid AND lt.field = '{PLAN_KEY_TERM}'"
            f" AND lt.value IN ({marks})) THEN :w_accepting ELSE 0.0 END)"
        )
    if query.geo:
        params.update(
            w_near=ranking.NEARNESS,
            decay_miles=ranking.DECAY_MILES,
            radius_miles=EARTH_RADIUS_MILES,
        )
        # The nearest matching location: its nearness is the largest cosine (see NEARNESS_SQL).
        parts.append(":w_near * pow(0.5, acos(min(1.0, md.near)) * :radius_miles / :decay_miles)")
    return parts


def page(query: SearchQuery) -> Statement:
    """One page of `h` past the cursor, plus one row to tell whether more follow: rows of
    (provider id, sort keys..., npi)."""
    keys = SORT_KEYS[query.sort] + (("npi", "ASC"),)
    params: dict = {"limit": query.limit + 1}
    where = "1"
    if query.after is not None:
        # Keyset paging: rows strictly after the cursor in the sort order.
        alternatives = []
        for i, (column, order) in enumerate(keys):
            params[f"k{i}"] = query.after[i]
            before = [f"{c} = :k{j}" for j, (c, _o) in enumerate(keys[:i])]
            step = f"{column} {'<' if order == 'DESC' else '>'} :k{i}"
            alternatives.append("(" + " AND ".join([*before, step]) + ")")
        where = " OR ".join(alternatives)
    columns = ", ".join(c for c, _o in keys[:-1])
    order_by = ", ".join(f"{c} {o}" for c, o in keys)
    sql = f"SELECT pid, {columns}, npi FROM temp.h WHERE {where} ORDER BY {order_by} LIMIT :limit"
    return sql, params


def matched_plans(query: SearchQuery) -> Statement:
    """Create `mp`: the plan entries that match at the matching locations, once per provider (the
    plan facets count these)."""
    params: dict = {}
    conditions = ["1"]
    for i, flt in enumerate(filters.at(filters.PLAN)):
        if filters.is_set(query, flt):
            marks = placeholders(f"fp{i}_", filters.values(query, flt), params)
            conditions.append(f"lp.{flt.field} IN ({marks})")
    columns = ", ".join(f"lp.{f.field} AS {f.field}" for f in filters.at(filters.PLAN))
    sql = (
        f"CREATE TEMP TABLE mp AS SELECT DISTINCT m.pid AS pid, {columns}"
        " FROM temp.m m CROSS JOIN location_plans lp ON lp.location_id = m.lid"
        f" WHERE {' AND '.join(conditions)}"
    )
    return sql, params


def term_facets(terms: list[str]) -> Statement:
    """Counts of providers found per (term, value), for list-valued provider fields: one pass over
    their terms, which sit together under each provider's key."""
    marks = ", ".join(f"'{term}'" for term in terms)
    sql = (
        "SELECT pt.field, pt.value, COUNT(*) FROM temp.h h CROSS JOIN provider_terms pt"
        f" ON pt.provider_id = h.pid AND pt.field IN ({marks}) GROUP BY pt.field, pt.value"
    )
    return sql, {}


def facet(flt: filters.Filter) -> Statement:
    """Counts of providers found per value of one single-valued field, at its grain."""
    if flt.grain == filters.PROVIDER:
        sql = f"SELECT {_column(flt)}, COUNT(*) FROM temp.h GROUP BY {flt.field}"
    elif flt.grain == filters.LOCATION:
        sql = f"SELECT {_column(flt)}, COUNT(DISTINCT pid) FROM temp.m GROUP BY {flt.field}"
    else:
        sql = f"SELECT {flt.field}, COUNT(DISTINCT pid) FROM temp.mp GROUP BY {flt.field}"
    return sql, {}
