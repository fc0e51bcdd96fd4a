"""Where a ZIP code or a city is, and great-circle miles, restated without production code.

A ZIP code's centre is its centroid in the USPS data of the `zipcodes` package; a city's centre is
the mean of the centroids of its ZIP codes in that data (California only).
"""

import math
from functools import cache

import zipcodes

# IUGG mean Earth radius, the sphere Elasticsearch's arc distance uses.
EARTH_RADIUS_MILES = 6371008.7714 / 1609.344
STATE = "CA"


def miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in miles."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(min(1.0, h)))


@cache
def _california() -> dict[str, tuple[float, float, str]]:
    """ZIP code -> (lat, lon, city in lower case), for every California ZIP code with a centroid.

    A few ZIP codes (PO boxes such as 90085) carry 0,0 for "no centroid": left out, or they would
    pull their city's centre into the ocean."""
    places = (
        (z, float(z["lat"] or 0), float(z["long"] or 0)) for z in zipcodes.filter_by(state=STATE)
    )
    return {z["zip_code"]: (lat, lon, z["city"].lower()) for z, lat, lon in places if lat and lon}


def zip_centre(zip_code: str) -> tuple[float, float] | None:
    place = _california().get(zip_code)
    return None if place is None else (place[0], place[1])


@cache
def city_centre(city: str) -> tuple[float, float] | None:
    """Mean of the centroids of a California city's ZIP codes (city folded, e.g. 'long beach')."""
    points = [(lat, lon) for lat, lon, name in _california().values() if name == city]
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def centre(place: str) -> tuple[float, float]:
    """A 5-digit ZIP code's or a city's centre; a place the data does not have is an error in the
    judgments, not a provider too far away."""
    found = zip_centre(place) if place.isdigit() else city_centre(place)
    if found is None:
        raise ValueError(f"unknown place in a judging rule: {place!r}")
    return found
