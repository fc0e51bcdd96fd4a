"""The bundled roster as plain provider records, read with the csv module alone (no production
code), for judging search results against."""

import csv
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests.relevance.places import zip_centre

ROSTER = Path(__file__).resolve().parents[2] / "fixtures" / "roster.csv"

# The language names rosters write instead of codes, as the ISO 639-1 codes the API answers with.
LANGUAGE_NAMES = {
    "english": "en",
    "spanish": "es",
    "chinese": "zh",
    "russian": "ru",
    "ukrainian": "uk",
    "hindi": "hi",
    "vietnamese": "vi",
    "persian": "fa",
    "khmer": "km",
    "armenian": "hy",
    "arabic": "ar",
    "korean": "ko",
    "tagalog": "tl",
    "gujarati": "gu",
    "french": "fr",
}


def fold(text: str) -> str:
    """Lower case without accents: 'Núñez' -> 'nunez'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def name_words(text: str) -> tuple[str, ...]:
    """The words of a name, folded, split on anything that is not a letter or digit."""
    cleaned = "".join(c if c.isalnum() else " " for c in fold(text))
    return tuple(cleaned.split())


def language_codes(cell: str) -> set[str]:
    codes = (c.strip() for c in cell.split("|"))
    return {LANGUAGE_NAMES.get(c.lower(), c.lower()) for c in codes if c}


@dataclass(frozen=True)
class Site:
    """One roster row's place and plan: a provider at a location under a plan."""

    location_name: str  # folded
    city: str  # folded
    zip: str
    lat: float
    lon: float
    telehealth: bool
    line_of_business: str
    accepting: str
    staff_languages: frozenset[str]


@dataclass
class Provider:
    """Everything the roster says of one NPI, over all its rows."""

    npi: str
    entity_type: str
    first: str  # folded
    last: str  # folded
    organization: str  # folded
    gender: str
    primary_codes: set[str] = field(default_factory=set)  # the first taxonomy code of a row
    codes: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)  # folded
    sites: list[Site] = field(default_factory=list)

    @property
    def last_words(self) -> tuple[str, ...]:
        """The words of a compound last name ('Zúñiga-Mendoza' is also 'mendoza')."""
        return name_words(self.last)


@cache
def providers() -> dict[str, Provider]:
    """NPI -> provider, from every row of the roster (a provider's rows may differ in group,
    languages or spelling; the union is what the roster says of them)."""
    found: dict[str, Provider] = {}
    with ROSTER.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    placed = _coordinates(rows)
    for row in rows:
        provider = found.get(row["npi"])
        if provider is None:
            provider = found[row["npi"]] = Provider(
                npi=row["npi"],
                entity_type=row["entity_type"],
                first=fold(row["first_name"]),
                last=fold(row["last_name"]),
                organization=fold(row["organization_name"]),
                gender=row["gender"],
            )
        codes = [c for c in row["taxonomy_codes"].split("|") if c]
        provider.primary_codes.update(codes[:1])
        provider.codes.update(codes)
        provider.languages |= language_codes(row["languages"])
        if row["medical_group"]:
            provider.groups.add(fold(row["medical_group"]))
        provider.sites.append(
            Site(
                location_name=fold(row["location_name"]),
                city=fold(row["city"]),
                zip=row["zip"][:5],
                lat=placed[row["location_id"]][0],
                lon=placed[row["location_id"]][1],
                telehealth=row["telehealth"].upper() == "Y",
                line_of_business=row["line_of_business"],
                accepting=row["accepting_new_patients"],
                staff_languages=frozenset(language_codes(row["staff_languages"])),
            )
        )
    return found


def _coordinates(rows: list[dict]) -> dict[str, tuple[float, float]]:
    """Location ID -> where it is: its coordinates on any of its rows, else its ZIP code's
    centroid (the roster leaves some out; the directory places those by the ZIP code too)."""
    placed: dict[str, tuple[float, float]] = {}
    for row in rows:
        if row["latitude"] and row["longitude"]:
            placed.setdefault(row["location_id"], (float(row["latitude"]), float(row["longitude"])))
    for row in rows:
        if row["location_id"] not in placed:
            centre = zip_centre(row["zip"][:5])
            if centre is None:
                raise ValueError(f"roster location {row['location_id']} cannot be placed")
            placed[row["location_id"]] = centre
    return placed
