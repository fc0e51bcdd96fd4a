"""The query reader: what a person types in the search box -> the filters it means, and the words
left for text search (names, groups, offices).

"spanish speaking pediatrician near 90012" reads as language=es, specialty=Pediatrics, near=90012
with nothing left to match as text. Phrases come from the consumer vocabulary
(`app/vocab/data/consumer_terms.csv`), longest first; a long word that is one typo away from a
one-word phrase (two for words of ten letters or more) reads as that phrase, so "pediatrision"
is Pediatrics while "Dennis" (two edits from "dentist", and short) stays a name. A 5-digit ZIP code
is a place; so is a California city, when it is more than one word ("los angeles") or when the
query has read something else ("female obgyn irvine"), since a one-word city alone may be a name.

Numbers and codes are read first, from the text as typed: a phone number in any common form and a
plan provider ID (`GP-91506-T`, `gp91506t`) become one word each, matched exactly. Plan names of
the live directory ("golden poppy medi-cal", "LA care") become the `plan` filter when the reader
is given them. A single letter with a period ("A. Smith"), or a capital one after the first word
("Robert A Phillips"), is an initial and stays a word.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.search.plan_names import PlanNames
from app.vocab import consumer
from app.vocab.phones import find_phones
from app.vocab.places import city_place
from app.vocab.provider_ids import find_provider_ids
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
# Words of a sentence around what was read ("my son HAS asthma", "heart doctor that TAKES
# medi-cal", "busco pediatra que ACEPTE medi-cal"): dropped once something was read, kept as
# text otherwise, since alone they may be names (Son, Hope, Long).
SENTENCE_WORDS = frozenset(
    {
        "am", "is", "are", "was", "be", "been", "can", "could", "would", "will", "should", "do",
        "does", "did", "get", "got", "has", "have", "had", "having", "takes", "take", "taking",
        "accepts", "accept", "who's", "whos", "looking", "look", "want", "wants", "wanted",
        "needs", "needed", "where", "what", "which", "how", "whom", "please", "help", "someone",
        "somebody", "good", "best", "great", "top", "nearby", "local", "area", "open", "now",
        "today", "son", "daughter", "child", "kid", "mom", "mother", "dad", "father", "wife",
        "husband", "grandmother", "grandfather", "parents", "im", "it", "this", "about", "from",
        "on", "by", "also", "all", "any", "some", "see", "visit", "appointment", "new", "one",
        "acepte", "acepta", "aceptan", "tenga", "tiene", "tienen", "tengo", "quiero", "busca",
        "buscando", "donde", "hay", "bueno", "buena", "mejor", "hijo", "hija", "hijos", "hijas",
        "nino", "nina", "mama", "papa", "esposo", "esposa", "mis", "por", "favor", "ayuda",
        "alguien", "es", "esta", "estoy", "soy", "necesita", "puede", "pueda", "cita",
        "al", "lo", "su", "sus", "mas", "cerca", "abierto", "abierta", "abre",
    }
)  # fmt: skip
# "Near me" and its kin: a place only the visitor's device knows. Read as a `near` with no value,
# which the page fills in from the browser's location when the visitor allows it.
NEAR_ME = frozenset(
    tuple(phrase.split())
    for phrase in (
        "near me", "close to me", "around me", "nearby", "near by", "close by", "closest",
        "nearest", "near my home", "near my house", "near where i live", "cerca de mi",
        "cerca de mi casa", "cerca de aqui", "cerca de donde vivo", "mas cercano", "mas cercana",
        "cercano", "cercana", "cercanos",
    )
)  # fmt: skip
NEAR_ME_KIND = "near_me"
# Every kind of phrase a reading names: the vocabulary's, and those read from the text's shape.
PHRASE_KINDS = (*consumer.PARAMETERS, "plan", "place", "phone", "provider_id", NEAR_ME_KIND)
CITY_STATE = "CA"
MAX_CITY_WORDS = 3
# What is read but still matched as text (a phone number, a plan provider ID) names this parameter.
TEXT_PARAMETER = "q"
# "A." or "j." anywhere, or a capital letter after the first word ("Robert A Phillips"): an
# initial, even when the letter is also a filler word ("a", "y", "o").
_INITIAL = re.compile(r"(?<![\w.])(?:([A-Za-z])\.(?!\w)|([A-Z])(?![\w.]))")
# Stands for something read from the text as typed, in the list of words ("#0", "#1", ...).
_MARK = "#"


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
    labels: tuple[str, ...] = ()  # names of the values, when only the reader knows them (plans)


@dataclass(frozen=True)
class Reading:
    """What a query was read as: its phrases (in order) and the words left for text search."""

    phrases: tuple[Read, ...] = ()
    words: tuple[str, ...] = field(default=())

    def values(self, parameter: str) -> tuple[str, ...]:
        """Every value read for one search parameter, in order, once."""
        found = (v for p in self.phrases if p.parameter == parameter for v in p.values)
        return tuple(dict.fromkeys(found))

    @property
    def search_words(self) -> tuple[str, ...]:
        """What the engines match as text: the numbers and codes read, then the words left."""
        return tuple(dict.fromkeys([*self.values(TEXT_PARAMETER), *self.words]))


def read_query(text: str, plans: Mapping[str, str] | None = None) -> Reading:
    """Read a search box entry (English or Spanish, accents either way, typos); `plans` are the
    live directory's plan names (code -> name), read as the `plan` filter when typed."""
    words, found = _direct_finds(text)
    plan_names = PlanNames(plans or {})
    phrases: list[Read] = []
    left: list[str] = []
    kept: set[str] = set()  # initials: words even when they are filler
    table = consumer.terms()
    i = 0
    while i < len(words):
        if words[i].startswith(_MARK):
            read = found[int(words[i][1:])]
            if read.kind == "initial":
                left.append(read.text)
                kept.add(read.text)
            else:
                phrases.append(read)
            i += 1
            continue
        size = _near_me_at(words, i)
        if size:
            phrases.append(Read(" ".join(words[i : i + size]), NEAR_ME_KIND, "near", ()))
            i += size
            continue
        plan = _plan_at(words, i, plan_names, table)
        if plan is not None:
            size, read = plan
            phrases.append(read)
            i += size
            continue
        found_term = _phrase_at(words, i, table)
        if found_term is not None:
            size, read = found_term
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
    if _has(phrases, "near"):  # a ZIP or a city typed beside "near me" says where
        phrases = [p for p in phrases if p.kind != NEAR_ME_KIND]
    left = [w for w in left if w not in FILLER or w in kept]
    if phrases:
        left = [w for w in left if w not in SENTENCE_WORDS or w in kept]
    if left:
        # Beside a name, a kind of place is part of that name: "Magnolia Health Center" is an
        # office, not every clinic; "Clinica Medica Familiar" a clinic's name.
        kinds = [p for p in phrases if p.kind == "type"]
        phrases = [p for p in phrases if p.kind != "type"]
        left.extend(w for p in kinds for w in p.text.split())
    return Reading(tuple(phrases), tuple(dict.fromkeys(left)))


