"""Canonical record -> record with coordinates and city (offline ZIP centroids)."""

from indexer.geocode import Locate, zip_place
from indexer.records import RowError


def enrich(record: dict, locate: Locate | None = None) -> list[RowError]:
    """Fill coordinates and city where the roster left them out: from the street address when a
    geocoder is configured and finds it, else from the ZIP code's centroid.

    Returns the errors that make the record unusable (a ZIP code that does not exist).
    """
    place = zip_place(record["zip"])
    if place is None:
        return [RowError(record["line"], "zip", record["zip"], "unknown ZIP code")]
    if record.get("latitude") is None:
        found = None
        if locate is not None and record.get("address"):
            city = record.get("city") or place.city
            found = locate(f"{record['address']}, {city}, {record['state']} {record['zip']}")
        if found is not None:
            (record["latitude"], record["longitude"]), record["geo_source"] = found, "geocoder"
        else:
            record["latitude"], record["longitude"] = place.lat, place.lon
            record["geo_source"] = "zip"
    else:
        record["geo_source"] = "roster"
    if not record.get("city"):
        record["city"] = place.city
    return []
