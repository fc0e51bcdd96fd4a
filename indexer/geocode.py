"""ZIP code centroids, offline (the zipcodes package carries the USPS data in its wheel)."""

from dataclasses import dataclass
from functools import cache

import zipcodes


@dataclass(frozen=True)
class ZipPlace:
    zip: str
    city: str
    state: str
    lat: float
    lon: float


@cache
def zip_place(zip_code: str) -> ZipPlace | None:
    """Centroid, city and state of a 5-digit ZIP code, or None when the ZIP does not exist."""
    five = zip_code[:5]
    if len(five) != 5 or not five.isdigit():
        return None
    try:
        matches = zipcodes.matching(five)
    except (ValueError, TypeError):
        return None
    if not matches:
        return None
    place = matches[0]
    return ZipPlace(
        zip=five,
        city=place["city"],
        state=place["state"],
        lat=float(place["lat"]),
        lon=float(place["long"]),
    )
