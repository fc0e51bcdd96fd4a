"""The matching rules file: access standards, PCP types by age, preference points, versioned."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SHIPPED_RULES = Path(__file__).with_name("rules") / "pcp-matching.json"
PREFERENCES = (
    "continuity",
    "family",
    "language",
    "staff_language",
    "distance",
    "gender",
    "accessibility",
    "telehealth",
)


class RulesError(ValueError):
    """The rules file is missing something or holds a value that cannot be used."""


@dataclass(frozen=True)
class AgeBand:
    from_age: int
    to_age: int
    types: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    version: str
    access_standard_miles: dict[str, float]
    default_panel_capacity: int
    member_to_pcp_ratio: int
    pcp_types_by_age: tuple[AgeBand, ...]
    obgyn_sexes: tuple[str, ...]
    obgyn_from_age: int
    points: dict[str, float]
    widen_max_miles: float
    widen_show: int

    def pcp_types_for(self, age: int) -> tuple[str, ...]:
        for band in self.pcp_types_by_age:
            if band.from_age <= age <= band.to_age:
                return band.types
        return ()

    def max_distance(self, line_of_business: str) -> float:
        return self.access_standard_miles[line_of_business]


def parse_rules(data: dict) -> Rules:
    try:
        points = {name: float(data["points"][name]) for name in PREFERENCES}
        rules = Rules(
            version=str(data["version"]),
            access_standard_miles={k: float(v) for k, v in data["access_standard_miles"].items()},
            default_panel_capacity=int(data["default_panel_capacity"]),
            member_to_pcp_ratio=int(data["member_to_pcp_ratio"]),
            pcp_types_by_age=tuple(
                AgeBand(int(b["from_age"]), int(b["to_age"]), tuple(b["types"]))
                for b in data["pcp_types_by_age"]
            ),
            obgyn_sexes=tuple(data["obgyn_as_pcp"]["sexes"]),
            obgyn_from_age=int(data["obgyn_as_pcp"]["from_age"]),
            points=points,
            widen_max_miles=float(data["widen"]["max_miles"]),
            widen_show=int(data["widen"]["show"]),
        )
    except KeyError as exc:
        raise RulesError(f"the rules file lacks {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise RulesError(f"the rules file holds a value of the wrong kind: {exc}") from exc
    if any(p < 0 for p in points.values()):
        raise RulesError("preference points must not be negative")
    if rules.widen_max_miles <= 0:
        raise RulesError("widen.max_miles must be above 0")
    return rules


@cache
def load_rules(path: str | None = None) -> Rules:
    """The rules at this path (the shipped file when none is given)."""
    source = Path(path) if path else SHIPPED_RULES
    try:
        return parse_rules(json.loads(source.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise RulesError(f"no rules file at {source}") from exc
    except json.JSONDecodeError as exc:
        raise RulesError(f"{source} is not JSON: {exc}") from exc
