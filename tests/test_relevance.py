"""Judged relevance of the search box on both engines: everyday searches
(tests/relevance/queries.csv) with graded judgments written as rules over the roster, precision@10
and nDCG@10 per engine, the two engines' agreement on the top 10, and the query reader checked
exactly on tests/relevance/readings.csv. Run with -s for the per-category table and the worst
queries."""

import csv
from statistics import mean

import pytest

from app import create_app
from app.engines import create_engine
from app.search.reader import read_query
from indexer.pipeline import import_roster
from tests.conftest import ENGINES, FIXTURE_ROSTER, TEST_PREFIX, engine_config
from tests.relevance.judgments import CATEGORIES, JudgedQuery, judged_queries
from tests.relevance.metrics import ndcg_at_10, overlap, precision_at_10
from tests.relevance.places import city_centre, miles
from tests.relevance.roster import providers
from tests.relevance.rules import HERE, parse_rule

# What the code reaches on the bundled roster, rounded down to 0.01 (the goal is 0.95 for both
# precision and nDCG, 0.9 for agreement). Raise them when the ranking improves; never lower the
# judgments to meet them.
FLOOR_PRECISION = {"embedded": 0.97, "elasticsearch": 0.97}
FLOOR_NDCG = {"embedded": 0.96, "elasticsearch": 0.96}
FLOOR_AGREEMENT = 0.98
WORST_SHOWN = 25


def top_10(client, query: str) -> dict:
    """The first page of the default search for a query, as the API answers it."""
    response = client.get(
        "/v1/providers", query_string={"q": query, "limit": 10, "facets": "false"}
    )
    assert response.status_code == 200, (query, response.get_data(as_text=True))
    return response.json


def npis(answer: dict) -> list[str]:
    return [r["npi"] for r in answer["results"]]


def describe_result(result: dict, judged: JudgedQuery) -> str:
    specialty = next((s["display"] for s in result["specialties"] if s["primary"]), "-")
    where = result["locations"][0]["city"] if result["locations"] else "-"
    distance = result.get("distance_miles")
    far = f" {distance:.1f} mi" if distance is not None else ""
    langs = ",".join(result["languages"] or [])
    grade = judged.grades.get(result["npi"], 0)
    return f"[{grade}] {result['display_name']} | {specialty} | {langs} | {where}{far}"


def describe_reading(answer: dict) -> str:
    reading = answer.get("interpretation") or {}
    phrases = [f"{p['parameter']}={'|'.join(p['values'])}" for p in reading.get("phrases", [])]
    return f"read {phrases} words {reading.get('words', [])}"


def score(judged: JudgedQuery, answer: dict) -> dict:
    ranked = npis(answer)
    return {
        "judged": judged,
        "answer": answer,
        "precision": precision_at_10(ranked, judged.grades),
        "ndcg": ndcg_at_10(ranked, judged.grades),
    }


def category_table(title: str, scores: list[dict]) -> str:
    lines = [title, f"{'category':<14}{'queries':>8}{'P@10':>8}{'nDCG@10':>9}"]
    for category in (*CATEGORIES, "all"):
        rows = [s for s in scores if category in ("all", s["judged"].category)]
        if rows:
            p = mean(s["precision"] for s in rows)
            n = mean(s["ndcg"] for s in rows)
            lines.append(f"{category:<14}{len(rows):>8}{p:>8.3f}{n:>9.3f}")
    return "\n".join(lines)


def worst_queries(scores: list[dict], count: int = WORST_SHOWN) -> str:
    lines = []
    for s in sorted(scores, key=lambda s: (s["ndcg"] + s["precision"], s["judged"].query))[:count]:
        judged, answer = s["judged"], s["answer"]
        relevant = len(judged.grades)
        best = sum(1 for g in judged.grades.values() if g == 2)
        lines.append(
            f"- {judged.query!r} ({judged.category}) P@10 {s['precision']:.2f} "
            f"nDCG@10 {s['ndcg']:.2f}; judged {relevant} relevant ({best} grade 2), "
            f"total {answer['total']}; {describe_reading(answer)}"
        )
        lines.extend(f"    {describe_result(r, judged)}" for r in answer["results"])
    return "\n".join(lines)


def test_judging_rules_parse_and_the_queries_are_many_and_varied():
    queries = judged_queries()
    assert len(queries) >= 170
    assert {q.category for q in queries} == set(CATEGORIES)
    for judged in queries:
        parse_rule(judged.rule)
    # A rule that finds nobody must say so ("-"), never by a misspelt name or code.
    nobody = [q.query for q in queries if not q.grades and q.rule != "-"]
    assert set(nobody) <= {"russian speaking psychiatrist", "ASL", "sign language"}, nobody


