"""Hard rules and soft preferences of one member against many offers, as numpy columns.

One implementation serves the single-member ranking and the batch assignment, so both give the
same answer. Distances are great-circle miles, the same figure the search API shows.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.match.member import Member
from app.match.offers import PCP_TYPES, OfferTable, pcp_type_bits
from app.match.rules import PREFERENCES, Rules
from app.search.geo import great_circle_miles_to_many
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
    possible: float | np.ndarray  # the most points this member's preferences can earn

    @property
    def eligible(self) -> np.ndarray:
        ok = np.ones(self.distance.shape, dtype=bool)
        for rule in HARD_RULES:
            ok &= self.passes[rule]
        return ok

    @property
    def earned(self) -> np.ndarray:
        # Preferences nobody here holds earn a row of zeros; adding 0.0 changes no sum, so
        # they are left out.
        return sum(
            (v for v in self.points.values() if v.ndim == 1 or len(v) > 1 or v.any()),
            np.zeros(len(self.idx)),
        )

    @property
    def cost(self) -> np.ndarray:
        """Points missed, in hundredths (integers, never negative)."""
        missed = np.maximum(self.possible - self.earned, 0.0)
        return np.rint(missed * COST_SCALE).astype(np.int64)

    def failed(self, position: int) -> list[str]:
        return [rule for rule in HARD_RULES if not self.passes[rule][position]]


def allowed_pcp_bits(member: Member, rules: Rules) -> int:
    types = set(rules.pcp_types_for(member.age))
    if "obgyn" in types and not (
        member.sex in rules.obgyn_sexes and member.age >= rules.obgyn_from_age
    ):
        types.discard("obgyn")
    return pcp_type_bits(t for t in types if t in PCP_TYPES)


def pcp_bits_by_age_and_sex(rules: Rules) -> Callable[[Member], int]:
    """allowed_pcp_bits, worked out once per age and sex."""
    known: dict[tuple, int] = {}

    def bits(member: Member) -> int:
        key = (member.age, member.sex)
        if key not in known:
            known[key] = allowed_pcp_bits(member, rules)
        return known[key]

    return bits


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
    many = evaluate_many([member], table, rules, idx, radius=radius)
    return Evaluation(
        idx=many.idx,
        distance=many.distance[0],
        passes={rule: values[0] for rule, values in many.passes.items()},
        points={
            name: np.broadcast_to(values, many.distance.shape)[0]
            for name, values in many.points.items()
        },
        possible=float(many.possible[0, 0]),
    )


def evaluate_many(
    members: list[Member],
    table: OfferTable,
    rules: Rules,
    idx: np.ndarray | None = None,
    *,
    radius: float | None = None,
) -> Evaluation:
    """Score several members at once against the same table rows: every column of the result is
    a matrix, one row per member, and `possible` a column. Each element is computed exactly as
    for one member alone, so batch and single-member answers agree to the last digit."""
    if idx is None:
        idx = np.arange(len(table))
    n = len(members)
    column = np.empty((n, 1))
    limit = column.copy()
    lat, lon = column.copy(), column.copy()
    for r, member in enumerate(members):
        limit[r] = radius if radius is not None else max_distance(member, rules)
        lat[r], lon[r] = member.lat, member.lon
    distance = great_circle_miles_to_many(
        lat, lon, table.lat[idx][None, :], table.lon[idx][None, :]
    )
    npi = table.npi[idx]
    known = np.zeros(distance.shape, dtype=bool)
    family = np.zeros(distance.shape, dtype=bool)
    for r, member in enumerate(members):
        ids = [p for p in (member.current_pcp, *member.previous_pcps) if p]
        if ids:
            known[r] = np.isin(npi, ids)
        if member.family_pcps:
            family[r] = np.isin(npi, [f.npi for f in member.family_pcps])
    accepting = table.accepting[idx][None, :]
    pcp_bits = pcp_bits_by_age_and_sex(rules)
    passes = {
        "plan": _per_member(
            members,
            lambda m: (m.plan, m.line_of_business),
            lambda key: (table.plan[idx] == key[0]) & (table.line_of_business[idx] == key[1]),
        ),
        "accepting": (accepting == ACCEPTING_CODE["accepting"])
        | ((accepting == ACCEPTING_CODE["existing_only"]) & known)
        | ((accepting == ACCEPTING_CODE["existing_family"]) & (known | family)),
        "age": _per_member(
            members,
            lambda m: (m.age, pcp_bits(m)),
            lambda key: (
                (table.age_min[idx] <= key[0])
                & (key[0] <= table.age_max[idx])
                & ((table.pcp_types[idx] & key[1]) != 0)
            ),
        ),
        "capacity": (table.remaining[idx] > 0)[None, :],
        "distance": distance <= limit,
    }

    weights = rules.points
    zeros = np.zeros((1, len(idx)))
    points = {name: zeros for name in PREFERENCES}
    possible = column.copy()
    for r, member in enumerate(members):
        possible[r] = _possible(member, weights)
    points["distance"] = weights["distance"] * np.clip(1.0 - distance / limit, 0.0, 1.0)
    if any(m.current_pcp or m.previous_pcps for m in members):
        points["continuity"] = np.where(known, weights["continuity"], 0.0)
    if any(m.family_pcps for m in members):
        points["family"] = np.where(family, weights["family"], 0.0)
    if any(m.languages for m in members):
        spoken = _per_member(members, lambda m: m.languages, lambda key: _speaks(table, idx, key))
        points["language"] = np.where(spoken == SPEAKS, weights["language"], 0.0)
        points["staff_language"] = np.where(spoken == STAFF_SPEAKS, weights["staff_language"], 0.0)
    if any(m.gender_preference for m in members):
        points["gender"] = _per_member(
            members,
            lambda m: m.gender_preference,
            lambda key: (
                np.where(table.gender[idx] == key, weights["gender"], 0.0)
                if key
                else np.zeros(len(idx))
            ),
        )
    if any(m.accessibility for m in members):
        points["accessibility"] = _per_member(
            members,
            lambda m: m.accessibility,
            lambda key: (
                weights["accessibility"]
                * table.accessibility[idx][:, [ACCESSIBILITY.index(a) for a in key]].mean(axis=1)
                if key
                else np.zeros(len(idx))
            ),
        )
    if any(m.telehealth for m in members):
        points["telehealth"] = _per_member(
            members,
            lambda m: m.telehealth,
            lambda key: (
                np.where(table.telehealth[idx], weights["telehealth"], 0.0)
                if key
                else np.zeros(len(idx))
            ),
        )
    return Evaluation(idx=idx, distance=distance, passes=passes, points=points, possible=possible)


# What a member's languages earn at an offer: nothing, the PCP speaks one, or only the staff do.
NEITHER, SPEAKS, STAFF_SPEAKS = 0, 1, 2


def _speaks(table: OfferTable, idx: np.ndarray, languages: tuple[str, ...]) -> np.ndarray:
    asked = dict.fromkeys(t for code in languages for t in matching_tags(code))
    wanted = [table.vocabulary[c] for c in asked if c in table.vocabulary]
    if not languages or not wanted:
        return np.full(len(idx), NEITHER, dtype=np.int8)
    speaks = table.languages[idx][:, wanted].any(axis=1)
    staff = table.staff_languages[idx][:, wanted].any(axis=1)
    return np.where(speaks, SPEAKS, np.where(staff, STAFF_SPEAKS, NEITHER)).astype(np.int8)


def _possible(member: Member, weights: dict[str, float]) -> float:
    """The most points this member's preferences can earn (summed in one fixed order)."""
    possible = weights["distance"]
    if member.current_pcp or member.previous_pcps:
        possible += weights["continuity"]
    if member.family_pcps:
        possible += weights["family"]
    if member.languages:
        possible += weights["language"]
    if member.gender_preference:
        possible += weights["gender"]
    if member.accessibility:
        possible += weights["accessibility"]
    if member.telehealth:
        possible += weights["telehealth"]
    return possible


def _per_member(members: list[Member], key, values) -> np.ndarray:
    """One row per member of values(key(member)), computed once per distinct key."""
    keys = [key(m) for m in members]
    distinct = dict.fromkeys(keys)
    if len(distinct) == 1:
        return values(keys[0])[None, :]
    for k in distinct:
        distinct[k] = values(k)
    return np.stack([distinct[k] for k in keys])


def ranked(evaluation: Evaluation, table: OfferTable, mask: np.ndarray) -> np.ndarray:
    """Positions (into the evaluation) where mask holds, best first: lowest cost, then nearest,
    then NPI and location, so equal candidates always come in the same order."""
    positions = np.flatnonzero(mask)
    rows = evaluation.idx[positions]
    order = np.lexsort(
        (table.tiebreak[rows], evaluation.distance[positions], evaluation.cost[positions])
    )
    return positions[order]
