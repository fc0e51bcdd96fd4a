"""Autocomplete for the search box: what the typed letters may complete to, ranked and capped.

Pure: the engines give the providers whose names match and the names the live directory holds
(groups, offices, cities, the specialty and language codes present); this module matches the
rest in memory, merges, ranks and caps. A name matches when the typed words are the start of its
words from any word on: every typed word complete but the last, which may be the start of a word
("long be" completes "Long Beach", "gar" completes "María García-López").
"""

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from app.search.reader import FILLER
from app.vocab import consumer, languages
from app.vocab.nucc import describe as describe_specialty
from app.vocab.text import tokens

MIN_LETTERS = 2
MAX_LETTERS = 100
DEFAULT_LIMIT = 8
MAX_LIMIT = 10
LANGS = ("en", "es")
# The first three kinds come from the vocabulary, the others from the names in the directory.
VOCABULARY_KINDS = ("specialty", "condition", "language")
NAME_KINDS = ("provider", "group", "office", "city")
KINDS = VOCABULARY_KINDS + NAME_KINDS
# What each kind of suggestion is, in the reader's language.
DETAILS = {
    "en": {
        "specialty": "Specialty",
        "language": "Language spoken",
        "group": "Medical group",
        "office": "Office",
        "city": "City",
    },
    "es": {
        "specialty": "Especialidad",
        "language": "Idioma que habla",
        "group": "Grupo médico",
        "office": "Consultorio",
        "city": "Ciudad",
    },
}
DETAIL_SEPARATOR = " · "
# Conditions name at most this many of the specialties that treat them.
MAX_CONDITION_SPECIALTIES = 2
# Last in any ordered range of keys: keys are folded words (a-z, 0-9) and spaces.
KEY_END = "\U0010ffff"


def typed_words(q: str) -> tuple[str, ...]:
    """The typed text as folded words ("María Ga" -> ("maria", "ga"))."""
    return tuple(tokens(q))


def long_enough(q: str) -> bool:
    """Two letters or more, once trimmed, and at least one word."""
    return len(q.strip()) >= MIN_LETTERS and bool(typed_words(q))


def word_keys(words: Iterable[str], skip: frozenset[str] = frozenset()) -> list[str]:
    """The keys a name is found by: its folded words from each word on (but from a word in
    `skip`, other than the first).

    "María García-López" -> ["maria garcia lopez", "garcia lopez", "lopez"].
    """
    folded = [t for word in words for t in tokens(word)]
    starts = [i for i in range(len(folded)) if i == 0 or folded[i] not in skip]
    return list(dict.fromkeys(" ".join(folded[i:]) for i in starts))


def provider_keys(doc: dict) -> list[str]:
    """The keys of a provider document's name (its words without the credentials)."""
    name = doc["name"]
    return word_keys(
        p for p in (name["first"], name["middle"], name["last"], name["organization"]) if p
    )


def typed_key(words: tuple[str, ...]) -> str:
    return " ".join(words)


def whole_word_end(typed: str) -> str:
    """Keys from `typed` up to this one are those where the last typed word is whole (the key
    itself, or the key and a space): a space sorts before every letter and digit."""
    return typed + " " + KEY_END


@dataclass(frozen=True)
class Suggestion:
    """One suggestion, with what it is ranked by."""

    kind: str
    label: str
    detail: str
    params: dict
    popularity: int = 0
    sort_name: str = ""
    exact: bool = False
    npi: str | None = None

    def rank(self) -> tuple:
        """Exact words first, then kind, then the most locations (or providers), then A to Z."""
        return (
            not self.exact,
            KINDS.index(self.kind),
            -self.popularity,
            self.sort_name,
            self.npi or "",
        )

    def present(self) -> dict:
        body = {"kind": self.kind, "label": self.label, "detail": self.detail}
        if self.npi:
            body["npi"] = self.npi
            body["href"] = f"/providers/{self.npi}"
        body["params"] = self.params
        return body


@dataclass(frozen=True)
class DirectoryNames:
    """The names in the live directory a search box can complete, each with how many locations
    (groups, offices, cities) or providers (specialties, languages) it has."""

    groups: dict[str, int] = field(default_factory=dict)
    offices: dict[tuple[str, str], int] = field(default_factory=dict)  # (name, city) -> count
    cities: dict[str, int] = field(default_factory=dict)
    specialties: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)


def specialty_label(code: str, lang: str) -> str:
    specialty = describe_specialty(code)
    return specialty.display_es if lang == "es" else specialty.display


