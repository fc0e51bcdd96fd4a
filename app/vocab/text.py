"""The one tokenizer both engines index and query with, so that they match the same words."""

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")

# Words that carry nothing in a search box ("Dr. Nguyen", "a doctor near me").
QUERY_STOPWORDS = frozenset(
    {
        "dr",
        "dra",
        "the",
        "a",
        "an",
        "of",
        "and",
        "near",
        "me",
        "de",
        "del",
        "la",
        "el",
        "los",
        "las",
        "para",
        "y",
        "md",
    }
)

MAX_QUERY_TOKENS = 12


def fold(text: str) -> str:
    """Lowercase and strip accents: 'Núñez' -> 'nunez'."""
    if text.isascii():  # nothing to decompose (most names and words)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def tokens(text: str) -> list[str]:
    """Words of a text, folded, split on anything that is not a letter or digit."""
    return [t for t in _NON_WORD.split(fold(text)) if t]


def query_tokens(text: str) -> list[str]:
    """Words of a search box entry worth matching, in order, without repeats."""
    seen: list[str] = []
    for token in tokens(text):
        if token not in QUERY_STOPWORDS and token not in seen:
            seen.append(token)
    return seen[:MAX_QUERY_TOKENS]


def compact(text: str) -> str:
    """A text's words run together: 'GP-91506-T' -> 'gp91506t', 'De la Cruz' -> 'delacruz'."""
    return "".join(tokens(text))


def has_digit(token: str) -> bool:
    """Numbers and codes (phones, IDs, NPIs) are matched exactly: one digit off is another one."""
    return any(c.isdigit() for c in token)


def max_edits(token: str) -> int:
    """Typos tolerated in a query word: none up to 2 letters, one up to 5, two beyond; none in a
    word with a digit."""
    if len(token) <= 2 or has_digit(token):
        return 0
    if len(token) <= 5:
        return 1
    return 2
