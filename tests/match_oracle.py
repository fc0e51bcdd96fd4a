"""A plain, slow re-statement of the matching rules over provider documents, for the tests."""

from app.search.geo import great_circle_miles
from app.vocab.nucc import lookup

# As the shipped rules file says, written out again by hand.
TYPES_BY_AGE = [
    (0, 17, {"pediatrics", "family", "general"}),
    (18, 64, {"family", "internal", "general", "obgyn"}),
    (65, 130, {"family", "internal", "general", "geriatrics", "obgyn"}),
]
LIMIT = {"medi-cal": 10, "commercial": 15, "covered-california": 15, "medicare-advantage": 10}
DEFAULT_CAPACITY = 2000


def allowed_types(age: int, sex: str | None) -> set[str]:
    types = next(t for low, high, t in TYPES_BY_AGE if low <= age <= high)
    if not (sex == "female" and age >= 12):
        types = types - {"obgyn"}
    return types


def remaining(plan: dict) -> int:
    capacity = plan.get("panel_capacity")
    capacity = DEFAULT_CAPACITY if capacity is None else capacity
    return capacity - (plan.get("panel_members") or 0)


def qualifying(docs, *, lat, lon, plan, lob, age, sex=None, limit=None, known=(), family=()):
    """{(npi, location_id): (distance, doc, location, plan entry)} of every qualifying offer."""
    limit = limit or LIMIT[lob]
    found = {}
    for doc in docs:
        if doc["entity_type"] != "practitioner":
            continue
        types = {lookup(c).pcp_type for c in doc["specialty_codes"] if lookup(c).pcp_type}
        if not types & allowed_types(age, sex):
            continue
        if not doc["age_min"] <= age <= doc["age_max"]:
            continue
        for location in doc["locations"]:
            for entry in location["plans"]:
                if entry["plan"] != plan or entry["line_of_business"] != lob:
                    continue
                status = entry["accepting"]
                ok = (
                    status == "accepting"
                    or (status == "existing_only" and doc["npi"] in known)
                    or (status == "existing_family" and doc["npi"] in (*known, *family))
                )
                if not ok or remaining(entry) <= 0:
                    continue
                d = great_circle_miles(lat, lon, location["lat"], location["lon"])
                if d <= limit:
                    found[(doc["npi"], location["location_id"])] = (d, doc, location, entry)
    return found


def language_ranking(found: dict, language: str, limit: float) -> list[tuple[str, str]]:
    """Expected order for a member whose only preference is one language."""

    def cost(item):
        (npi, location_id), (d, doc, location, _entry) = item
        points = 40 * max(0.0, 1 - d / limit)
        if language in doc["languages"]:
            points += 30
        elif language in location["staff_languages"]:
            points += 15
        return (round((70 - points) * 100), d, npi, location_id)

    return [key for key, _ in sorted(found.items(), key=cost)]
