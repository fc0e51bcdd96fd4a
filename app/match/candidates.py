"""Member classes and their candidate arcs, scored a block of classes at a time.

Members who cannot differ in any rule or cost (same home and reach, same PCP types and age band
of the table, same preferences and relationships) form one class. Each block of classes nearby is
scored only against the offers of the plan inside a box around it that holds every offer within
reach: an offer beyond a member's maximum distance never qualifies, so nothing is lost.
"""

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from math import asin, cos, degrees, radians, sin

import numpy as np

from app.match.member import Member
from app.match.offers import OfferTable
from app.match.rules import Rules
from app.match.scoring import (
    ACCEPTING_CODE,
    evaluate_many,
    max_distance,
    pcp_bits_by_age_and_sex,
)
from app.search.geo import EARTH_RADIUS_MILES

NO_ARC = np.iinfo(np.int64).max  # the cost of an offer that does not qualify
CELL_DEGREES = 0.05  # classes are scored together by cells of this size
BLOCK_CELLS = 400_000  # at most this many class x offer pairs are scored at once


@dataclass
class MemberClasses:
    """Parallel columns, one entry per class; `members[k]` lists its members in file order."""

    members: list[list[int]]
    counts: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    limit: np.ndarray

    def __len__(self) -> int:
        return len(self.members)


@dataclass
class Arcs:
    """Candidate arcs, grouped by class and best first within it."""

    klass: np.ndarray
    offer: np.ndarray  # table row
    cost: np.ndarray
    distance: np.ndarray

    @staticmethod
    def join(parts: list["Arcs"]) -> "Arcs":
        if not parts:
            return Arcs(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.int64, float)))
        return Arcs(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))

    def without(self, classes: np.ndarray) -> "Arcs":
        keep = ~np.isin(self.klass, classes)
        return Arcs(*(getattr(self, f)[keep] for f in FIELDS))

    def by_class(self) -> "Arcs":
        order = np.argsort(self.klass, kind="stable")
        return Arcs(*(getattr(self, f)[order] for f in FIELDS))


FIELDS = ("klass", "offer", "cost", "distance")


def group_members(members: list[Member], table: OfferTable, rules: Rules) -> MemberClasses:
    """Members that the rules and costs cannot tell apart, as classes."""
    # Two ages between the same pair of age limits of the table pass the same offers.
    age_limits = np.unique(
        np.concatenate([table.age_min, table.age_max.astype(np.int64) + 1])
    ).tolist()
    pcp_bits = pcp_bits_by_age_and_sex(rules)
    classes: dict[tuple, list[int]] = {}
    for i, member in enumerate(members):
        key = (
            member.plan,
            member.line_of_business,
            member.lat,
            member.lon,
            max_distance(member, rules),
            pcp_bits(member),
            bisect_right(age_limits, member.age),
            tuple(sorted(member.languages)),
            member.gender_preference,
            member.accessibility,
            member.telehealth,
            tuple(sorted({p for p in (member.current_pcp, *member.previous_pcps) if p})),
            tuple(sorted({f.npi for f in member.family_pcps})),
        )
        classes.setdefault(key, []).append(i)
    first = [members[indexes[0]] for indexes in classes.values()]
    return MemberClasses(
        members=list(classes.values()),
        counts=np.array([len(indexes) for indexes in classes.values()], dtype=np.int64),
        lat=np.array([m.lat for m in first], dtype=np.float64),
        lon=np.array([m.lon for m in first], dtype=np.float64),
        limit=np.array([max_distance(m, rules) for m in first], dtype=np.float64),
    )


class OffersByLatitude:
    """The table's offers sorted by latitude, to find those in a box quickly."""

    def __init__(self, table: OfferTable):
        self.table = table
        self.order = np.argsort(table.lat, kind="stable")
        self.lat = table.lat[self.order]

    def within_reach(self, lat: np.ndarray, lon: np.ndarray, reach: float) -> np.ndarray:
        """Table rows of every offer within `reach` miles of some of these points (and more)."""
        # A great circle is never shorter than its change of latitude times the Earth's radius,
        # nor shorter than 2R asin(cos(lat) sin(dlon / 2)) with lat the highest of the two.
        span = reach / EARTH_RADIUS_MILES * (1 + 1e-9) + 1e-12
        low, high = float(lat.min()) - degrees(span), float(lat.max()) + degrees(span)
        rows = self.order[
            np.searchsorted(self.lat, low, side="left") : np.searchsorted(
                self.lat, high, side="right"
            )
        ]
        widest = cos(radians(min(89.0, max(abs(low), abs(high)))))
        ratio = sin(min(span / 2, np.pi / 2)) / widest
        if ratio < 1:
            half = degrees(2 * asin(ratio)) * (1 + 1e-9) + 1e-12
            lons = self.table.lon[rows]
            rows = rows[(lons >= float(lon.min()) - half) & (lons <= float(lon.max()) + half)]
        return np.sort(rows)


def score_blocks(classes: MemberClasses, which: np.ndarray) -> Iterator[tuple[np.ndarray, float]]:
    """The classes in `which`, in blocks of one cell and reach each."""
    cells = np.floor(classes.lat[which] / CELL_DEGREES) * 10_000 + np.floor(
        classes.lon[which] / CELL_DEGREES
    )
    order = np.lexsort((classes.limit[which], cells))
    which, cells = which[order], cells[order]
    limits = classes.limit[which]
    starts = np.flatnonzero(np.r_[True, (cells[1:] != cells[:-1]) | (limits[1:] != limits[:-1])])
    for start, end in zip(starts, np.r_[starts[1:], len(which)], strict=True):
        yield which[start:end], float(limits[start])


