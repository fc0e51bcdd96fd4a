"""The embedded engine's SQLite statements of a search. Pure: SQL text and parameters out, no
database, tested as data. Values always travel as parameters; the text is made only of the
constants here.

The matching, facets and order run over the search columns (app/engines/embedded_match.py); SQL
is left with what the columns do not hold: the words (FTS5 into the temporary table `t`, the
providers found with the words' part of the score), a provider by NPI, the place a cursor
resumes at in string order, and the page's rows.
"""

from app.search import ranking

Statement = tuple[str, dict]

# Where list-valued fields are kept: rows of a terms table, by term name.
PROVIDER_TERMS = {
    "specialty_codes": "specialty",
    "languages": "language",
    "hospital_affiliations": "hospital",
}
LOCATION_TERMS = {"accessibility": "access", "open_times": "open"}
PRIMARY_SPECIALTY_TERM = "primary_specialty"
TEXT_MATCHES_SQL = (
    "INSERT INTO temp.t SELECT rowid, 0.0 FROM provider_text WHERE provider_text MATCH :words"
)
# One text word's part of the relevance score (app/search/ranking.py), added to every provider
# the words found: the best of an exact name word, a name prefix, an exact word, a word one typo
# away (for words allowed two), else a fuzzy one.
WORD_SCORE_SQL = """
UPDATE temp.t SET score = score + CASE
  WHEN pid IN (SELECT rowid FROM provider_text WHERE provider_text MATCH :exact_name)
    THEN :w_exact_name
  WHEN pid IN (SELECT rowid FROM provider_text WHERE provider_text MATCH :name_prefix)
    THEN :w_prefix
  WHEN pid IN (SELECT rowid FROM provider_text WHERE provider_text MATCH :exact_text)
    THEN :w_exact_text{one_typo}
  ELSE :w_fuzzy END
"""
ONE_TYPO_SQL = """
  WHEN pid IN (SELECT rowid FROM provider_text WHERE provider_text MATCH :one_typo)
    THEN :w_one_typo"""
PROVIDER_OF_NPI_SQL = "SELECT id FROM providers WHERE npi = :npi"
# The first provider after a cursor's strings, in the order of the index that holds them.
FIRST_AFTER_NPI_SQL = "SELECT id FROM providers WHERE npi > :npi ORDER BY npi LIMIT 1"
FIRST_AFTER_NAME_SQL = (
    "SELECT id FROM providers INDEXED BY providers_sort WHERE (sort_name, npi) > (:sort_name, :npi)"
    " ORDER BY sort_name, npi LIMIT 1"
)


def placeholders(prefix: str, values, params: dict) -> str:
    """`:prefix0, :prefix1, ...` for the values, which are added to `params`."""
    names = []
    for i, value in enumerate(values):
        key = f"{prefix}{i}"
        params[key] = value
        names.append(f":{key}")
    return ", ".join(names)


def any_of(terms) -> str:
    """An FTS5 expression matching any of these words (letters and digits only: quoting is
    enough)."""
    return "(" + " OR ".join(f'"{t}"' for t in sorted(terms)) + ")"


def text_matches(word_matches: list[dict[str, int]]) -> Statement:
    """Fill `t` with the providers that have, for every query word, one of the words it matches."""
    return TEXT_MATCHES_SQL, {"words": " AND ".join(any_of(found) for found in word_matches)}


def word_score(word: str, one_typo: list[str]) -> Statement:
    """Add one query word's part of the score to `t`; `one_typo` are the directory's words one
    edit from it, when the word may carry two."""
    exact_name = f'name : "{word}"'
    prefixed = len(word) >= ranking.MIN_PREFIX_LETTERS
    params = {
        "exact_name": exact_name,
        "name_prefix": f'name : "{word}" *' if prefixed else exact_name,
        "exact_text": f'"{word}"',
        "w_exact_name": ranking.EXACT_NAME,
        "w_prefix": ranking.NAME_PREFIX,
        "w_exact_text": ranking.EXACT_TEXT,
        "w_fuzzy": ranking.FUZZY,
    }
    if not one_typo:
        return WORD_SCORE_SQL.format(one_typo=""), params
    params.update(one_typo=any_of(one_typo), w_one_typo=ranking.ONE_TYPO)
    return WORD_SCORE_SQL.format(one_typo=ONE_TYPO_SQL), params


def provider_of_npi(npi: str) -> Statement:
    return PROVIDER_OF_NPI_SQL, {"npi": npi}


def first_after_npi(npi: str) -> Statement:
    """The provider whose NPI follows this one (sort=distance breaks ties by NPI)."""
    return FIRST_AFTER_NPI_SQL, {"npi": npi}


def first_after_name(sort_name: str, npi: str) -> Statement:
    """The provider that follows (sort_name, npi) in name order."""
    return FIRST_AFTER_NAME_SQL, {"sort_name": sort_name, "npi": npi}


def page_rows(ids: list[int]) -> Statement:
    """The page's providers: (id, npi, sort_name, document)."""
    params: dict = {}
    marks = placeholders("id", ids, params)
    sql = (
        "SELECT p.id, p.npi, p.sort_name, d.doc FROM providers p JOIN provider_docs d"
        f" ON d.id = p.id WHERE p.id IN ({marks})"
    )
    return sql, params
