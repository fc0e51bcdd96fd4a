"""Judging rules: one line of a tiny language per query, evaluated against the roster.

    rule      := "-"                          nobody is relevant
               | clause (" ; " clause)*       the highest grade whose clause holds, else 0
    clause    := grade ":" condition (" & " condition)*
    condition := ["!"] key ["=" value ("|" value)*]      any value may hold; "!" negates

Values are folded words (lower case, no accents or punctuation); "@name" stands for a code set of
`code_sets.csv`. Provider keys look at what the roster says of the provider on any of its rows;
site keys must all hold on one and the same roster row (one location under one plan). The keys
are listed in PROVIDER_KEYS and SITE_KEYS and explained in README.md.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.relevance.places import centre, miles
from tests.relevance.roster import Provider, Site, name_words

HERE = Path(__file__).resolve().parent
# The radius a place in the search box means when the member gives none: the API's default.
DEFAULT_RADIUS_MILES = 10.0


@cache
def code_sets() -> dict[str, frozenset[str]]:
    with (HERE / "code_sets.csv").open(encoding="utf-8", newline="") as fh:
        return {row["name"]: frozenset(row["codes"].split("|")) for row in csv.DictReader(fh)}


def _codes(values: tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for value in values:
        if value.startswith("@"):
            found |= code_sets()[value[1:]]
        else:
            found.add(value.upper())
    return frozenset(found)


def _words(value: str) -> str:
    return " ".join(name_words(value))


def _first(p: Provider, values) -> bool:
    words = name_words(p.first)
    return bool(words) and (" ".join(words) in values or words[0] in values)


def _last(p: Provider, values) -> bool:
    words = p.last_words
    return bool(words) and (" ".join(words) in values or bool(set(words) & set(values)))


def _org(p: Provider, values) -> bool:
    words = set(name_words(p.organization))
    return any(set(v.split()) <= words for v in values)


PROVIDER_KEYS: dict[str, Callable[[Provider, tuple[str, ...]], bool]] = {
    "primary": lambda p, v: bool(p.primary_codes & _codes(v)),
    "any": lambda p, v: bool(p.codes & _codes(v)),
    "speaks": lambda p, v: bool(p.languages & set(v)),
    "gender": lambda p, v: p.gender in v,
    "type": lambda p, v: p.entity_type in v,
    "first": _first,
    "last": _last,
    "org": _org,
    "group": lambda p, v: any(_words(g) in v for g in p.groups),
}


def _near(site: Site, values) -> bool:
    for value in values:
        place, _, radius = value.partition("/")
        lat, lon = centre(place)
        if miles(lat, lon, site.lat, site.lon) <= float(radius or DEFAULT_RADIUS_MILES):
            return True
    return False


SITE_KEYS: dict[str, Callable[[Site, tuple[str, ...]], bool]] = {
    "near": _near,
    "office": lambda s, v: _words(s.location_name) in v,
    "city": lambda s, v: s.city in v,
    "telehealth": lambda s, v: s.telehealth,
    "accepting": lambda s, v: s.accepting == "accepting",
    "lob": lambda s, v: s.line_of_business in v,
    "staff": lambda s, v: bool(s.staff_languages & set(v)),
}


@dataclass(frozen=True)
class Condition:
    key: str
    values: tuple[str, ...]
    negated: bool

    @property
    def on_site(self) -> bool:
        return self.key in SITE_KEYS

    def holds(self, subject) -> bool:
        test = SITE_KEYS[self.key] if self.on_site else PROVIDER_KEYS[self.key]
        return test(subject, self.values) != self.negated


@dataclass(frozen=True)
class Clause:
    grade: int
    conditions: tuple[Condition, ...]

    def holds(self, provider: Provider) -> bool:
        on_provider = [c for c in self.conditions if not c.on_site]
        on_site = [c for c in self.conditions if c.on_site]
        if not all(c.holds(provider) for c in on_provider):
            return False
        return not on_site or any(all(c.holds(s) for c in on_site) for s in provider.sites)


@dataclass(frozen=True)
class Rule:
    clauses: tuple[Clause, ...]

    def grade(self, provider: Provider) -> int:
        return max((c.grade for c in self.clauses if c.holds(provider)), default=0)


def parse_condition(text: str) -> Condition:
    text = text.strip()
    negated = text.startswith("!")
    key, _, values = text.lstrip("!").partition("=")
    key = key.strip()
    if key not in PROVIDER_KEYS and key not in SITE_KEYS:
        raise ValueError(f"unknown key {key!r} in {text!r}")
    return Condition(key, tuple(v.strip() for v in values.split("|") if v.strip()), negated)


def parse_rule(text: str) -> Rule:
    text = text.strip()
    if text == "-":
        return Rule(())
    clauses = []
    for part in text.split(";"):
        grade, _, conditions = part.partition(":")
        if grade.strip() not in ("1", "2") or not conditions.strip():
            raise ValueError(f"a clause is 'grade: conditions' with grade 1 or 2: {part!r}")
        found = tuple(parse_condition(c) for c in conditions.split("&"))
        for condition in found:
            if condition.key.startswith(("primary", "any")):
                _codes(condition.values)  # an unknown code set fails here, not as "nobody"
        clauses.append(Clause(int(grade), found))
    return Rule(tuple(clauses))


def judge(rule_text: str, providers: dict[str, Provider]) -> dict[str, int]:
    """NPI -> grade (1 or 2) for every provider the rule finds relevant."""
    rule = parse_rule(rule_text)
    graded = {npi: rule.grade(p) for npi, p in providers.items()}
    return {npi: grade for npi, grade in graded.items() if grade}
