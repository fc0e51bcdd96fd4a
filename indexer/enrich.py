"""Canonical record -> record with coordinates and city (offline ZIP centroids)."""

from indexer.geocode import zip_place
from indexer.records import RowError


def enrich(record: dict) -> list[RowError]:
    """Fill coordinates, city and state from the ZIP code where the roster left them out.

    Returns the errors that make the record unusable (a ZIP code that does not exist).
    """
    place = zip_place(record["zip"])
    if place is None:
        return [RowError(record["line"], "zip", record["zip"], "unknown ZIP code")]
    if record.get("latitude") is None:
        record["latitude"], record["longitude"] = place.lat, place.lon
        record["geo_source"] = "zip"
    else:
        record["geo_source"] = "roster"
    if not record.get("city"):
        record["city"] = place.city
    return []
