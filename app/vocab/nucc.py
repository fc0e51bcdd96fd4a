"""The NUCC Health Care Provider Taxonomy (every code, as data) with our consumer labels.

`data/nucc_taxonomy.csv` holds NUCC's facts (code, grouping, classification, specialization,
display name, section); `data/specialty_labels.csv` our short English and Spanish labels, the
primary-care type of the PCP codes and the words consumers use. A code without a label of ours is
shown by NUCC's name (and in English when no Spanish label exists).
"""

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

PHYSICIAN_SUFFIX = " Physician"


@dataclass(frozen=True)
class Specialty:
    code: str
    display: str
    display_es: str
    pcp_type: str | None
    entity_type: str
    terms: tuple[str, ...] = ()
    grouping: str = ""
    classification: str = ""
    specialization: str = ""
    nucc_display: str = ""  # NUCC's own display name, as FHIR codings carry it
    known: bool = True

    @property
    def is_pcp(self) -> bool:
        return self.pcp_type is not None


def entity_type_of(code: str, section: str, grouping: str) -> str:
    """The kind of listing a taxonomy code describes, from the code's section and grouping."""
    if grouping == "Group" or code.startswith("261Q"):
        return "urgent_care" if code == "261QU0200X" else "clinic"
    if section == "Individual":
        return "practitioner"
    if code.startswith("28"):
        return "hospital"
    if code.startswith("3336"):
        return "pharmacy"
    if code.startswith("291"):
        return "lab"
    return "other"


def _rows(name: str):
    with resources.files("app.vocab").joinpath(f"data/{name}").open(encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


@cache
def specialties() -> dict[str, Specialty]:
    """Every NUCC code, by code."""
    labels = {row["code"]: row for row in _rows("specialty_labels.csv")}
    table: dict[str, Specialty] = {}
    for row in _rows("nucc_taxonomy.csv"):
        code = row["code"]
        label = labels.get(code, {})
        display = label.get("display") or row["display_name"].removesuffix(PHYSICIAN_SUFFIX)
        table[code] = Specialty(
            code=code,
            display=display,
            display_es=label.get("display_es") or display,
            pcp_type=label.get("pcp_type") or None,
            entity_type=entity_type_of(code, row["section"], row["grouping"]),
            terms=tuple(t for t in label.get("terms", "").split("|") if t),
            grouping=row["grouping"],
            classification=row["classification"],
            specialization=row["specialization"],
            nucc_display=row["display_name"],
        )
    return table


def lookup(code: str) -> Specialty | None:
    """The specialty of a NUCC code, or None when NUCC has no such code."""
    return specialties().get(code.strip().upper())


def describe(code: str) -> Specialty:
    """The specialty of a code, or a stand-in that shows the code for one NUCC does not have
    (a retired code, a typo): the listing keeps it, searchable as written."""
    found = lookup(code)
    if found is not None:
        return found
    code = code.strip().upper()
    return Specialty(
        code=code,
        display=f"Unknown specialty {code}",
        display_es=f"Especialidad desconocida {code}",
        pcp_type=None,
        entity_type="other",
        known=False,
    )
