"""Other forms of a name people search by: Bob for Robert and back, Liz for Elizabeth, Lupe for
Guadalupe, Chuy for Jesús (English forms from the `nicknames` package, a hand-curated list; Spanish
short forms from `data/nicknames_es.csv`, our own); compound names run together ("delacruz",
"garcialopez"); initials ("J" for John)."""

import csv
from functools import cache
from importlib import resources

from nicknames import NickNamer

from app.vocab.text import fold, tokens

MIN_FORM_LETTERS = 3
# Longer names (rare) are not run together: the forms would grow with the square of the words.
MAX_JOINED_WORDS = 5


@cache
def _namer() -> NickNamer:
    return NickNamer()


@cache
def _spanish() -> dict[str, frozenset[str]]:
    forms: dict[str, set[str]] = {}
    path = resources.files("app.vocab").joinpath("data/nicknames_es.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            group = {row["name"], *row["short_forms"].split("|")}
            for name in group:
                forms.setdefault(name, set()).update(group - {name})
    return {name: frozenset(other) for name, other in forms.items()}


@cache
def other_forms(first_name: str) -> tuple[str, ...]:
    """The nicknames and full forms of a first name (folded), itself excluded."""
    name = fold(first_name).strip()
    if not name:
        return ()
    namer = _namer()
    found = set(namer.nicknames_of(name)) | set(namer.canonicals_of(name))
    found |= _spanish().get(name, frozenset())
    return tuple(sorted(f for f in found if len(f) >= MIN_FORM_LETTERS and f != name))


def joined_forms(name: str | None) -> list[str]:
    """Each run of two or more adjacent words of a name written as one: "De la Cruz" -> "dela",
    "delacruz", "lacruz"; "García-López" -> "garcialopez" (people type compound names both ways)."""
    words = tokens(name or "")
    if len(words) > MAX_JOINED_WORDS:
        return []
    return ["".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, len(words) + 1)]


def initials(name: str | None) -> list[str]:
    """The first letter of each word of a name: "John Quincy" -> "j", "q" ("J. Smith")."""
    return [w[0] for w in tokens(name or "") if w[0].isalpha()]