def provider_suggestion(entry: dict, lang: str) -> Suggestion:
    """A provider as the engines give it (npi, label, sort_name, popularity, exact, specialty,
    city) -> its suggestion, whose search is its NPI."""
    facts = [specialty_label(entry["specialty"], lang) if entry.get("specialty") else ""]
    facts.append(entry.get("city") or "")
    return Suggestion(
        kind="provider",
        label=entry["label"],
        detail=DETAIL_SEPARATOR.join(f for f in facts if f),
        params={"q": entry["npi"]},
        popularity=entry["popularity"],
        sort_name=entry["sort_name"],
        exact=entry["exact"],
        npi=entry["npi"],
    )


def vocabulary_keys(phrase: str) -> list[str]:
    """A phrase of the vocabulary is found from any word but the little ones ("in", "de")."""
    return word_keys([phrase], skip=FILLER)


def label_and_synonym_keys(labels: list[str], synonyms: list[str]) -> list[str]:
    """Labels (English and Spanish) are found from any word, synonyms from their first only,
    and not when that is a little word: "car" is not "primary care" (Family Medicine), "in"
    is not "in spanish", "heart doc" is "heart doctor" (Cardiology)."""
    keys = [key for label in labels for key in vocabulary_keys(label)]
    for synonym in synonyms:
        words = tokens(synonym)
        if words and words[0] not in FILLER:
            keys.append(" ".join(words))
    return keys


def _vocabulary(names: DirectoryNames, lang: str) -> Iterable[tuple[list[str], Suggestion]]:
    """(keys, suggestion) for every specialty, condition and language the directory has."""
    details = DETAILS[lang]
    phrases: dict[tuple[str, str], list[str]] = {}
    for term in consumer.terms().values():
        if term.kind in ("specialty", "language"):
            for value in term.values:
                phrases.setdefault((term.kind, value), []).append(term.phrase)
    for code, count in names.specialties.items():
        specialty = describe_specialty(code)
        if not specialty.known:
            continue
        synonyms = [*specialty.terms, *phrases.get(("specialty", code), [])]
        label = specialty_label(code, lang)
        yield (
            label_and_synonym_keys([specialty.display, specialty.display_es], synonyms),
            Suggestion(
                kind="specialty",
                label=label,
                detail=details["specialty"],
                params={"specialty": [code]},
                popularity=count,
                sort_name=tokens_joined(label),
            ),
        )
    for term in consumer.terms().values():
        # Symptoms are shown as written, so in the reader's language only.
        if term.kind != "condition" or term.lang != lang:
            continue
        present = [code for code in term.values if code in names.specialties]
        if not present:
            continue
        treated_by = ", ".join(
            specialty_label(c, lang) for c in present[:MAX_CONDITION_SPECIALTIES]
        )
        reason = term.reason_es if lang == "es" else term.reason_en
        yield (
            vocabulary_keys(term.phrase),
            Suggestion(
                kind="condition",
                label=term.phrase,
                detail=f"{treated_by}: {reason}" if reason else treated_by,
                params={"q": term.phrase},
                popularity=sum(names.specialties[c] for c in present),
                sort_name=tokens_joined(term.phrase),
            ),
        )
    for tag, count in names.languages.items():
        label = languages.name(tag, lang)
        yield (
            label_and_synonym_keys(
                [languages.name(tag, "en"), languages.name(tag, "es")],
                phrases.get(("language", tag), []),
            ),
            Suggestion(
                kind="language",
                label=label,
                detail=details["language"],
                params={"language": [tag]},
                popularity=count,
                sort_name=tokens_joined(label),
            ),
        )


def _places(names: DirectoryNames, lang: str) -> Iterable[tuple[list[str], Suggestion]]:
    """(keys, suggestion) for every medical group, office and city of the directory."""
    details = DETAILS[lang]
    for group, count in names.groups.items():
        yield (
            word_keys([group]),
            Suggestion(
                kind="group",
                label=group,
                detail=details["group"],
                params={"group": [group]},
                popularity=count,
                sort_name=tokens_joined(group),
            ),
        )
    for (office, city), count in names.offices.items():
        detail = DETAIL_SEPARATOR.join(p for p in (details["office"], city) if p)
        yield (
            word_keys([office]),
            Suggestion(
                kind="office",
                label=office,
                detail=detail,
                # Taken literally: read, the city in an office's name would become a place.
                params={"q": office, "understand": "false"},
                popularity=count,
                sort_name=tokens_joined(f"{office} {city}"),
            ),
        )
    for city, count in names.cities.items():
        yield (
            word_keys([city]),
            Suggestion(
                kind="city",
                label=city,
                detail=details["city"],
                params={"city": [city]},
                popularity=count,
                sort_name=tokens_joined(city),
            ),
        )


