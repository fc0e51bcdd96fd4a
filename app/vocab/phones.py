"""US phone numbers as rosters write them -> `(213) 555-0100` and an extension of its own."""

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

# `2.12689E+12`: a spreadsheet stored the number as a float and dropped digits.
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")
_SPREADSHEET_DECIMAL = re.compile(r"^(\d{10,11})\.0+$")


class PhoneError(ValueError):
    """The text is not a usable US phone number; the message says why."""


@dataclass(frozen=True)
class Phone:
    number: str
    extension: str | None = None

    def __str__(self) -> str:
        return f"{self.number} ext. {self.extension}" if self.extension else self.number


@lru_cache(maxsize=65536)  # a location's phone repeats on each of its plan rows
def parse_phone(value: str) -> Phone:
    """A US (NANP) phone number with its extension, or PhoneError saying what is wrong."""
    text = value.strip()
    if _SCIENTIFIC.match(text):
        raise PhoneError("a spreadsheet turned this phone number into a float and lost digits")
    if match := _SPREADSHEET_DECIMAL.match(text):
        text = match[1]
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException as exc:
        raise PhoneError("not a phone number") from exc
    if parsed.country_code != 1 or len(str(parsed.national_number)) != 10:
        raise PhoneError("a US phone number has 10 digits")
    national = str(parsed.national_number)
    if national[0] in "01" or national[3] in "01":
        raise PhoneError("not a valid US area code and exchange")
    number = f"({national[:3]}) {national[3:6]}-{national[6:]}"
    return Phone(number, parsed.extension or None)


# A US number as people type it: "(562) 555-0196", "562-555-0196", "562.555.0196", "5625550196",
# "+1 562 555 0196", "1-562-555-0196". Not inside a longer run of digits or letters.
_TYPED_PHONE = re.compile(
    r"(?<![\w+])(?:\+?1[\s.-]*)?(?:\(\d{3}\)|\d{3})[\s.-]*\d{3}[\s.-]*\d{4}(?!\w)"
)


def phone_digits(value: str) -> str | None:
    """The 10 digits of a US phone number (`5625550196`), or None when it is not one."""
    try:
        number = parse_phone(value).number
    except PhoneError:
        return None
    return re.sub(r"\D", "", number)


def find_phones(text: str) -> list[tuple[int, int, str]]:
    """Phone numbers written in a text: (start, end, their 10 digits) for each."""
    found = []
    for match in _TYPED_PHONE.finditer(text):
        digits = phone_digits(match[0])
        if digits is not None:
            found.append((match.start(), match.end(), digits))
    return found
