"""The judged query set (`queries.csv`): each query with its category and the graded providers
its judging rule finds in the roster."""

import csv
from dataclasses import dataclass
from functools import cache

from tests.relevance.roster import providers
from tests.relevance.rules import HERE, judge

CATEGORIES = (
    "specialty",
    "condition",
    "language",
    "place",
    "name",
    "group_office",
    "spanish",
    "typo",
    "sentence",
    "trap",
)


@dataclass(frozen=True)
class JudgedQuery:
    category: str
    query: str
    rule: str  # as resolved: a "=other query" rule is that query's rule
    grades: dict[str, int]  # NPI -> 1 or 2, for every relevant provider


@cache
def judged_queries() -> tuple[JudgedQuery, ...]:
    with (HERE / "queries.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rules = {row["query"]: row["rule"] for row in rows}
    if len(rules) != len(rows):
        raise ValueError("a query appears twice in queries.csv")
    found = []
    for row in rows:
        if row["category"] not in CATEGORIES:
            raise ValueError(f"unknown category {row['category']!r} of {row['query']!r}")
        rule = row["rule"]
        if rule.startswith("="):
            rule = rules[rule[1:]]  # one level: the rule referred to is written out
        found.append(JudgedQuery(row["category"], row["query"], rule, judge(rule, providers())))
    return tuple(found)