def tokens_joined(text: str) -> str:
    return " ".join(tokens(text))


class SuggestIndex:
    """Sorted keys of the vocabulary and of the directory's groups, offices and cities, in one
    language; a typed prefix is a range of them (found by bisection)."""

    def __init__(self, names: DirectoryNames, lang: str):
        self.names = names
        self.lang = lang
        self.suggestions: list[Suggestion] = []
        pairs: list[tuple[str, int]] = []
        for source in (_vocabulary(names, lang), _places(names, lang)):
            for keys, suggestion in source:
                number = len(self.suggestions)
                self.suggestions.append(suggestion)
                pairs.extend((key, number) for key in dict.fromkeys(keys) if key)
        pairs.sort()
        self.keys = [key for key, _ in pairs]
        self.numbers = [number for _, number in pairs]
        # Each suggestion's place in the ranking but for exactness, worked out once.
        ranked = sorted(range(len(self.suggestions)), key=lambda n: self.suggestions[n].rank())
        self.places = [0] * len(ranked)
        for place, number in enumerate(ranked):
            self.places[number] = place

    def find(self, words: tuple[str, ...], per_kind: int = MAX_LIMIT) -> list[Suggestion]:
        """The best `per_kind` suggestions of each kind some key of which completes the typed
        words, marked exact or not."""
        typed = typed_key(words)
        start = bisect.bisect_left(self.keys, typed)
        stop = bisect.bisect_left(self.keys, typed + KEY_END, lo=start)
        # Keys are words and spaces, and a space comes before any letter: the keys where the
        # last typed word is whole are the first of the range.
        whole = bisect.bisect_left(self.keys, whole_word_end(typed), lo=start, hi=stop)
        exact = set(self.numbers[start:whole])
        found = sorted(
            set(self.numbers[start:stop]), key=lambda n: (n not in exact, self.places[n])
        )
        taken: Counter[str] = Counter()
        chosen = []
        for number in found:
            suggestion = self.suggestions[number]
            if taken[suggestion.kind] < per_kind:
                taken[suggestion.kind] += 1
                chosen.append(replace(suggestion, exact=number in exact))
        return chosen


def kind_cap(kind: str, limit: int) -> int:
    """At most a quarter of the list of one kind of vocabulary, half of one kind of name (at
    least one, and two)."""
    if kind in VOCABULARY_KINDS:
        return max(1, limit // 4)
    return max(2, (limit + 1) // 2)


def merge(found: Iterable[Suggestion], limit: int) -> list[Suggestion]:
    """Rank: vocabulary first, each part exact words first, then by kind, popularity, A to Z.
    Each kind is capped; places the caps leave empty go to what was held back, each kind in
    proportion to its cap. Of symptoms that mean the same (same specialties, same reason)
    only the best is kept."""
    ordered = sorted(found, key=lambda s: (s.kind not in VOCABULARY_KINDS, *s.rank()))
    meanings: set[str] = set()
    fill: list[tuple[float, int, Suggestion]] = []
    per_kind: Counter[str] = Counter()
    for position, suggestion in enumerate(ordered):
        if suggestion.kind == "condition":
            if suggestion.detail in meanings:
                continue
            meanings.add(suggestion.detail)
        # Below 1 within the cap; beyond it, the kinds take turns by how far over their cap.
        share = per_kind[suggestion.kind] / kind_cap(suggestion.kind, limit)
        per_kind[suggestion.kind] += 1
        fill.append((share if share >= 1 else 0.0, position, suggestion))
    chosen = sorted(fill, key=lambda f: (f[0], f[1]))[:limit]
    return [s for _share, _position, s in sorted(chosen, key=lambda f: f[1])]


def suggest(
    words: tuple[str, ...], index: SuggestIndex, providers: list[dict], limit: int
) -> list[dict]:
    """The answer's suggestions: the index's matches and the engine's providers, merged."""
    found = index.find(words, limit)
    found += [provider_suggestion(entry, index.lang) for entry in providers]
    return [s.present() for s in merge(found, limit)]
