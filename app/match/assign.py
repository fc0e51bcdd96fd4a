"""Many members: capacity-aware auto-assignment at the lowest total cost, as a min-cost flow.

Members the rules cannot tell apart are one node carrying their count (app/match/candidates.py).
Each class is first joined only to its cheapest qualifying offers, enough to seat it twice over;
the network is solved, and the potentials of its solution (app/match/flow.py) then show, for
every class, how cheap a left-out offer would have to be to lower the total. A class whose
cheapest left-out offer could be that cheap gets every offer up to that cost, and the network is
solved again; when no class can gain, no left-out arc can lower the total (the potentials stay
valid with all of them added), so the answer is optimal over all qualifying offers.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.match.candidates import NO_ARC, Arcs, MemberClasses, candidate_arcs, group_members
from app.match.explain import reasons_at
from app.match.flow import UNASSIGNED_COST, Flow, solve_flow
from app.match.member import Member
from app.match.offers import OfferTable
from app.match.rules import Rules
from app.match.scoring import HARD_RULES, Evaluation, evaluate, max_distance

# The first network: each class's cheapest offers until their places seat it this many times
# over, and at least this many offers (so a class has somewhere to go if its first fills up).
PLACES_PER_MEMBER = 2
MIN_ARCS = 3
BLOCKED_WORDS = {
    "plan": "no PCP in the member's plan and line of business qualifies",
    "accepting": "the PCPs within reach are not accepting new patients",
    "age": "the PCPs within reach do not see patients of this age",
    "capacity": "every qualifying PCP's panel is full",
    "distance": "no PCP in the member's plan is within reach",
}


@dataclass
class Outcome:
    """What one member got: an offer (row of the table) or the rule that blocked them."""

    offer: int | None = None
    cost: int | None = None
    distance: float | None = None
    reasons: list[str] = field(default_factory=list)
    rule: str | None = None
    reason: str | None = None


def blocking_rule(member: Member, evaluation: Evaluation, limit: float) -> tuple[str, str]:
    """The rule that keeps a member from every offer, judged on the offers within reach."""
    near = np.flatnonzero(evaluation.passes["distance"])
    if not len(near):
        return "distance", f"no PCP in the member's plan within {limit:g} miles"
    first = Counter(
        next(rule for rule in HARD_RULES if not evaluation.passes[rule][p]) for p in near
    )
    rule = first.most_common(1)[0][0]
    return rule, f"{BLOCKED_WORDS[rule]} (within {limit:g} miles)"


def solve(
    members: list[Member],
    table: OfferTable,
    rules: Rules,
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Assign members (all of one plan and line of business) to offers of this table."""
    outcomes = [Outcome() for _ in members]
    classes = group_members(members, table, rules)
    everyone = np.arange(len(classes))
    ceiling = np.full(len(classes), -1, dtype=np.int64)
    left_out = np.full(len(classes), NO_ARC, dtype=np.int64)
    arcs = candidate_arcs(
        members,
        classes,
        table,
        rules,
        everyone,
        ceiling,
        left_out,
        initial=True,
        places_per_member=PLACES_PER_MEMBER,
        min_arcs=MIN_ARCS,
    )
    if progress is not None:
        progress(len(members))
    flow = _solve(arcs, classes, table) if len(arcs.klass) else None
    while flow is not None:
        gain = _could_gain(flow, left_out)
        if not len(gain):
            break
        # Every offer that could lower the total costs less than the class's distance.
        ceiling[gain] = flow.class_distance[gain] - 1
        more = candidate_arcs(
            members, classes, table, rules, gain, ceiling, left_out, initial=False
        )
        arcs = Arcs.join([arcs.without(gain), more]).by_class()
        flow = _solve(arcs, classes, table)
    _hand_out(classes, arcs, flow, outcomes)
    for k in np.flatnonzero(ceiling < 0):
        member = members[classes.members[k][0]]
        limit = max_distance(member, rules)
        rule, reason = blocking_rule(member, evaluate(member, table, rules), limit)
        for i in classes.members[k]:
            outcomes[i].rule, outcomes[i].reason = rule, reason
    for member, outcome in zip(members, outcomes, strict=True):
        if outcome.offer is not None:
            outcome.reasons = reasons_at(member, table.rows[outcome.offer], outcome.distance)
    return outcomes


def _solve(arcs: Arcs, classes: MemberClasses, table: OfferTable) -> Flow:
    return solve_flow(arcs.klass, arcs.offer, arcs.cost, classes.counts, table.remaining)


def _could_gain(flow: Flow, left_out: np.ndarray) -> np.ndarray:
    """Classes with a left-out offer cheaper than the class's own distance to the sink. Offers'
    distances are never below 0 (see app/match/flow.py), so no other left-out arc can lower the
    total: its cost plus its offer's distance is at least the class's distance."""
    has_more = left_out != NO_ARC
    return np.flatnonzero(has_more & (left_out < flow.class_distance))


def _hand_out(
    classes: MemberClasses, arcs: Arcs, flow: Flow | None, outcomes: list[Outcome]
) -> None:
    """Give each class's members the places its arcs carry, best arc first, in file order."""
    waiting = [iter(indexes) for indexes in classes.members]
    if flow is not None:
        for a in np.flatnonzero(flow.flows):
            who = waiting[arcs.klass[a]]
            for _ in range(int(flow.flows[a])):
                outcomes[next(who)] = Outcome(
                    offer=int(arcs.offer[a]),
                    cost=int(arcs.cost[a]),
                    distance=float(arcs.distance[a]),
                )
    for k in np.unique(arcs.klass):
        limit = classes.limit[k]
        for i in waiting[k]:
            outcomes[i].rule = "capacity"
            outcomes[i].reason = f"{BLOCKED_WORDS['capacity']} (within {limit:g} miles)"


def total_cost(outcomes: list[Outcome]) -> int:
    """The objective: costs of the assignments plus a heavy price for each member left out."""
    return sum(o.cost if o.offer is not None else UNASSIGNED_COST for o in outcomes)
