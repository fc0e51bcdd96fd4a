"""Other forms of a first name people search by: Bob for Robert and back, Liz for Elizabeth, Lupe
for Guadalupe, Chuy for Jesús. English forms from the `nicknames` package (a hand-curated list);
Spanish short forms from `data/nicknames_es.csv`, our own."""

import csv
from functools import cache
from importlib import resources

from nicknames import NickNamer

from app.vocab.text import fold

MIN_FORM_LETTERS = 3


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
