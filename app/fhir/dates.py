"""FHIR dates as ranges: a search value or an element's date stands for every second it covers."""

import calendar
import re
from datetime import UTC, datetime, timedelta

# year, year-month, date, or dateTime with optional seconds, fraction and zone.
DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
FORMAT = "%Y-%m-%dT%H:%M:%S"

# How each prefix compares a resource's range [low, high] with the value's [vlow, vhigh]
# (inclusive bounds, one-second precision).
CONDITIONS = {
    "eq": "(low >= :vlow AND high <= :vhigh)",
    "ne": "NOT (low >= :vlow AND high <= :vhigh)",
    "gt": "high > :vhigh",
    "lt": "low < :vlow",
    "ge": "high >= :vlow",
    "le": "low <= :vhigh",
    "sa": "low > :vhigh",
    "eb": "high < :vlow",
    "ap": "(low <= :vhigh AND high >= :vlow)",
}


def parse_range(value: str) -> tuple[str, str]:
    """(first second, last second) in UTC of a FHIR date/dateTime/instant; ValueError if not one."""
    match = DATE.match(value.strip())
    if not match:
        raise ValueError(f"'{value}' is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)")
    year, month, day, hour, minute, second, zone = match.groups()
    y = int(year)
    if month is None:
        start, end = datetime(y, 1, 1), datetime(y, 12, 31, 23, 59, 59)
    elif day is None:
        m = int(month)
        last = calendar.monthrange(y, m)[1]
        start, end = datetime(y, m, 1), datetime(y, m, last, 23, 59, 59)
    elif hour is None:
        start = datetime(y, int(month), int(day))
        end = start + timedelta(hours=23, minutes=59, seconds=59)
    else:
        start = datetime(y, int(month), int(day), int(hour), int(minute), int(second or 0))
        end = start + (timedelta(seconds=59) if second is None else timedelta(0))
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
            start, end = start - sign * offset, end - sign * offset
    return start.strftime(FORMAT), end.strftime(FORMAT)


def split_prefix(value: str) -> tuple[str, str]:
    """('ge', '2026-01-01') of 'ge2026-01-01'; 'eq' when no prefix is written."""
    if value[:2] in PREFIXES and not value[:2].isdigit():
        return value[:2], value[2:]
    return "eq", value


def http_date(instant: str) -> str:
    """An RFC 7231 date (Last-Modified) of an instant key or FHIR instant."""
    low, _high = parse_range(instant)
    moment = datetime.strptime(low, FORMAT).replace(tzinfo=UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
