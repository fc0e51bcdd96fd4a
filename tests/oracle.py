"""Brute-force answers computed straight from the provider documents, to check the engines against.

Distances come from geopy, not from the project's own geometry code.
"""

from collections import Counter

from geopy.distance import geodesic, great_circle
from rapidfuzz.distance import OSA

from app.search.geo import EARTH_RADIUS_METERS
from app.search.query import SearchQuery, plan_matches
from app.vocab.text import max_edits

EARTH_RADIUS_KM = EARTH_RADIUS_METERS / 1000


def sphere_miles(lat1, lon1, lat2, lon2) -> float:
    return great_circle((lat1, lon1), (lat2, lon2), radius=EARTH_RADIUS_KM).miles


def geodesic_miles(lat1, lon1, lat2, lon2) -> float:
    return geodesic((lat1, lon1), (lat2, lon2)).miles


# Opening hours as the fixture roster writes them, read with plain code: "Mon-Fri 8:00-17:00; Sat
# 9:00-13:00", "Mon, Wed, Fri 9:00-17:00", "Daily 9:00-21:00", "Open 24 hours", "24/7". Any other
# form raises, so that a roster that grows one fails here rather than being misread.
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ROUND_THE_CLOCK = ("Open 24 hours", "24/7")
EVENING_AFTER, EARLY_BEFORE = 18 * 60, 8 * 60


def open_times(hours: str | None) -> set[str]:
    """Days open (`mon`..`sun`), `evening` (open after 18:00) and `early` (open before 8:00)."""
    if not hours:
        return set()
    if hours in ROUND_THE_CLOCK:
        return {d.lower() for d in DAYS} | {"evening", "early"}
    found = set()
    for part in hours.split("; "):
        days_text, times = part.rsplit(" ", 1)
        opens, closes = times.split("-")
        start = int(opens.split(":")[0]) * 60 + int(opens.split(":")[1])
        end = int(closes.split(":")[0]) * 60 + int(closes.split(":")[1])
        for item in days_text.split(", "):
            if item == "Daily":
                days = DAYS
            elif "-" in item:
                first, last = item.split("-")
                days = DAYS[DAYS.index(first) : DAYS.index(last) + 1]
            else:
                days = (DAYS[DAYS.index(item)],)
            found |= {d.lower() for d in days}
        if end > EVENING_AFTER:
            found.add("evening")
        if start < EARLY_BEFORE:
            found.add("early")
    return found


def location_matches(loc: dict, q: SearchQuery, distance=sphere_miles, radius_scale=1.0) -> bool:
    if q.geo is not None:
        miles = distance(q.geo.lat, q.geo.lon, loc["lat"], loc["lon"])
        if miles > q.geo.radius_miles * radius_scale:
            return False
    if q.has_plan_filter and not any(plan_matches(p, q) for p in loc["plans"]):
        return False
    if q.telehealth is not None and loc["telehealth"] != q.telehealth:
        return False
    if q.cities and loc["city"] not in q.cities:
        return False
    if q.zips and loc["zip"] not in q.zips:
        return False
    if q.open_times and not open_times(loc["hours"]) & set(q.open_times):
        return False
    return all(code in loc["accessibility"] for code in q.accessibility)


def text_matches(doc: dict, words: tuple[str, ...]) -> bool:
    vocabulary = doc["search_text"].split()
    return all(any(OSA.distance(w, t) <= max_edits(w) for t in vocabulary) for w in words)


def provider_matches(doc: dict, q: SearchQuery) -> bool:
    checks = [
        not q.npi or doc["npi"] == q.npi,
        not q.entity_types or doc["entity_type"] in q.entity_types,
        not q.specialties or bool(set(doc["specialty_codes"]) & set(q.specialties)),
        q.pcp is None or doc["pcp"] == q.pcp,
        not q.languages or bool(set(doc["languages"]) & set(q.languages)),
        not q.genders or doc["gender"] in q.genders,
        q.age is None or doc["age_min"] <= q.age <= doc["age_max"],
        not q.groups or doc["medical_group"] in q.groups,
        not q.hospitals or bool(set(doc["hospital_affiliations"]) & set(q.hospitals)),
    ]
    return all(checks) and (not q.text or text_matches(doc, q.text))


def search(docs: list[dict], q: SearchQuery, **location_kwargs) -> dict[str, list[int]]:
    """NPI -> indexes of the matching locations, for every provider the query should return."""
    found = {}
    for doc in docs:
        if not provider_matches(doc, q):
            continue
        indexes = [
            i
            for i, loc in enumerate(doc["locations"])
            if location_matches(loc, q, **location_kwargs)
        ]
        if indexes:
            found[doc["npi"]] = indexes
    return found


def nearest_miles(doc: dict, indexes: list[int], q: SearchQuery) -> float:
    return min(
        sphere_miles(q.geo.lat, q.geo.lon, doc["locations"][i]["lat"], doc["locations"][i]["lon"])
        for i in indexes
    )


def facets(docs: list[dict], q: SearchQuery) -> dict[str, dict[str, int]]:
    by_npi = {d["npi"]: d for d in docs}
    found = search(docs, q)
    counts: dict[str, Counter] = {name: Counter() for name in q.facets}
    for npi, indexes in found.items():
        doc = by_npi[npi]
        counts["specialty"].update(set(doc["specialty_codes"]))
        counts["language"].update(set(doc["languages"]))
        if doc["gender"]:
            counts["gender"][doc["gender"]] += 1
        locations = [doc["locations"][i] for i in indexes]
        counts["city"].update({loc["city"] for loc in locations})
        entries = [p for loc in locations for p in loc["plans"] if plan_matches(p, q)]
        counts["plan"].update({p["plan"] for p in entries})
        counts["line_of_business"].update({p["line_of_business"] for p in entries})
        counts["accepting_new_patients"].update({p["accepting"] for p in entries})
    return {name: dict(c) for name, c in counts.items() if name in q.facets}


# The documented relevance score (README "Ranking"), restated: weights as the README gives them.
EXACT_NAME, NAME_PREFIX, EXACT_TEXT, ONE_TYPO, FUZZY = 8.0, 4.0, 2.0, 1.5, 1.0
PRIMARY_SPECIALTY, SPECIALIST, ACCEPTING, NEARNESS, DECAY_MILES = 3.0, 1.0, 2.0, 4.0, 10.0


def relevance(doc: dict, indexes: list[int], q: SearchQuery) -> float:
    """A found provider's score for sort=relevance."""
    names = doc["name_text"].split()
    words = doc["search_text"].split()
    score = 0.0
    for w in q.text:
        if w in names:
            score += EXACT_NAME
        elif len(w) >= 3 and any(n.startswith(w) for n in names):
            score += NAME_PREFIX
        elif w in words:
            score += EXACT_TEXT
        elif max_edits(w) == 2 and any(OSA.distance(w, t) <= 1 for t in words):
            score += ONE_TYPO
        else:
            score += FUZZY
    primary = doc["specialty_codes"][0] if doc["specialty_codes"] else None
    if q.specialties and primary in q.specialties:
        score += PRIMARY_SPECIALTY
    if primary in q.preferred_specialties:
        score += SPECIALIST
    if (q.plans or q.lines_of_business) and not q.accepting:
        plans = [p for i in indexes for p in doc["locations"][i]["plans"] if plan_matches(p, q)]
        if any(p["accepting"] == "accepting" for p in plans):
            score += ACCEPTING
    if q.geo is not None:
        score += NEARNESS * 0.5 ** (nearest_miles(doc, indexes, q) / DECAY_MILES)
    return score
