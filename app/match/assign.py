"""Many members: capacity-aware auto-assignment at the lowest total cost, as a min-cost flow.

Members with the same profile (same home point, plan, age, preferences…) are one node carrying
their count, so a ZIP-level file solves as a much smaller graph. Each member node is joined only to
its cheapest qualifying offers, in cost order, until their remaining panel places add up to the
number of members being assigned: some optimal assignment never needs a dearer offer (were a member
there, one of the cheaper offers would still have a free place, and moving the member to it costs
no more), so the solution is optimal over all qualifying offers, not just the ones kept.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from app.match.explain import reasons as reasons_for
from app.match.member import Member
from app.match.offers import OfferTable
from app.match.rules import Rules
from app.match.scoring import HARD_RULES, Evaluation, evaluate, max_distance, ranked

# Leaving a member unassigned costs more than any assignment could, so the solver assigns
# everyone it can before it weighs preferences.
UNASSIGNED_COST = 10**9
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
    classes: dict[tuple, list[int]] = {}
    for i, member in enumerate(members):
        classes.setdefault(member.profile(), []).append(i)
    total = len(members)

    # Per member class, only its kept arcs: offer rows, costs and distances, in cost order.
    kept: list[tuple[list[int], np.ndarray, np.ndarray, np.ndarray]] = []
    done = 0
    for member_indexes in classes.values():
        member = members[member_indexes[0]]
        evaluation = evaluate(member, table, rules)
        order = ranked(evaluation, table, evaluation.eligible)
        done += len(member_indexes)
        if not len(order):
            rule, reason = blocking_rule(member, evaluation, max_distance(member, rules))
            for i in member_indexes:
                outcomes[i].rule, outcomes[i].reason = rule, reason
        else:
            places = np.cumsum(table.remaining[evaluation.idx[order]])
            keep = order[: int(np.searchsorted(places, total)) + 1]
            kept.append(
                (
                    member_indexes,
                    evaluation.idx[keep],
                    evaluation.cost[keep],
                    evaluation.distance[keep],
                )
            )
        if progress is not None:
            progress(done)
    if not kept:
        return outcomes

    flows = _min_cost_flow(kept, table)
    start = 0
    for member_indexes, rows, costs, distances in kept:
        arc_flows = flows[start : start + len(rows)]
        start += len(rows)
        waiting = iter(member_indexes)
        for row, cost, distance, amount in zip(rows, costs, distances, arc_flows, strict=True):
            for _ in range(int(amount)):
                i = next(waiting)
                outcomes[i] = Outcome(offer=int(row), cost=int(cost), distance=float(distance))
        limit = max_distance(members[member_indexes[0]], rules)
        for i in waiting:
            outcomes[i].rule = "capacity"
            outcomes[i].reason = f"{BLOCKED_WORDS['capacity']} (within {limit:g} miles)"
    for member, outcome in zip(members, outcomes, strict=True):
        if outcome.offer is not None:
            one = evaluate(member, table, rules, np.array([outcome.offer]))
            outcome.reasons = reasons_for(member, table.rows[outcome.offer], one, 0)
    return outcomes


def _min_cost_flow(kept, table: OfferTable) -> np.ndarray:
    """Solve members -> offers -> sink; returns the flow on each member arc, in `kept` order.
    Nodes: member classes, then offers (by table row), then the sink."""
    n_classes = len(kept)
    offer_base = n_classes
    sink = offer_base + len(table)
    counts = np.array([len(m) for m, _, _, _ in kept], dtype=np.int64)
    tails = np.repeat(np.arange(n_classes, dtype=np.int64), [len(r) for _, r, _, _ in kept])
    heads = np.concatenate([r for _, r, _, _ in kept]).astype(np.int64)
    capacities = np.minimum(
        table.remaining[heads], np.repeat(counts, [len(r) for _, r, _, _ in kept])
    )
    costs = np.concatenate([c for _, _, c, _ in kept]).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    member_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails, heads + offer_base, capacities, costs
    )
    used_rows = np.unique(heads)
    flow.add_arcs_with_capacity_and_unit_cost(
        used_rows + offer_base,
        np.full(len(used_rows), sink, dtype=np.int64),
        table.remaining[used_rows],
        np.zeros(len(used_rows), dtype=np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(n_classes, dtype=np.int64),
        np.full(n_classes, sink, dtype=np.int64),
        counts,
        np.full(n_classes, UNASSIGNED_COST, dtype=np.int64),
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_classes] = counts
    supplies[sink] = -counts.sum()
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"the assignment solver stopped with status {status}")
    return flow.flows(member_arcs)


def total_cost(outcomes: list[Outcome]) -> int:
    """The objective: costs of the assignments plus a heavy price for each member left out."""
    return sum(o.cost if o.offer is not None else UNASSIGNED_COST for o in outcomes)
