"""Batch assignment is optimal over every qualifying offer: on seeded random instances its total
equals an exact optimum found independently (CP-SAT over every member x qualifying offer, each
member scored alone), and every hard rule holds. The first network is also made as small as it
can be, so that the rounds that add arcs are what reaches the optimum."""

import random

import numpy as np
import pytest
from ortools.sat.python import cp_model

from app.match import assign
from app.match.assign import UNASSIGNED_COST, solve, total_cost
from app.match.candidates import OffersByLatitude
from app.match.member import FamilyPCP
from app.match.offers import build_table
from app.match.scoring import evaluate
from app.search.geo import great_circle_miles_to_many as great_circle_miles
from tests.test_match_rules import HOME, MILE_NORTH, RULES, member, npi, offer

# (places per member, least arcs) of the first network: as shipped, and as small as possible.
FIRST_NETWORKS = [(assign.PLACES_PER_MEMBER, assign.MIN_ARCS), (1, 1), (0, 1)]
PLACES = [(HOME[0] + dy * MILE_NORTH, HOME[1] + dx) for dy, dx in ((0, 0), (4, 0.02), (-6, -0.1))]


def instance(rng: random.Random, n_members: int, n_offers: int, max_capacity: int):
    """Members at a few shared homes (so classes hold many), offers up to 16 miles away."""
    offers = [
        offer(
            i,
            miles=rng.uniform(-16, 16),
            capacity=rng.randint(0, max_capacity),
            members=rng.choice([None, 0, 1]),
            languages=rng.sample(["en", "es", "zh", "vi"], 2),
            staff=rng.sample(["es", "ko"], rng.randint(0, 1)),
            types=rng.choice([("family",), ("pediatrics",), ("internal",), ("obgyn",)]),
            ages=rng.choice([(0, 120), (0, 18), (18, 120)]),
            accepting=rng.choice(["accepting", "accepting", "existing_only", "existing_family"]),
            gender=rng.choice(["female", "male"]),
            telehealth=rng.random() < 0.5,
            access=rng.sample(["ada-access", "accessible-parking"], rng.randint(0, 2)),
        )
        for i in range(n_offers)
    ]
    members = []
    for j in range(n_members):
        lat, lon = rng.choice(PLACES)
        members.append(
            member(
                member_id=f"M{j}",
                age=rng.choice([4, 15, 30, 70]),
                sex=rng.choice(["female", "male"]),
                lat=lat,
                lon=lon,
                languages=rng.choice([(), ("es",), ("zh",), ("ko",)]),
                gender_preference=rng.choice([None, "female"]),
                telehealth=rng.random() < 0.3,
                accessibility=rng.choice([(), ("ada-access",)]),
                max_distance=rng.choice([None, None, 5.0]),
                current_pcp=npi(rng.randrange(n_offers)) if rng.random() < 0.2 else None,
                family_pcps=(FamilyPCP(npi(rng.randrange(n_offers)), "son"),)
                if rng.random() < 0.1
                else (),
            )
        )
    return members, build_table(offers, RULES.default_panel_capacity)


def exact_optimum(members, table) -> int:
    """The lowest total over every qualifying pair, each member scored on its own (CP-SAT)."""
    model = cp_model.CpModel()
    objective, by_offer = [], {}
    for i, m in enumerate(members):
        evaluation = evaluate(m, table, RULES)
        choices = []
        for p in np.flatnonzero(evaluation.eligible):
            x = model.new_bool_var(f"x{i}_{p}")
            choices.append(x)
            by_offer.setdefault(int(evaluation.idx[p]), []).append(x)
            objective.append(int(evaluation.cost[p]) * x)
        left = model.new_bool_var(f"left{i}")
        model.add(sum(choices) + left == 1)
        objective.append(UNASSIGNED_COST * left)
    for row, xs in by_offer.items():
        model.add(sum(xs) <= int(table.remaining[row]))
    model.minimize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    assert solver.solve(model) == cp_model.OPTIMAL
    return round(solver.objective_value)


