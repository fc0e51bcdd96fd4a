"""Great-circle distances and bounding boxes, computed the same way by both engines.

Distances are haversine on a sphere of the IUGG mean Earth radius, the model Elasticsearch's `arc`
distance uses. Against the WGS-84 ellipsoid (geopy's geodesic) it differs by under 0.5%.
"""

import math

import numpy as np

EARTH_RADIUS_METERS = 6371008.7714
METERS_PER_MILE = 1609.344
EARTH_RADIUS_MILES = EARTH_RADIUS_METERS / METERS_PER_MILE
# Padding on bounding boxes so the coarse (float32) R*Tree never trims a point inside the radius.
BOX_PAD_DEGREES = 1e-3


def great_circle_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles between two points given in degrees (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlmb = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlmb) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(min(1.0, a)))


def great_circle_miles_to_many(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray):
    """The same distance from one point to many (arrays of degrees)."""
    phi1, phi2 = np.radians(lat), np.radians(lats)
    half_dphi = (phi2 - phi1) / 2
    half_dlmb = np.radians(lons - lon) / 2
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlmb) ** 2
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


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
