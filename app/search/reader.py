"""The query reader: what a person types in the search box -> the filters it means, and the words
left for text search (names, groups, offices).

"spanish speaking pediatrician near 90012" reads as language=es, specialty=Pediatrics, near=90012
with nothing left to match as text. Phrases come from the consumer vocabulary
(`app/vocab/data/consumer_terms.csv`), longest first; a long word that is one typo away from a
one-word phrase (two for words of ten letters or more) reads as that phrase, so "pediatrision"
is Pediatrics while "Dennis" (two edits from "dentist", and short) stays a name. A 5-digit ZIP code
is a place; so is a California city, when it is more than one word ("los angeles") or when the
query has read something else ("female obgyn irvine"), since a one-word city alone may be a name.
"""

from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.vocab import consumer
from app.vocab.places import city_place
from app.vocab.text import QUERY_STOPWORDS, tokens
from app.vocab.zips import ZIP_PATTERN

# Words that only join the others: never searched as text once the query has been read.
FILLER = QUERY_STOPWORDS | frozenset(
    {
        "doctor",
        "doctors",
        "physician",
        "physicians",
        "provider",
        "providers",
        "specialist",
        "medico",
        "medicos",
        "in",
        "at",
        "for",
        "with",
        "who",
        "that",
        "speaks",
        "speaking",
        "speak",
        "or",
        "my",
        "find",
        "need",
        "i",
        "busco",
        "necesito",
        "un",
        "una",
        "en",
        "cerca",
        "mi",
        "que",
        "habla",
        "hable",
        "con",
        "o",
        "around",
        "close",
        "to",
    }
)
CITY_STATE = "CA"
MAX_CITY_WORDS = 3


def typo_limit(word: str) -> int:
    """Edits a word may be from a vocabulary word and still read as it: none below 7 letters."""
    if len(word) >= 10:
        return 2
    if len(word) >= 7:
        return 1
    return 0


@dataclass(frozen=True)
class Read:
    """One recognised phrase and the filter it became."""

    text: str  # the words as typed (folded)
    kind: str
    parameter: str
    values: tuple[str, ...]
    reason_en: str = ""
    reason_es: str = ""
    phrase: str = ""  # the vocabulary phrase they were read as, when a typo was forgiven


@dataclass(frozen=True)
class Reading:
    """What a query was read as: its phrases (in order) and the words left for text search."""

    phrases: tuple[Read, ...] = ()
    words: tuple[str, ...] = field(default=())

    def values(self, parameter: str) -> tuple[str, ...]:
        """Every value read for one search parameter, in order, once."""
        found = (v for p in self.phrases if p.parameter == parameter for v in p.values)
        return tuple(dict.fromkeys(found))


def read_query(text: str) -> Reading:
    """Read a search box entry (English or Spanish, accents either way, typos)."""
    words = tokens(text)
    phrases: list[Read] = []
    left: list[str] = []
    table = consumer.terms()
    i = 0
    while i < len(words):
        found = _phrase_at(words, i, table)
        if found is not None:
            size, read = found
            phrases.append(read)
            i += size
            continue
        if ZIP_PATTERN.match(words[i]) and not _has(phrases, "near"):
            phrases.append(Read(words[i], "place", "near", (words[i],)))
        else:
            left.append(words[i])
        i += 1
    # Cities before filler, which has their words too ("los angeles", "la habra").
    left, place = _city(left, bool(phrases))
    if place is not None and not _has(phrases, "near"):
        phrases.append(place)
    left = [w for w in left if w not in FILLER]
    return Reading(tuple(phrases), tuple(dict.fromkeys(left)))


def _has(phrases: list[Read], parameter: str) -> bool:
    return any(p.parameter == parameter for p in phrases)


def _phrase_at(words: list[str], i: int, table: dict) -> tuple[int, Read] | None:
    for size in range(min(consumer.MAX_PHRASE_WORDS, len(words) - i), 0, -1):
        key = tuple(words[i : i + size])
        term = table.get(key)
        if term is not None:
            return size, _from_term(" ".join(key), term)
    word = words[i]
    limit = typo_limit(word)
    if limit and not word.isdigit():
        match = process.extractOne(
            word,
            [w for w in consumer.single_words() if w[:1] == word[:1]],
            scorer=OSA.distance,
            score_cutoff=limit,
        )
        if match is not None:
            return 1, _from_term(word, table[(match[0],)], phrase=match[0])
    return None


def _from_term(text: str, term: consumer.Term, phrase: str = "") -> Read:
    return Read(
        text=text,
        kind=term.kind,
        parameter=term.parameter,
        values=term.values,
        reason_en=term.reason_en,
        reason_es=term.reason_es,
        phrase=phrase,
    )


def _city(words: list[str], read_something: bool) -> tuple[list[str], Read | None]:
    """The longest California city among the words, taken out of them."""
    for size in range(min(MAX_CITY_WORDS, len(words)), 0, -1):
        if size == 1 and not read_something:
            break
        for start in range(len(words) - size + 1):
            name = " ".join(words[start : start + size])
            place = city_place(name, CITY_STATE)
            if place is not None:
                rest = words[:start] + words[start + size :]
                at = f"{place.lat},{place.lon}"
                return rest, Read(name, "place", "near", (at,))
    return words, None
