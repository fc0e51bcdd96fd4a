"""Places without a network: ZIP code and city centroids (USPS data in the `zipcodes` wheel), and
the `near` a visitor or a member file gives (a ZIP code or `lat,lon`)."""

import re
from dataclasses import dataclass
from functools import cache

import zipcodes
from marshmallow import ValidationError

from app.vocab.zips import ZIP_PATTERN

LAT_LON = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*,\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$")
# Every `near` parse_near takes, as one regular expression for the API's documents: a ZIP code
# (ZIP+4 read as its ZIP), or a latitude from -90 to 90 and a longitude from -180 to 180.
_LATITUDE = r"-?0*(?:90(?:\.0+)?|[1-8]?[0-9](?:\.[0-9]+)?)"
_LONGITUDE = r"-?0*(?:180(?:\.0+)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]+)?)"
NEAR_PATTERN = re.compile(rf"^\s*(?:[0-9]{{5}}(?:-[0-9]{{4}})?|{_LATITUDE}\s*,\s*{_LONGITUDE})\s*$")


@dataclass(frozen=True)
class ZipPlace:
    zip: str
    city: str
    state: str
    lat: float | None  # None: the ZIP exists but has no known centre (a PO box, an APO)
    lon: float | None


def _centre(place: dict) -> tuple[float | None, float | None]:
    """A ZIP's listed centre; some (PO boxes, military ZIPs) are listed at "0","0": no centre,
    not the equator."""
    lat, lon = float(place["lat"] or 0), float(place["long"] or 0)
    return (lat, lon) if lat and lon else (None, None)


@cache
def _zips() -> dict[str, ZipPlace]:
    """Every ZIP code, read once per process (the package's own look-up scans its whole list)."""
    return {
        place["zip_code"]: ZipPlace(
            zip=place["zip_code"],
            city=place["city"],
            state=place["state"],
            lat=_centre(place)[0],
            lon=_centre(place)[1],
        )
        for place in zipcodes.list_all()
    }


def zip_place(zip_code: str) -> ZipPlace | None:
    """Centroid, city and state of a 5-digit ZIP code, or None when the ZIP does not exist (a
    ZIP without a known centre has lat and lon None)."""
    return _zips().get(zip_code[:5])


@cache
def _cities() -> dict[tuple[str, str], list[tuple[float, float]]]:
    found: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for place in _zips().values():
        if place.lat is None:
            continue
        key = (" ".join(place.city.upper().split()), place.state)
        found.setdefault(key, []).append((place.lat, place.lon))
    return found


@cache
def city_place(city: str, state: str) -> ZipPlace | None:
    """The centre of a city's ZIP codes, for an address whose own ZIP code is not known (a new
    or a unique ZIP); None when the city is not known in that state either."""
    points = _cities().get((" ".join(city.upper().split()), state.upper()))
    if not points:
        return None
    lat = sum(p[0] for p in points) / len(points)
    lon = sum(p[1] for p in points) / len(points)
    return ZipPlace(zip="", city=city, state=state.upper(), lat=round(lat, 6), lon=round(lon, 6))


def parse_near(value: str, field: str = "near") -> tuple[float, float]:
    """A ZIP code (its centroid) or 'lat,lon' -> (lat, lon); errors name `field`."""
    value = value.strip()
    if ZIP_PATTERN.match(value):
        place = zip_place(value)
        if place is None or place.lat is None:
            raise ValidationError(f"unknown ZIP code {value}", field)
        return place.lat, place.lon
    match = LAT_LON.match(value)
    if not match:
        raise ValidationError("expected a 5-digit ZIP code or lat,lon", field)
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError("latitude must be within ±90 and longitude within ±180", field)
    return lat, lon
