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

    tails, heads, capacities, costs = [], [], [], []
    class_nodes: list[tuple[list[int], Evaluation, np.ndarray]] = []
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
            node = len(class_nodes)
            class_nodes.append((member_indexes, evaluation, keep))
            count = len(member_indexes)
            rows = evaluation.idx[keep]
            tails.append(np.full(len(keep), node, dtype=np.int64))
            heads.append(rows)
            capacities.append(np.minimum(table.remaining[rows], count))
            costs.append(evaluation.cost[keep])
        if progress is not None:
            progress(done)
    if not class_nodes:
        return outcomes

    # Nodes: member classes, then offers (by table row), then the sink.
    n_classes = len(class_nodes)
    offer_base = n_classes
    sink = offer_base + len(table)
    counts = np.array([len(m) for m, _, _ in class_nodes], dtype=np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    member_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails),
        np.concatenate(heads) + offer_base,
        np.concatenate(capacities),
        np.concatenate(costs),
    )
    used_rows = np.unique(np.concatenate(heads))
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

    flows = flow.flows(member_arcs)
    start = 0
    for member_indexes, evaluation, keep in class_nodes:
        arc_flows = flows[start : start + len(keep)]
        start += len(keep)
        waiting = iter(member_indexes)
        for position, amount in zip(keep, arc_flows, strict=True):
            for _ in range(int(amount)):
                i = next(waiting)
                row = int(evaluation.idx[position])
                outcomes[i] = Outcome(
                    offer=row,
                    cost=int(evaluation.cost[position]),
                    distance=float(evaluation.distance[position]),
                    reasons=reasons_for(members[i], table.rows[row], evaluation, position),
                )
        limit = max_distance(members[member_indexes[0]], rules)
        for i in waiting:
            outcomes[i].rule = "capacity"
            outcomes[i].reason = f"{BLOCKED_WORDS['capacity']} (within {limit:g} miles)"
    return outcomes


def total_cost(outcomes: list[Outcome]) -> int:
    """The objective: costs of the assignments plus a heavy price for each member left out."""
    return sum(o.cost if o.offer is not None else UNASSIGNED_COST for o in outcomes)