def test_a_judging_rule_grades_by_its_highest_clause():
    everyone = providers()
    grades = parse_rule("2: first=arash & last=tehrani ; 1: last=tehrani")
    by_grade = {g: {n for n, p in everyone.items() if grades.grade(p) == g} for g in (1, 2)}
    assert len(by_grade[2]) == 1
    assert {everyone[n].first for n in by_grade[1]} >= {"reza", "yasmin"}
    near = parse_rule("2: type=practitioner & near=90012/1")
    far = parse_rule("2: type=practitioner & near=90012/5")
    assert 0 < sum(map(near.grade, everyone.values())) < sum(map(far.grade, everyone.values()))
    with pytest.raises(ValueError):
        parse_rule("2: specialty=@cardiology")
    with pytest.raises(KeyError):
        parse_rule("2: any=@no_such_set")


def test_metrics_are_capped_and_graded():
    grades = {"a": 2, "b": 1, "c": 2}
    assert precision_at_10(["a", "b", "c"], grades) == 1.0  # three relevant, three found
    assert precision_at_10(["x", "a", "b"], grades) == pytest.approx(2 / 3)
    assert precision_at_10([], {}) == 1.0 and precision_at_10(["x"], {}) == 0.0
    assert ndcg_at_10(["a", "c", "b"], grades) == pytest.approx(1.0)
    assert ndcg_at_10(["b", "a", "c"], grades) < 1.0
    assert ndcg_at_10([], {}) == 1.0 and ndcg_at_10(["x"], {}) == 0.0
    assert overlap(["a", "b"], ["b", "c"]) == 0.5 and overlap([], []) == 1.0


def test_judged_searches_reach_the_floors(client, engine_kind):
    scores = [score(judged, top_10(client, judged.query)) for judged in judged_queries()]
    precision = mean(s["precision"] for s in scores)
    ndcg = mean(s["ndcg"] for s in scores)
    table = category_table(f"relevance on {engine_kind}", scores)
    print(f"\n{table}\n{WORST_SHOWN} worst on {engine_kind}:\n{worst_queries(scores)}")
    failed = precision < FLOOR_PRECISION[engine_kind] or ndcg < FLOOR_NDCG[engine_kind]
    assert not failed, f"{table}\nworst:\n{worst_queries(scores)}"


@pytest.fixture(scope="module")
def both_engines(request, tmp_path_factory) -> dict:
    """A directory of the fixture roster on each engine, side by side in one test (the engine-
    parametrized fixtures hold one engine at a time, whatever order the tests run in)."""
    request.getfixturevalue("es_client")  # fails early without a node; deletes the index after
    apps = {}
    for kind in ENGINES:
        data_dir = tmp_path_factory.mktemp(f"relevance-{kind}")
        config = engine_config(kind, data_dir, prefix=f"{TEST_PREFIX}relevance-")
        engine = create_engine(config)
        import_roster(engine, FIXTURE_ROSTER)
        engine.close()
        apps[kind] = create_app(config)
    return apps


def test_both_engines_agree_on_the_top_10(both_engines):
    clients = {kind: app.test_client() for kind, app in both_engines.items()}
    rows = []
    for judged in judged_queries():
        answers = {kind: top_10(c, judged.query) for kind, c in clients.items()}
        first, second = (npis(answers[kind]) for kind in ENGINES)
        rows.append((overlap(first, second), judged.query, answers))
    agreement = mean(r[0] for r in rows)
    worst = sorted(rows, key=lambda r: (r[0], r[1]))[:WORST_SHOWN]
    report = "\n".join(
        f"- {query!r} overlap {share:.2f}: "
        + "; ".join(f"{kind} {len(a['results'])} of {a['total']}" for kind, a in answers.items())
        for share, query, answers in worst
    )
    print(f"\ntop-10 agreement {agreement:.3f} over {len(rows)} queries\n{report}")
    assert agreement >= FLOOR_AGREEMENT, report


# A city read as a place stands within this many miles of its centre (tests/relevance/places.py).
CITY_CENTRE_TOLERANCE_MILES = 1.0


def read_table() -> list:
    """The reading table, rows the reader is known to get wrong now marked as strict failures."""
    with (HERE / "readings.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        pytest.param(
            row,
            id=row["query"],
            marks=[pytest.mark.xfail(reason=row["known_wrong"], strict=True)]
            if row["known_wrong"]
            else [],
        )
        for row in rows
    ]


def place_as_written(text: str, value: str) -> str:
    """A place read as 'lat,lon' is written as '@city' when it is that city's centre."""
    if "," not in value:
        return value
    lat, lon = (float(v) for v in value.split(","))
    centre = city_centre(text)
    if centre and miles(lat, lon, *centre) <= CITY_CENTRE_TOLERANCE_MILES:
        return f"@{text}"
    return value


def reading_as_written(typed: str) -> tuple[str, str]:
    """A reading in the table's notation: 'parameter=value|value; ...' in order, and the words."""
    reading = read_query(typed)
    phrases = []
    for p in reading.phrases:
        values = [place_as_written(p.text, v) if p.parameter == "near" else v for v in p.values]
        phrases.append(f"{p.parameter}={'|'.join(values)}")
    return "; ".join(phrases), " ".join(reading.words)


@pytest.mark.parametrize("row", read_table())
def test_the_reader_reads_exactly(row):
    assert reading_as_written(row["query"]) == (row["phrases"], row["words"])