def check_hard_rules(members, table, outcomes) -> None:
    used: dict[int, int] = {}
    for m, o in zip(members, outcomes, strict=True):
        if o.offer is None:
            assert o.rule and o.reason
            continue
        used[o.offer] = used.get(o.offer, 0) + 1
        evaluation = evaluate(m, table, RULES)
        assert evaluation.eligible[o.offer], "a hard rule was broken"
        assert o.cost == evaluation.cost[o.offer]
        assert o.distance == evaluation.distance[o.offer]
    assert all(n <= table.remaining[row] for row, n in used.items()), "a panel overflowed"


@pytest.mark.parametrize("first", FIRST_NETWORKS)
@pytest.mark.parametrize(
    "seed,n_members,n_offers,max_capacity",
    [(s, 12, 6, 3) for s in range(4)]
    + [(s, 150, 30, 12) for s in range(10, 14)]
    + [(s, 400, 60, 10) for s in range(20, 22)],
)
def test_batch_assignment_equals_an_independent_exact_optimum(
    monkeypatch, first, seed, n_members, n_offers, max_capacity
):
    monkeypatch.setattr(assign, "PLACES_PER_MEMBER", first[0])
    monkeypatch.setattr(assign, "MIN_ARCS", first[1])
    members, table = instance(random.Random(seed), n_members, n_offers, max_capacity)
    outcomes = solve(members, table, RULES)
    check_hard_rules(members, table, outcomes)
    assert total_cost(outcomes) == exact_optimum(members, table)


def test_a_class_crowded_out_of_its_first_offers_gets_more(monkeypatch):
    # With one place per member, A and B both start with office 0 only; B can reach nothing
    # else, so the optimum sends A to office 1, which only a second round can offer.
    monkeypatch.setattr(assign, "PLACES_PER_MEMBER", 1)
    monkeypatch.setattr(assign, "MIN_ARCS", 1)
    solves = []
    real = assign.solve_flow
    monkeypatch.setattr(assign, "solve_flow", lambda *a: solves.append(1) or real(*a))
    table = build_table(
        [offer(0, miles=0.1, capacity=10), offer(1, miles=2, capacity=10)],
        RULES.default_panel_capacity,
    )
    a = [member(member_id=f"A{j}") for j in range(10)]
    b = [member(member_id=f"B{j}", max_distance=1.0) for j in range(10)]
    outcomes = solve(a + b, table, RULES)
    check_hard_rules(a + b, table, outcomes)
    assert [o.offer for o in outcomes] == [1] * 10 + [0] * 10
    assert len(solves) == 2
    assert total_cost(outcomes) == exact_optimum(a + b, table)


@pytest.mark.parametrize("seed", range(5))
def test_offers_in_the_box_include_every_offer_within_reach(seed):
    rng = random.Random(seed)
    lat0, lon0 = rng.uniform(-60, 60), rng.uniform(-170, 170)
    table = build_table(
        [offer(i, miles=rng.uniform(-300, 300)) for i in range(2000)],
        RULES.default_panel_capacity,
    )
    table.lat = lat0 + (table.lat - HOME[0]) * 0.5
    table.lon = lon0 + np.array([rng.uniform(-4, 4) for _ in range(len(table))])
    index = OffersByLatitude(table)
    for _ in range(20):
        lat = np.array([lat0 + rng.uniform(-1, 1) for _ in range(3)])
        lon = np.array([lon0 + rng.uniform(-1, 1) for _ in range(3)])
        reach = rng.uniform(1, 100)
        found = set(index.within_reach(lat, lon, reach).tolist())
        for y, x in zip(lat, lon, strict=True):
            near = np.flatnonzero(great_circle_miles(y, x, table.lat, table.lon) <= reach)
            assert set(near.tolist()) <= found