def _direct_finds(text: str) -> tuple[list[str], list[Read]]:
    """The words of a text, with each phone number, plan provider ID and initial found in the
    text as typed standing as a mark ("#0") for what it was read as."""
    spans: list[tuple[int, int, Read]] = []
    for start, end, digits in find_phones(text):
        spans.append((start, end, _direct(text[start:end], "phone", digits)))
    for start, end, word in find_provider_ids(text):
        if not any(s < end and start < e for s, e, _ in spans):
            spans.append((start, end, _direct(text[start:end], "provider_id", word)))
    for match in _INITIAL.finditer(text):
        bare_first_word = match[2] and not text[: match.start()].strip()  # "A doctor for ..."
        if bare_first_word or any(s < match.end() and match.start() < e for s, e, _ in spans):
            continue
        letter = (match[1] or match[2]).lower()
        spans.append((match.start(), match.end(), Read(letter, "initial", "", ())))
    words: list[str] = []
    found: list[Read] = []
    at = 0
    for start, end, read in sorted(spans, key=lambda span: span[0]):
        words.extend(tokens(text[at:start]))
        words.append(f"{_MARK}{len(found)}")
        found.append(read)
        at = end
    words.extend(tokens(text[at:]))
    return words, found


def _direct(typed: str, kind: str, word: str) -> Read:
    return Read(" ".join(tokens(typed)), kind, TEXT_PARAMETER, (word,))


def _plan_at(
    words: list[str], i: int, plan_names: PlanNames, table: dict
) -> tuple[int, Read] | None:
    """Plans named from position i: by two words or more ("golden poppy", "la care"), or by one
    right before or after a line of business ("sunrise medi-cal"); a brand word alone may be a
    name ("Dr. Golden")."""
    if not plan_names.names:
        return None
    end = next((j for j in range(i, len(words)) if words[j].startswith(_MARK)), len(words))
    size, codes = plan_names.longest_at(words[:end], i)
    if not size:
        return None
    beside_line = _line_of_business_at(words, i + 1, table) or _after_line(words, i, table)
    if size == 1 and not beside_line:
        return None
    text = " ".join(words[i : i + size])
    names = tuple(plan_names.names[c] for c in codes)
    return size, Read(text, "plan", "plan", codes, labels=names)


def _line_of_business_at(words: list[str], i: int, table: dict) -> bool:
    found = _phrase_at(words, i, table) if i < len(words) else None
    return found is not None and found[1].kind == "line_of_business"


def _after_line(words: list[str], i: int, table: dict) -> bool:
    """True when the words just before position i are a line of business ("medi-cal sunrise")."""
    for size in range(1, min(consumer.MAX_PHRASE_WORDS, i) + 1):
        term = table.get(tuple(words[i - size : i]))
        if term is not None and term.kind == "line_of_business":
            return True
    return False


def _has(phrases: list[Read], parameter: str) -> bool:
    """Whether a phrase has given this parameter a value ("near me" has none)."""
    return any(p.parameter == parameter and p.values for p in phrases)


def _near_me_at(words: list[str], i: int) -> int:
    """How many words from `i` say "near me", or 0."""
    longest = max(len(p) for p in NEAR_ME)
    for size in range(min(longest, len(words) - i), 0, -1):
        if tuple(words[i : i + size]) in NEAR_ME:
            return size
    return 0


def _phrase_at(words: list[str], i: int, table: dict) -> tuple[int, Read] | None:
    for size in range(min(consumer.MAX_PHRASE_WORDS, len(words) - i), 0, -1):
        key = tuple(words[i : i + size])
        term = table.get(key)
        if term is not None:
            return size, _from_term(" ".join(key), term)
    word = words[i]
    limit = typo_limit(word)
    if limit and not word.isdigit():
        # Both words must be long enough for the typo: "medical" is not a misspelt "medica".
        match = process.extractOne(
            word,
            [w for w in consumer.single_words() if w[:1] == word[:1] and typo_limit(w)],
            scorer=OSA.distance,
            score_cutoff=limit,
        )
        if match is not None and match[1] <= typo_limit(match[0]):
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
