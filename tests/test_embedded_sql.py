"""The embedded engine's statements, built from queries and checked as data (no database)."""

from app.engines import embedded_sql as sql
from app.search import ranking

HOSTILE = "x') OR 1=1; DROP TABLE providers; --"


def test_word_score_tiers_and_fts_expressions():
    text, params = sql.word_score("nguyen", ["nguyan"])
    assert params["exact_name"] == 'name : "nguyen"'
    assert params["name_prefix"] == 'name : "nguyen" *'
    assert params["exact_text"] == '"nguyen"'
    assert params["one_typo"] == '("nguyan")'
    assert params["w_one_typo"] == ranking.ONE_TYPO
    assert text.index(":exact_name") < text.index(":name_prefix") < text.index(":exact_text")
    short, short_params = sql.word_score("ob", [])
    assert short_params["name_prefix"] == short_params["exact_name"]  # no prefix under 3 letters
    assert ":one_typo" not in short
    matches, words = sql.text_matches([{"kim": 0}, {"smith": 0, "smyth": 1}])
    assert words == {"words": '("kim") AND ("smith" OR "smyth")'}
    assert "MATCH :words" in matches


def test_cursors_resume_after_their_strings_in_index_order():
    text, params = sql.first_after_name(HOSTILE, "1234567893")
    assert "WHERE (sort_name, npi) > (:sort_name, :npi) ORDER BY sort_name, npi LIMIT 1" in text
    assert params == {"sort_name": HOSTILE, "npi": "1234567893"}
    assert HOSTILE not in text
    text, params = sql.first_after_npi("1234567893")
    assert "WHERE npi > :npi ORDER BY npi LIMIT 1" in text and params == {"npi": "1234567893"}
    text, params = sql.provider_of_npi(HOSTILE)
    assert params == {"npi": HOSTILE} and HOSTILE not in text


def test_the_page_reads_only_its_rows():
    text, params = sql.page_rows([7, 3, 11])
    assert "WHERE p.id IN (:id0, :id1, :id2)" in text
    assert params == {"id0": 7, "id1": 3, "id2": 11}
    assert "JOIN provider_docs d ON d.id = p.id" in text