def candidate_arcs(
    members: list[Member],
    classes: MemberClasses,
    table: OfferTable,
    rules: Rules,
    which: np.ndarray,
    ceiling: np.ndarray,
    left_out: np.ndarray,
    *,
    initial: bool,
    places_per_member: int = 0,
    min_arcs: int = 1,
) -> Arcs:
    """Arcs of the classes in `which`, with `ceiling` and `left_out` (one entry per class)
    updated for them: the dearest cost kept and the cheapest left out (NO_ARC when none is;
    a ceiling of -1 when no offer qualifies at all).

    Each class keeps every qualifying offer that costs no more than its ceiling. When `initial`,
    the ceiling is first set so that the class keeps its cheapest offers, ties included, until
    there are at least `min_arcs` of them and their free places reach `places_per_member` for
    each of its members."""
    index = OffersByLatitude(table)
    # Offers no member could be given whoever they are (a full panel, or closed to newcomers
    # and to this block's existing patients and families), left out before scoring.
    closed = (table.remaining <= 0) | (table.accepting == ACCEPTING_CODE["not_accepting"])
    for_newcomers = ~closed & (table.accepting == ACCEPTING_CODE["accepting"])
    related = np.array(
        [any(_relationships(members[indexes[0]])) for indexes in classes.members], dtype=bool
    )
    parts: list[Arcs] = []
    for cell, reach in score_blocks(classes, which):
        rows = index.within_reach(classes.lat[cell], classes.lon[cell], reach)
        rows = rows[~closed[rows] if related[cell].any() else for_newcomers[rows]]
        if not len(rows):
            ceiling[cell], left_out[cell] = -1, NO_ARC
            continue
        step = max(1, BLOCK_CELLS // max(len(rows), 1))
        for start in range(0, len(cell), step):
            block = cell[start : start + step]
            evaluation = evaluate_many(
                [members[classes.members[k][0]] for k in block], table, rules, rows
            )
            cost = np.where(evaluation.eligible, evaluation.cost, NO_ARC)
            if initial:
                places = classes.counts[block] * places_per_member
                ceiling[block] = _initial_ceiling(cost, table.remaining[rows], places, min_arcs)
            kept = (cost <= ceiling[block][:, None]) & (cost != NO_ARC)
            left_out[block] = np.where(kept, NO_ARC, cost).min(axis=1, initial=NO_ARC)
            ceiling[block] = np.where(kept, cost, -1).max(axis=1, initial=-1)
            r, c = np.nonzero(kept)
            # Best first within a class: cheapest, then nearest, then a fixed order of offers.
            order = np.lexsort((table.tiebreak[rows[c]], evaluation.distance[r, c], cost[r, c], r))
            r, c = r[order], c[order]
            parts.append(Arcs(block[r], rows[c], cost[r, c], evaluation.distance[r, c]))
    return Arcs.join(parts)


def _relationships(member: Member) -> tuple:
    return (member.current_pcp, *member.previous_pcps, *member.family_pcps)


def _initial_ceiling(
    cost: np.ndarray, remaining: np.ndarray, places: np.ndarray, min_arcs: int
) -> np.ndarray:
    """Per row, the cost of the first offer in cost order where enough is kept (or the last)."""
    # Most rows have enough among their few cheapest offers: rank those first, and the whole
    # row only for the rows that do not.
    ceiling = np.full(len(cost), NO_ARC, dtype=np.int64)
    few = min(FEW_CHEAPEST, cost.shape[1])
    head = np.argpartition(cost, few - 1, axis=1)[:, :few] if few < cost.shape[1] else None
    found = _first_enough(cost, head, remaining, places, min_arcs, ceiling)
    rest = np.flatnonzero(~found)
    if len(rest) and head is not None:
        ceiling[rest] = NO_ARC
        sub = np.full(len(rest), NO_ARC, dtype=np.int64)
        _first_enough(cost[rest], None, remaining, places[rest], min_arcs, sub)
        ceiling[rest] = sub
    return ceiling


FEW_CHEAPEST = 48


def _first_enough(cost, columns, remaining, places, min_arcs, ceiling) -> np.ndarray:
    """Rank `columns` of each row (all when None) by cost; set the ceiling where enough is
    kept and return which rows that was (the rest get their dearest ranked cost)."""
    if columns is None:
        columns = np.broadcast_to(np.arange(cost.shape[1]), cost.shape)
    picked = np.take_along_axis(cost, columns, axis=1)
    order = np.argsort(picked, axis=1, kind="stable")
    ranked = np.take_along_axis(picked, order, axis=1)
    free = np.where(ranked == NO_ARC, 0, remaining[np.take_along_axis(columns, order, axis=1)])
    enough = (np.cumsum(free, axis=1) >= places[:, None]) & (
        np.arange(ranked.shape[1]) >= min_arcs - 1
    )
    found = enough.any(axis=1)
    last = np.where(found, enough.argmax(axis=1), ranked.shape[1] - 1)
    ceiling[:] = ranked[np.arange(len(ranked)), last]
    return found
