"""Did you mean: words left for text search that look like a misspelt vocabulary word.

The reader forgives few typos so that names are never bent into vocabulary ("Dennis" stays a
name). When such a word finds nobody, or finds only people whose names are not that word, the
closer vocabulary word is offered as a search of its own ("dentis" -> "dentist"), never applied.
"""

from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.vocab import consumer
from app.vocab.names import other_forms
from app.vocab.text import tokens

MIN_LETTERS = 4


def suggestion_limit(word: str) -> int:
    """Edits a word may be from a vocabulary word for that word to be offered."""
    if len(word) >= 10:
        return 3
    if len(word) >= 6:
        return 2
    return 1 if len(word) >= MIN_LETTERS else 0


def correction(word: str) -> str | None:
    """The vocabulary word closest to `word` within its limit (same first letter), if any."""
    limit = suggestion_limit(word)
    # A given name ("Dennis") is a name, however close to a vocabulary word.
    if not limit or not word.isalpha() or other_forms(word):
        return None
    vocabulary = consumer.single_words()
    if word in vocabulary:
        return None
    found = process.extractOne(
        word,
        [w for w in vocabulary if w[:1] == word[:1] and w != word],
        scorer=OSA.distance,
        score_cutoff=limit,
    )
    return found[0] if found else None


def respelled(q: str, words: tuple[str, ...], names_found: set[str]) -> str | None:
    """`q` with each left-over word that looks misspelt replaced, or None when none does.

    A word that is the name of someone found is a name, not a typo.
    """
    fixes = {w: c for w in words if w not in names_found and (c := correction(w)) is not None}
    if not fixes:
        return None
    return " ".join(fixes.get(t, t) for t in tokens(q))


def offer(q: str, query, hits, count) -> tuple[str, int] | None:
    """(respelled q, how many it finds) when a respelling finds someone; `count` runs a q."""
    if query.reading is None or not query.reading.words:
        return None
    names = {t for hit in hits for part in hit.doc["name"].values() if part for t in tokens(part)}
    better = respelled(q, query.reading.words, names)
    if better is None:
        return None
    total = count(better)
    return (better, total) if total else None
