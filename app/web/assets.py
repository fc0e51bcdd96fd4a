"""Static files of the page under versioned URLs, so browsers may keep them for a year."""

import hashlib
from functools import cache
from pathlib import Path

from flask import url_for

STATIC_DIR = Path(__file__).with_name("static")
LONG_CACHE_SECONDS = 365 * 24 * 3600
SHORT_CACHE_SECONDS = 300


@cache
def version(filename: str) -> str:
    """A short hash of the file's content: a new file gets a new URL."""
    return hashlib.sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    return url_for("web.static", filename=filename, v=version(filename))


def cache_seconds(filename: str, requested_version: str | None) -> int:
    """A year for the current version's URL; a few minutes for any other."""
    try:
        current = version(filename)
    except OSError:
        return 0
    return LONG_CACHE_SECONDS if requested_version == current else SHORT_CACHE_SECONDS
