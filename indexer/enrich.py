"""Canonical record -> record placed on the map, with city and state (offline ZIP centroids)."""

from app.vocab.places import ZipPlace, city_place, zip_place
from indexer.geocode import Locate
from indexer.records import ERROR, WARNING, RowError


def _place(record: dict, padded: bool) -> tuple[ZipPlace | None, str | None, bool]:
    """Where the ZIP code puts the record: (place, problem, whether the problem is fatal without
    coordinates)."""
    if not record["zip"]:
        return None, None, False
    place = zip_place(record["zip"])
    state = record.get("state")
    if place is None or (place.lat is None and not (state and state != place.state)):
        # A unique or new ZIP the data does not have, or one without a centre (a PO box): the
        # city's centre is near enough.
        what = "unknown ZIP code" if place is None else "ZIP code without a known centre"
        near = city_place(record["city"], state) if record.get("city") and state else None
        if near is not None:
            return near, f"{what}; placed at the centre of {near.city}, {near.state}", False
        return None, what, True
    if state and state != place.state:
        reason = f"ZIP code {record['zip']} is in {place.state}, not {state}"
        if padded:
            # Zeros put back in front of a short ZIP can land it in another state: a wrong
            # place is worse than none.
            return None, reason, True
        if place.lat is None:
            return None, f"{reason}, which has no known centre", True
        return place, f"{reason}; placed by the ZIP code", False
    return place, None, False


def enrich(record: dict, locate: Locate | None = None) -> list[RowError]:
    """Fill coordinates, city and state where the roster left them out: coordinates from the street
    address when a geocoder is configured and finds it, else from the ZIP code's centroid (or its
    city's, for a ZIP code the offline data does not have).

    Returns the row's problems: an error when nothing places it (a ZIP code that does not exist in
    a city we know either, or a short ZIP that padded with zeros lands in another state, and no
    coordinates), else warnings for what was doubtful.
    """
    line, has_coordinates = record["line"], record.get("latitude") is not None
    place, problem, fatal = _place(record, padded=record.pop("zip_padded", False))
    if problem and fatal and not has_coordinates:
        return [RowError(line, "zip", record["zip"], problem, ERROR)]
    problems = []
    if problem:
        if fatal:
            place, problem = None, f"{problem}; placed by the row's coordinates"
        problems.append(RowError(line, "zip", record["zip"], problem, WARNING))
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
            record["geo_source"] = "zip" if place.zip else "city"
    if not record.get("city"):
        record["city"] = place.city if place else ""
    if not record.get("state"):
        record["state"] = place.state if place else ""
    return problems
