"""Street addresses compared as the Postal Service writes them: `115 Mall Drive, Suite 2` and
`115 MALL DR STE 2` are one place (USPS Publication 28 abbreviations, by usaddress-scourgify)."""

import hashlib
import re
from functools import lru_cache

from scourgify import normalize_address_record
from scourgify.exceptions import AddressNormalizationError

_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[.,#]")


@lru_cache(maxsize=65536)
def standard_street(line1: str, line2: str = "") -> str:
    """The street lines in USPS standard form, upper case; a line it cannot parse (PO boxes,
    rural routes, building names) is kept upper-cased with punctuation and spacing folded."""
    line1, line2 = line1.strip(), line2.strip()
    if not line1 and not line2:
        return ""
    try:
        # The library wants a whole address; the place stands in for city, state and ZIP,
        # which are compared apart.
        parsed = normalize_address_record(
            {
                "address_line_1": line1 or line2,
                "address_line_2": line2 if line1 else None,
                "city": "X",
                "state": "CA",
                "postal_code": "90001",
            }
        )
    except (AddressNormalizationError, ValueError, TypeError, KeyError, IndexError):
        text = f"{line1} {line2}".upper()
        return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text)).strip()
    parts = (parsed.get("address_line_1"), parsed.get("address_line_2"))
    return " ".join(p for p in parts if p)


def place_key(street: str, zip5: str) -> str:
    """A short stable key for a street address in a ZIP code: equal for two spellings of one
    place, so records of one provider at that place become one location."""
    digest = hashlib.sha1(f"{zip5}|{standard_street(street)}".encode()).hexdigest()
    return digest[:12]
