"""One member: the PCPs they can choose, best first, or why nobody qualifies."""

from collections import Counter

import numpy as np

from app.engines.base import Engine
from app.match.explain import present_candidate, present_excluded
from app.match.member import Member
from app.match.offers import build_table, search_offers
from app.match.rules import Rules
from app.match.scoring import HARD_RULES, evaluate, max_distance, ranked

NEAREST_SHOWN = 5
RULE_WORDS = {
    "plan": "they are not in the member's plan and line of business there",
    "accepting": "they are not accepting new patients there",
    "age": "they do not see patients of the member's age",
    "capacity": "their panels are full",
    "distance": "they are too far away",
}


def match_member(engine: Engine, member: Member, rules: Rules, choices: int) -> dict:
    limit = max_distance(member, rules)
    near = (member.lat, member.lon)
    offers = list(
        search_offers(
            engine,
            plan=member.plan,
            line_of_business=member.line_of_business,
            near=near,
            radius=limit,
        )
    )
    table = build_table(offers, rules.default_panel_capacity)
    evaluation = evaluate(member, table, rules)
    order = ranked(evaluation, table, evaluation.eligible)
    body = {
        "rules_version": rules.version,
        "max_distance_miles": limit,
        "qualifying": len(order),
        "candidates": [
            present_candidate(member, table, evaluation, position, rank)
            for rank, position in enumerate(order[:choices], start=1)
        ],
    }
    if not len(order):
        body["nobody_qualifies"] = explain_nobody(engine, member, rules, limit, table, evaluation)
    return body


def explain_nobody(engine, member, rules, limit, table, evaluation) -> dict:
    """The rules that exclude the nearest PCPs, and who would qualify further out."""
    nearest_table, nearest_eval = table, evaluation
    if not len(table):
        # Nobody in the plan nearby: show the nearest PCPs of any plan, to say so.
        offers = []
        for offer in search_offers(
            engine, plan=None, line_of_business=None, near=(member.lat, member.lon), radius=limit
        ):
            offers.append(offer)
            if len(offers) >= 200:
                break
        nearest_table = build_table(offers, rules.default_panel_capacity)
        nearest_eval = evaluate(member, nearest_table, rules)
    by_distance = np.lexsort((nearest_table.tiebreak[nearest_eval.idx], nearest_eval.distance))
    nearest = [
        present_excluded(member, nearest_table, nearest_eval, int(p), limit)
        for p in by_distance[:NEAREST_SHOWN]
    ]
    first_rules = Counter(
        next(r for r in HARD_RULES if not nearest_eval.passes[r][p])
        for p in by_distance[:NEAREST_SHOWN]
    )
    widened_to = max(rules.widen_max_miles, limit)
    wide_offers = list(
        search_offers(
            engine,
            plan=member.plan,
            line_of_business=member.line_of_business,
            near=(member.lat, member.lon),
            radius=widened_to,
        )
    )
    wide_table = build_table(wide_offers, rules.default_panel_capacity)
    wide_eval = evaluate(member, wide_table, rules, radius=widened_to)
    wide_positions = np.flatnonzero(wide_eval.eligible)
    wide_positions = wide_positions[
        np.lexsort(
            (wide_table.tiebreak[wide_eval.idx[wide_positions]], wide_eval.distance[wide_positions])
        )
    ][: rules.widen_show]
    widened = [
        present_candidate(member, wide_table, wide_eval, int(p), rank)
        for rank, p in enumerate(wide_positions, start=1)
    ]
    if nearest:
        rule = first_rules.most_common(1)[0][0]
        message = (
            f"Nobody qualifies within {limit:g} miles: the nearest PCPs are excluded because "
            f"{RULE_WORDS[rule]}."
        )
    else:
        rule = "distance"
        message = f"No PCP practises within {limit:g} miles of the member's home."
    if widened:
        message += (
            f" {len(widened)} would qualify within {widened[-1]['distance_miles']:.1f} miles"
            " if the member accepts a longer trip."
        )
    else:
        message += f" None would qualify within {widened_to:g} miles either."
    return {
        "rule": rule,
        "message": message,
        "nearest": nearest,
        "widened_radius_miles": widened_to,
        "if_widened": widened,
    }
