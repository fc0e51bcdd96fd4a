"""Hard rules and soft preferences of one member against many offers, as numpy columns.

One implementation serves the single-member ranking and the batch assignment, so both give the
same answer. Distances are great-circle miles, the same figure the search API shows.
"""

from dataclasses import dataclass

import numpy as np

from app.match.member import Member
from app.match.offers import PCP_TYPES, OfferTable, pcp_type_bits
from app.match.rules import PREFERENCES, Rules
from app.search.geo import EARTH_RADIUS_MILES
from app.vocab.codes import ACCEPTING, ACCESSIBILITY
from app.vocab.languages import matching_tags

# Hard rules, in the order they are explained.
HARD_RULES = ("plan", "accepting", "age", "capacity", "distance")
COST_SCALE = 100  # costs are whole hundredths of a point, for an integer solver
ACCEPTING_CODE = {name: ACCEPTING.index(name) for name in ACCEPTING}
OBGYN_BIT = pcp_type_bits(["obgyn"])


@dataclass
class Evaluation:
    """Member x offers[idx]: rule outcomes, preference points and the cost to minimise."""

    idx: np.ndarray
    distance: np.ndarray
    passes: dict[str, np.ndarray]  # rule -> bool per offer
    points: dict[str, np.ndarray]  # preference -> points earned per offer
    possible: float  # the most points this member's preferences can earn

    @property
    def eligible(self) -> np.ndarray:
        ok = np.ones(len(self.idx), dtype=bool)
        for rule in HARD_RULES:
            ok &= self.passes[rule]
        return ok

    @property
    def earned(self) -> np.ndarray:
        return sum(self.points.values(), np.zeros(len(self.idx)))

    @property
    def cost(self) -> np.ndarray:
        """Points missed, in hundredths (integers, never negative)."""
        missed = np.maximum(self.possible - self.earned, 0.0)
        return np.rint(missed * COST_SCALE).astype(np.int64)

    def failed(self, position: int) -> list[str]:
        return [rule for rule in HARD_RULES if not self.passes[rule][position]]


def great_circle_miles(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Haversine miles from one point to many (the radius the search engines use)."""
    phi1, phi2 = np.radians(lat), np.radians(lats)
    dphi = phi2 - phi1
    dlmb = np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def allowed_pcp_bits(member: Member, rules: Rules) -> int:
    types = set(rules.pcp_types_for(member.age))
    if "obgyn" in types and not (
        member.sex in rules.obgyn_sexes and member.age >= rules.obgyn_from_age
    ):
        types.discard("obgyn")
    return pcp_type_bits(t for t in types if t in PCP_TYPES)


def max_distance(member: Member, rules: Rules) -> float:
    return member.max_distance or rules.max_distance(member.line_of_business)


def evaluate(
    member: Member,
    table: OfferTable,
    rules: Rules,
    idx: np.ndarray | None = None,
    *,
    radius: float | None = None,
) -> Evaluation:
    """Score the member against table rows idx (all rows when None). `radius` overrides the
    member's maximum distance (used to look further out when nobody qualifies)."""
    if idx is None:
        idx = np.arange(len(table))
    limit = radius if radius is not None else max_distance(member, rules)
    distance = great_circle_miles(member.lat, member.lon, table.lat[idx], table.lon[idx])
    npi = table.npi[idx]

    known = np.isin(npi, [p for p in (member.current_pcp, *member.previous_pcps) if p])
    family = np.isin(npi, [f.npi for f in member.family_pcps])
    accepting = table.accepting[idx]
    passes = {
        "plan": (table.plan[idx] == member.plan)
        & (table.line_of_business[idx] == member.line_of_business),
        "accepting": (accepting == ACCEPTING_CODE["accepting"])
        | ((accepting == ACCEPTING_CODE["existing_only"]) & known)
        | ((accepting == ACCEPTING_CODE["existing_family"]) & (known | family)),
        "age": (table.age_min[idx] <= member.age)
        & (member.age <= table.age_max[idx])
        & ((table.pcp_types[idx] & allowed_pcp_bits(member, rules)) != 0),
        "capacity": table.remaining[idx] > 0,
        "distance": distance <= limit,
    }

    weights = rules.points
    zeros = np.zeros(len(idx))
    points = {name: zeros for name in PREFERENCES}
    possible = weights["distance"]
    points["distance"] = weights["distance"] * np.clip(1.0 - distance / limit, 0.0, 1.0)
    if member.current_pcp or member.previous_pcps:
        possible += weights["continuity"]
        points["continuity"] = np.where(known, weights["continuity"], 0.0)
    if member.family_pcps:
        possible += weights["family"]
        points["family"] = np.where(family, weights["family"], 0.0)
    asked = dict.fromkeys(t for code in member.languages for t in matching_tags(code))
    wanted = [table.vocabulary[c] for c in asked if c in table.vocabulary]
    if member.languages:
        possible += weights["language"]
        speaks = table.languages[idx][:, wanted].any(axis=1) if wanted else zeros.astype(bool)
        staff = table.staff_languages[idx][:, wanted].any(axis=1) if wanted else speaks
        points["language"] = np.where(speaks, weights["language"], 0.0)
        points["staff_language"] = np.where(~speaks & staff, weights["staff_language"], 0.0)
    if member.gender_preference:
        possible += weights["gender"]
        points["gender"] = np.where(
            table.gender[idx] == member.gender_preference, weights["gender"], 0.0
        )
    if member.accessibility:
        possible += weights["accessibility"]
        needs = [ACCESSIBILITY.index(a) for a in member.accessibility]
        points["accessibility"] = weights["accessibility"] * table.accessibility[idx][
            :, needs
        ].mean(axis=1)
    if member.telehealth:
        possible += weights["telehealth"]
        points["telehealth"] = np.where(table.telehealth[idx], weights["telehealth"], 0.0)
    return Evaluation(idx=idx, distance=distance, passes=passes, points=points, possible=possible)


def ranked(evaluation: Evaluation, table: OfferTable, mask: np.ndarray) -> np.ndarray:
    """Positions (into the evaluation) where mask holds, best first: lowest cost, then nearest,
    then NPI and location, so equal candidates always come in the same order."""
    positions = np.flatnonzero(mask)
    rows = evaluation.idx[positions]
    order = np.lexsort(
        (table.tiebreak[rows], evaluation.distance[positions], evaluation.cost[positions])
    )
    return positions[order]
