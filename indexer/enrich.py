"""Canonical record -> record placed on the map, with city and state (offline ZIP centroids)."""

from indexer.geocode import Locate, zip_place
from indexer.records import ERROR, WARNING, RowError


def enrich(record: dict, locate: Locate | None = None) -> list[RowError]:
    """Fill coordinates, city and state where the roster left them out: coordinates from the street
    address when a geocoder is configured and finds it, else from the ZIP code's centroid.

    Returns the row's problems: an error when nothing places it (a ZIP code that does not exist,
    or lies in another state than the row's, and no coordinates), a warning for such a ZIP code
    on a row that has coordinates.
    """
    line, has_coordinates = record["line"], record.get("latitude") is not None
    place = zip_place(record["zip"]) if record["zip"] else None
    problem = None
    if record["zip"] and place is None:
        problem = "unknown ZIP code"
    elif place is not None and record.get("state") and record["state"] != place.state:
        # A ZIP that lost a digit can land in another state: a wrong place is worse than none.
        problem = f"ZIP code {record['zip']} is in {place.state}, not {record['state']}"
        place = None
    if problem and not has_coordinates:
        return [RowError(line, "zip", record["zip"], problem, ERROR)]
    problems = []
    if problem:
        reason = f"{problem}; placed by the row's coordinates"
        problems.append(RowError(line, "zip", record["zip"], reason, WARNING))
    if has_coordinates:
        record["geo_source"] = "roster"
    else:
        found = None
        if locate is not None and record.get("address"):
            city = record.get("city") or place.city
            state = record.get("state") or place.state
            found = locate(f"{record['address']}, {city}, {state} {record['zip']}")
        if found is not None:
            (record["latitude"], record["longitude"]), record["geo_source"] = found, "geocoder"
        else:
            record["latitude"], record["longitude"] = place.lat, place.lon
            record["geo_source"] = "zip"
    if not record.get("city"):
        record["city"] = place.city if place else ""
    if not record.get("state"):
        record["state"] = place.state if place else ""
    return problems
