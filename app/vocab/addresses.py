"""Street addresses compared as the Postal Service writes them: `115 Mall Drive, Suite 2` and
`115 MALL DR STE 2` are one place.

Each word is put in its USPS Publication 28 form with the abbreviation tables `usaddress-scourgify`
carries (street types, directionals, secondary unit designators). Word by word rather than through
the library's full parser: one provider's two spellings of one address differ in these words, not
in their order, and the full parse costs about half a millisecond an address, more than the rest of
a roster row's checks together.
"""

import hashlib
import re
from functools import lru_cache

from scourgify.address_constants import (
    DIRECTIONAL_REPLACEMENTS,
    OCCUPANCY_TYPE_ABBREVIATIONS,
    STREET_TYPE_ABBREVIATIONS,
)

_WORDS = re.compile(r"[A-Z0-9]+|#")
# `#2B`, `Ste 2B` and `Suite 2B` name one suite.
UNIT_MARK = "#"
_STANDARD = {
    **STREET_TYPE_ABBREVIATIONS,
    **DIRECTIONAL_REPLACEMENTS,
    **OCCUPANCY_TYPE_ABBREVIATIONS,
    "STE": UNIT_MARK,
    "SUITE": UNIT_MARK,
}


@lru_cache(maxsize=65536)
def standard_street(line1: str, line2: str = "") -> str:
    """The street lines in USPS standard form, upper case, punctuation and spacing folded."""
    words = _WORDS.findall(f"{line1} {line2}".upper())
    return " ".join(_STANDARD.get(word, word) for word in words)


@lru_cache(maxsize=65536)
def place_key(street: str, zip5: str) -> str:
    """A short stable key for a street address in a ZIP code: equal for two spellings of one
    place, so records of one provider at that place become one location."""
    digest = hashlib.sha1(f"{zip5}|{standard_street(street)}".encode()).hexdigest()
    return digest[:12]
