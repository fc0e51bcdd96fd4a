"""ZIP codes as real files write them -> a 5-digit ZIP and the optional ZIP+4 add-on."""

import re
from dataclasses import dataclass
from functools import lru_cache

# What a search box or an API parameter takes: a ZIP or ZIP+4 as people type it.
ZIP_PATTERN = re.compile(r"^[0-9]{5}(-[0-9]{4})?$")
ZIP5 = re.compile(r"^[0-9]{5}$")
# Spreadsheets turn a ZIP into a number: leading zeros go, and some add a decimal part.
_SPREADSHEET_DECIMAL = re.compile(r"^(\d+)\.0+$")
_DASHED = re.compile(r"^(\d{3,5})\s*-\s*(\d{4})$")


@dataclass(frozen=True)
class Zip:
    five: str
    plus4: str | None = None
    # Leading zeros were put back (the file had fewer digits): the guess may be wrong.
    padded: bool = False

    def __str__(self) -> str:
        return f"{self.five}-{self.plus4}" if self.plus4 else self.five


@lru_cache(maxsize=65536)  # a roster repeats its ZIP codes on every row of a location
def parse_zip(value: str) -> Zip | None:
    """A ZIP or ZIP+4 in any of the shapes real files use, or None when it is not one.

    `90012`, `90012-1234`, `90012 - 1234`, nine digits with no dash (NPPES, CMS), and ZIPs whose
    leading zeros a spreadsheet dropped (`6473` -> 06473, `602` -> 00602, 7 or 8 digits -> ZIP+4).
    """
    text = value.strip()
    if match := _SPREADSHEET_DECIMAL.match(text):
        text = match[1]
    if match := _DASHED.match(text):
        five, plus4, padded = match[1].zfill(5), match[2], len(match[1]) < 5
    elif text.isdigit() and 3 <= len(text) <= 5:
        five, plus4, padded = text.zfill(5), None, len(text) < 5
    elif text.isdigit() and 7 <= len(text) <= 9:
        nine = text.zfill(9)
        five, plus4, padded = nine[:5], nine[5:], len(text) < 9
    else:
        return None
    if five == "00000":
        return None
    return Zip(five, None if plus4 in (None, "0000") else plus4, padded)
