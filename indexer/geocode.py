"""Street addresses -> coordinates, when a geopy geocoder is configured (never needed offline)."""

from collections.abc import Callable

from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import get_geocoder_for_service

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
