"""Great-circle distances and bounding boxes, computed the same way by both engines.

Distances are haversine on a sphere of the IUGG mean Earth radius, the model Elasticsearch's `arc`
distance uses. Against the WGS-84 ellipsoid (geopy's geodesic) it differs by under 0.5%.
"""

import math

from geopy.distance import great_circle

EARTH_RADIUS_METERS = 6371008.7714
METERS_PER_MILE = 1609.344
EARTH_RADIUS_MILES = EARTH_RADIUS_METERS / METERS_PER_MILE
# Padding on bounding boxes so the coarse (float32) R*Tree never trims a point inside the radius.
BOX_PAD_DEGREES = 1e-3


def great_circle_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles between two points given in degrees (geopy)."""
    return great_circle((lat1, lon1), (lat2, lon2), radius=EARTH_RADIUS_METERS / 1000).miles


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """The point on the unit sphere: the dot product of two is the cosine of their angle."""
    phi, lmb = math.radians(lat), math.radians(lon)
    return math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi)


def bounding_box(lat: float, lon: float, radius_miles: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing every point within the radius."""
    angular = radius_miles / EARTH_RADIUS_MILES
    dlat = math.degrees(angular)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90 or max_lat >= 90 or angular >= math.pi / 2:
        return -90.0, 90.0, -180.0, 180.0
    ratio = math.sin(angular) / math.cos(math.radians(lat))
    dlon = 180.0 if ratio >= 1 else math.degrees(math.asin(ratio))
    pad = BOX_PAD_DEGREES
    return min_lat - pad, max_lat + pad, max(-180.0, lon - dlon - pad), min(180.0, lon + dlon + pad)
