"""Canonical record -> record with coordinates and city (offline ZIP centroids)."""

from indexer.geocode import zip_place
from indexer.records import RowError


def enrich(record: dict) -> list[RowError]:
    """Fill coordinates, city and state from the ZIP code where the roster left them out.

    Returns the errors that make the record unusable (an unknown ZIP with no coordinates).
    """
    place = zip_place(record["zip"])
    if record.get("latitude") is None:
        if place is None:
            return [
                RowError(record["line"], "zip", record["zip"], "unknown ZIP code and no lat/lon")
            ]
        record["latitude"], record["longitude"] = place.lat, place.lon
        record["geo_source"] = "zip"
    else:
        record["geo_source"] = "roster"
    if place is not None:
        record.setdefault("city", place.city)
        if not record.get("city"):
            record["city"] = place.city
    record.setdefault("city", "")
    return []
