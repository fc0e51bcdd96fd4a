"""NUCC taxonomy codes the directory knows: display names, PCP type, consumer search words."""

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Specialty:
    code: str
    display: str
    display_es: str
    pcp_type: str | None
    entity_type: str
    terms: tuple[str, ...]

    @property
    def is_pcp(self) -> bool:
        return self.pcp_type is not None


@cache
def specialties() -> dict[str, Specialty]:
    """All known specialties by NUCC code."""
    table: dict[str, Specialty] = {}
    with resources.files("indexer").joinpath("data/specialties.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            table[row["code"]] = Specialty(
                code=row["code"],
                display=row["display"],
                display_es=row["display_es"],
                pcp_type=row["pcp_type"] or None,
                entity_type=row["entity_type"],
                terms=tuple(t for t in row["terms"].split("|") if t),
            )
    return table


def lookup(code: str) -> Specialty | None:
    return specialties().get(code.strip().upper())
