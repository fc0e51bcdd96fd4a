"""The words people type for what they need, in English and Spanish (`data/consumer_terms.csv`):
specialties, symptoms and conditions (with the reason shown to them), languages, gender, kinds of
provider, primary care, accepting new patients, video visits, lines of business and the times a
location is open ("open saturday", "fines de semana", "open evenings")."""

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from app.vocab.text import tokens

# The search parameter each kind of phrase becomes.
PARAMETERS = {
    "specialty": "specialty",
    "condition": "specialty",
    "language": "language",
    "gender": "gender",
    "type": "type",
    "pcp": "pcp",
    "accepting": "accepting_new_patients",
    "telehealth": "telehealth",
    "line_of_business": "line_of_business",
    "open": "open",
}
MAX_PHRASE_WORDS = 5


@dataclass(frozen=True)
class Term:
    """One phrase of the vocabulary and what it means."""

    phrase: str
    lang: str
    kind: str
    values: tuple[str, ...]
    reason_en: str = ""
    reason_es: str = ""

    @property
    def parameter(self) -> str:
        return PARAMETERS[self.kind]


@cache
def terms() -> dict[tuple[str, ...], Term]:
    """Every phrase by its words (folded: lower case, no accents); English first on a tie."""
    table: dict[tuple[str, ...], Term] = {}
    path = resources.files("app.vocab").joinpath("data/consumer_terms.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["lang"] != "en")
    for row in rows:
        key = tuple(tokens(row["phrase"]))
        if not key or len(key) > MAX_PHRASE_WORDS:
            continue
        table.setdefault(
            key,
            Term(
                phrase=row["phrase"],
                lang=row["lang"],
                kind=row["kind"],
                values=tuple(v for v in row["value"].split("|") if v),
                reason_en=row["reason_en"],
                reason_es=row["reason_es"],
            ),
        )
    return table


@cache
def single_words() -> tuple[str, ...]:
    """The one-word phrases, for typo-tolerant reading of long words."""
    return tuple(key[0] for key in terms() if len(key) == 1)
