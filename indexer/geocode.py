"""ZIP code centroids offline (data in the zipcodes wheel); street addresses if configured."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import zipcodes
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import get_geocoder_for_service


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


@cache
def _cities() -> dict[tuple[str, str], list[tuple[float, float]]]:
    found: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for place in zipcodes.list_all():
        if place["lat"] and place["long"]:
            key = (" ".join(place["city"].upper().split()), place["state"])
            found.setdefault(key, []).append((float(place["lat"]), float(place["long"])))
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


Locate = Callable[[str], tuple[float, float] | None]


def street_geocoder(service: str | None, **options) -> Locate | None:
    """A geopy geocoder for street addresses, when one is configured (never needed offline).

    `service` is a geopy service name such as "nominatim"; options go to its constructor
    (user_agent, domain, api_key…). Calls are rate-limited; a failed look-up returns None and the
    ZIP centroid is used instead.
    """
    if not service:
        return None
    geocoder = get_geocoder_for_service(service)(**options)
    lookup = RateLimiter(
        geocoder.geocode,
        min_delay_seconds=1.0,
        max_retries=2,
        swallow_exceptions=True,
        return_value_on_exception=None,
    )

    def locate(address: str) -> tuple[float, float] | None:
        found = lookup(address)
        return (found.latitude, found.longitude) if found else None

    return locate
