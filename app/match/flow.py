"""The min-cost flow of a batch assignment, and the node potentials that prove it optimal.

Nodes: member classes, then the offers some arc reaches, then one sink. Every class may also
send members straight to the sink at UNASSIGNED_COST, so a solution always exists.
"""

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

# Leaving a member unassigned costs more than any assignment could, so the solver assigns
# everyone it can before it weighs preferences.
UNASSIGNED_COST = 10**9
FAR = np.int64(2**60)  # a distance to the sink not yet known


@dataclass
class Flow:
    """A solved network: flow on each class -> offer arc, and each node's cheapest way out."""

    flows: np.ndarray  # per arc
    capacity: np.ndarray  # per arc
    offers: np.ndarray  # table row of each offer node
    offer_of_arc: np.ndarray  # offer node of each arc
    class_distance: np.ndarray  # per class: cost of its cheapest residual path to the sink
    offer_distance: np.ndarray  # per offer node: the same


def solve_flow(
    klass: np.ndarray,
    offer: np.ndarray,
    cost: np.ndarray,
    counts: np.ndarray,
    remaining: np.ndarray,
) -> Flow:
    """Solve classes -> offers (table rows, with `remaining` places each) -> sink."""
    n_classes = len(counts)
    offers, offer_of_arc = np.unique(offer, return_inverse=True)
    sink = n_classes + len(offers)
    capacity = np.minimum(remaining[offer], counts[klass])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        klass, offer_of_arc + n_classes, capacity, cost
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(len(offers), dtype=np.int64) + n_classes,
        np.full(len(offers), sink, dtype=np.int64),
        remaining[offers],
        np.zeros(len(offers), dtype=np.int64),
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
    flows = flow.flows(arcs)
    class_distance, offer_distance = _distances_to_sink(
        klass, offer_of_arc, cost, capacity, flows, counts, remaining[offers]
    )
    return Flow(flows, capacity, offers, offer_of_arc, class_distance, offer_distance)


def _distances_to_sink(klass, offer, cost, capacity, flows, counts, places):
    """Cheapest path from each node to the sink in the residual network (Bellman-Ford).

    These are potentials of the optimal flow: an arc class -> offer that the network left out
    could lower the total only if its cost plus the offer's distance is below the class's. No
    offer's distance is below 0: an unused offer reaches the sink directly for 0, and a used
    one is reached back from the sink for 0, so a cheaper path would close a cycle of negative
    cost, which an optimal flow does not have."""
    assigned = np.bincount(klass, weights=flows, minlength=len(counts)).astype(np.int64)
    used = np.bincount(offer, weights=flows, minlength=len(places)).astype(np.int64)
    # A class can still leave a member out; an offer with a free place reaches the sink for 0.
    class_start = np.where(assigned > 0, UNASSIGNED_COST, FAR)
    offer_start = np.where(used < places, 0, FAR)
    forward = flows < capacity  # a member could still be sent along the arc
    backward = flows > 0  # a member sent along it could be taken back
    offer_distance = offer_start
    for _ in range(len(counts) + len(places) + 1):
        class_distance = class_start.copy()
        np.minimum.at(
            class_distance, klass[forward], cost[forward] + offer_distance[offer[forward]]
        )
        updated = offer_start.copy()
        np.minimum.at(updated, offer[backward], class_distance[klass[backward]] - cost[backward])
        updated = np.minimum(updated, offer_distance)
        if np.array_equal(updated, offer_distance):
            if (offer_distance < 0).any():
                raise RuntimeError("the assignment solver's answer is not optimal")
            return class_distance, offer_distance
        offer_distance = updated
    raise RuntimeError("the assignment solver's answer has a cheaper cycle left")
