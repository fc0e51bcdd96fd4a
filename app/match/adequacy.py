"""Network adequacy for one plan: who has a PCP accepting new patients within the access
standard, and the members-per-PCP ratio against the standard."""

from dataclasses import dataclass

import numpy as np

from app.engines.base import Engine
from app.match.offers import build_table, search_offers
from app.match.rules import Rules
from app.match.scoring import ACCEPTING_CODE
from app.search.geo import great_circle_miles_to_many


@dataclass(frozen=True)
class MemberPoint:
    label: str  # member ID, or the ZIP code itself for a ZIP list
    lat: float
    lon: float


def nearest_miles(points: list[MemberPoint], lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """For each point, the distance to the nearest of these places (inf when there are none)."""
    if not len(lats):
        return np.full(len(points), np.inf)
    return np.array([great_circle_miles_to_many(p.lat, p.lon, lats, lons).min() for p in points])


def adequacy_report(
    engine: Engine,
    rules: Rules,
    plan: str,
    line_of_business: str,
    points: list[MemberPoint],
    max_distance: float | None = None,
) -> dict:
    standard = max_distance or rules.max_distance(line_of_business)
    table = build_table(
        list(search_offers(engine, plan=plan, line_of_business=line_of_business)),
        rules.default_panel_capacity,
    )
    accepting = table.accepting == ACCEPTING_CODE["accepting"]
    places = np.unique(np.stack([table.lat[accepting], table.lon[accepting]], axis=1), axis=0)
    nearest = nearest_miles(points, places[:, 0], places[:, 1])
    covered = nearest <= standard
    pcps = len(set(table.npi.tolist()))
    members = len(points)
    per_pcp = members / pcps if pcps else None
    return {
        "plan": plan,
        "line_of_business": line_of_business,
        "access_standard_miles": standard,
        "members": members,
        "covered": int(covered.sum()),
        "covered_share": round(float(covered.mean()), 4) if members else None,
        "uncovered": [
            {
                "member": point.label,
                "nearest_accepting_pcp_miles": (
                    round(float(nearest[i]), 3) if np.isfinite(nearest[i]) else None
                ),
            }
            for i, point in enumerate(points)
            if not covered[i]
        ],
        "pcps": pcps,
        "pcps_accepting": len(set(table.npi[accepting].tolist())),
        "members_per_pcp": round(per_pcp, 2) if per_pcp is not None else None,
        "ratio_standard": rules.member_to_pcp_ratio,
        "meets_ratio_standard": per_pcp is not None and per_pcp <= rules.member_to_pcp_ratio,
    }
