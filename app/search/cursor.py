"""Opaque page cursors: the sort values of the last result, so the next page resumes after it."""

import base64
import binascii
import json
import re

# What encode writes (base64url without padding); empty means the first page.
PATTERN = re.compile(r"^[A-Za-z0-9_-]*$")


class BadCursor(ValueError):
    pass


def encode(sort: str, after: list) -> str:
    raw = json.dumps({"s": sort, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, sort: str) -> tuple:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["a"]
        cursor_sort = data["s"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("malformed cursor") from exc
    if cursor_sort != sort:
        raise BadCursor(f"this cursor belongs to sort={cursor_sort}, not sort={sort}")
    # The sort keys, then the NPI that breaks ties.
    if (
        not isinstance(after, list)
        or len(after) not in (2, 3)
        or not all(isinstance(v, int | float | str) for v in after)
        or not isinstance(after[-1], str)
    ):
        raise BadCursor("malformed cursor")
    return tuple(after)
