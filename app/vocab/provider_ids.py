"""Plan provider IDs as plans write them (`GP-91506-T`, `SNRC8360852`, `BW-1234-5678`) and as
people type them (any case, with or without the dashes): one word, `gp91506t`, to find them by."""

import re

from app.vocab.text import compact

# A code: letters and digits, maybe in parts joined by dashes, dots or slashes.
_CODE = re.compile(r"(?<![\w\-./])[A-Za-z0-9]+(?:[-./][A-Za-z0-9]+)*(?!\w|[-./]\w)")
MIN_LETTERS = 1
MIN_DIGITS = 3  # "covid-19", "b12" and "2nd" are words, not IDs
MIN_LENGTH = 5


def provider_id_word(value: str) -> str:
    """The one word a plan provider ID is indexed and searched as: `GP-91506-T` -> `gp91506t`."""
    return compact(value)


def looks_like_provider_id(word: str) -> bool:
    """A run of letters and digits shaped like a plan provider ID (not a number, not a word)."""
    digits = sum(c.isdigit() for c in word)
    return (
        len(word) >= MIN_LENGTH
        and digits >= MIN_DIGITS
        and len(word) - digits >= MIN_LETTERS
        and word.isalnum()
    )


def find_provider_ids(text: str) -> list[tuple[int, int, str]]:
    """Plan provider IDs written in a text: (start, end, the word to search) for each."""
    found = []
    for match in _CODE.finditer(text):
        word = provider_id_word(match[0])
        if looks_like_provider_id(word):
            found.append((match.start(), match.end(), word))
    return found
