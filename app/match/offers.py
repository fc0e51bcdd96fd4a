"""PCP offers: one row per practitioner x location x plan, read from the live directory and
held as columns (numpy arrays) so a member can be scored against thousands at once."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from app.engines.base import Engine
from app.search.query import GeoFilter, SearchQuery
from app.vocab.codes import ACCEPTING, ACCESSIBILITY
from app.vocab.nucc import lookup as lookup_specialty

PCP_TYPES = ("family", "internal", "general", "geriatrics", "pediatrics", "obgyn")
PAGE = 500


@dataclass
class OfferTable:
    """Parallel columns; `rows[i]` keeps what is shown to staff for offer i."""

    rows: list[dict]
    npi: np.ndarray  # str
    lat: np.ndarray
    lon: np.ndarray
    plan: np.ndarray  # str
    line_of_business: np.ndarray  # str
    accepting: np.ndarray  # index into ACCEPTING
    age_min: np.ndarray
    age_max: np.ndarray
    pcp_types: np.ndarray  # bit i set: PCP_TYPES[i]
    gender: np.ndarray  # str ("" when unknown)
    telehealth: np.ndarray  # bool
    remaining: np.ndarray  # panel places left
    languages: np.ndarray  # bool [offer, vocabulary]
    staff_languages: np.ndarray  # bool [offer, vocabulary]
    accessibility: np.ndarray  # bool [offer, ACCESSIBILITY]
    tiebreak: np.ndarray  # rank by (NPI, location, plan): a stable order among equals
    vocabulary: dict[str, int]

    def __len__(self) -> int:
        return len(self.rows)


def pcp_type_bits(types: Iterable[str]) -> int:
    bits = 0
    for name in types:
        if name in PCP_TYPES:
            bits |= 1 << PCP_TYPES.index(name)
    return bits


def offers_of(doc: dict, location_indexes: Iterable[int] | None, plan: str | None, lob: str | None):
    """The offers of one provider document, limited to some locations and one plan."""
    types = sorted(
        {
            known.pcp_type
            for code in doc.get("specialty_codes", [])
            if (known := lookup_specialty(code)) and known.pcp_type
        }
    )
    indexes = range(len(doc["locations"])) if location_indexes is None else location_indexes
    for i in indexes:
        location = doc["locations"][i]
        for entry in location["plans"]:
            if plan is not None and entry["plan"] != plan:
                continue
            if lob is not None and entry["line_of_business"] != lob:
                continue
            yield {
                "npi": doc["npi"],
                "display_name": doc["display_name"],
                "credentials": doc.get("credentials"),
                "gender": doc.get("gender") or "",
                "pcp_types": types,
                "age_min": doc.get("age_min", 0),
                "age_max": doc.get("age_max", 120),
                "languages": doc.get("languages", []),
                "medical_group": doc.get("medical_group"),
                "location": location,
                "plan": entry,
            }


def build_table(offers: list[dict], default_capacity: int) -> OfferTable:
    vocabulary: dict[str, int] = {}
    for offer in offers:
        for code in (*offer["languages"], *offer["location"].get("staff_languages", [])):
            vocabulary.setdefault(code, len(vocabulary))
    n, v = len(offers), max(len(vocabulary), 1)
    spoken = np.zeros((n, v), dtype=bool)
    staff = np.zeros((n, v), dtype=bool)
    access = np.zeros((n, len(ACCESSIBILITY)), dtype=bool)
    for i, offer in enumerate(offers):
        spoken[i, [vocabulary[c] for c in offer["languages"]]] = True
        staff[i, [vocabulary[c] for c in offer["location"].get("staff_languages", [])]] = True
        access[i, [ACCESSIBILITY.index(a) for a in offer["location"].get("accessibility", [])]] = (
            True
        )

    def column(values, dtype):
        return np.fromiter(values, dtype=dtype, count=n)

    capacity = [
        (
            o["plan"].get("panel_capacity")
            if o["plan"].get("panel_capacity") is not None
            else default_capacity
        )
        - (o["plan"].get("panel_members") or 0)
        for o in offers
    ]
    by_identity = sorted(
        range(n),
        key=lambda i: (
            offers[i]["npi"],
            offers[i]["location"]["location_id"],
            offers[i]["plan"]["plan"],
        ),
    )
    tiebreak = np.empty(n, dtype=np.int64)
    tiebreak[by_identity] = np.arange(n)
    return OfferTable(
        rows=offers,
        tiebreak=tiebreak,
        npi=np.array([o["npi"] for o in offers], dtype=object),
        lat=column((o["location"]["lat"] for o in offers), np.float64),
        lon=column((o["location"]["lon"] for o in offers), np.float64),
        plan=np.array([o["plan"]["plan"] for o in offers], dtype=object),
        line_of_business=np.array([o["plan"]["line_of_business"] for o in offers], dtype=object),
        accepting=column((ACCEPTING.index(o["plan"]["accepting"]) for o in offers), np.int8),
        age_min=column((o["age_min"] for o in offers), np.int16),
        age_max=column((o["age_max"] for o in offers), np.int16),
        pcp_types=column((pcp_type_bits(o["pcp_types"]) for o in offers), np.int16),
        gender=np.array([o["gender"] for o in offers], dtype=object),
        telehealth=column((bool(o["location"].get("telehealth")) for o in offers), bool),
        remaining=np.array(capacity, dtype=np.int64),
        languages=spoken,
        staff_languages=staff,
        accessibility=access,
        vocabulary=vocabulary,
    )


def search_offers(
    engine: Engine,
    *,
    plan: str | None,
    line_of_business: str | None,
    near: tuple[float, float] | None = None,
    radius: float | None = None,
) -> Iterator[dict]:
    """Every PCP offer in the live directory in this plan (and near this point), paged."""
    query = SearchQuery(
        pcp=True,
        entity_types=("practitioner",),
        plans=(plan,) if plan else (),
        lines_of_business=(line_of_business,) if line_of_business else (),
        geo=GeoFilter(near[0], near[1], radius) if near else None,
        sort="distance" if near else "name",
        limit=PAGE,
        facets=(),
    )
    while True:
        result = engine.search(query)
        for hit in result.hits:
            yield from offers_of(hit.doc, hit.matched_locations, plan, line_of_business)
        if not result.more or not result.hits:
            return
        query = SearchQuery(**{**query.__dict__, "after": tuple(result.hits[-1].sort)})
