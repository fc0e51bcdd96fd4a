"""Matching without an engine: each hard rule, the scoring, the reasons, and the batch assignment
against exhaustive search and against greedy assignment."""

import itertools
import random

import pytest

from app.match.assign import UNASSIGNED_COST, solve, total_cost
from app.match.member import FamilyPCP, Member
from app.match.offers import build_table
from app.match.rules import RulesError, load_rules, parse_rules
from app.match.scoring import evaluate, ranked
from app.vocab.npi import make_npi

RULES = load_rules()
HOME = (34.0522, -118.2437)  # downtown Los Angeles
MILE_NORTH = 1 / 69.05  # degrees of latitude in a mile, near enough for placing test offices


def npi(n: int) -> str:
    return make_npi(f"{100000000 + n}")


def offer(
    n,
    miles=1.0,
    *,
    plan="sunrise-medi-cal",
    lob="medi-cal",
    accepting="accepting",
    types=("family",),
    ages=(0, 120),
    capacity=500,
    members=None,
    gender="female",
    languages=("en",),
    staff=(),
    access=(),
    telehealth=False,
    location=None,
):
    return {
        "npi": npi(n),
        "display_name": f"Doctor {n}",
        "credentials": "MD",
        "gender": gender,
        "pcp_types": list(types),
        "age_min": ages[0],
        "age_max": ages[1],
        "languages": list(languages),
        "medical_group": "Test IPA",
        "location": {
            "location_id": location or f"LOC-{n}",
            "name": f"Clinic {n}",
            "address": f"{n} Main St",
            "city": "Los Angeles",
            "state": "CA",
            "zip": "90012",
            "phone": "(213) 555-0100",
            "hours": None,
            "lat": HOME[0] + miles * MILE_NORTH,
            "lon": HOME[1],
            "accessibility": list(access),
            "staff_languages": list(staff),
            "telehealth": telehealth,
        },
        "plan": {
            "plan": plan,
            "plan_name": plan,
            "line_of_business": lob,
            "plan_provider_id": f"ID-{n}",
            "accepting": accepting,
            "panel_capacity": capacity,
            "panel_members": members,
        },
    }


def member(**kw) -> Member:
    base = dict(
        plan="sunrise-medi-cal",
        line_of_business="medi-cal",
        age=40,
        lat=HOME[0],
        lon=HOME[1],
        sex="female",
    )
    return Member(**{**base, **kw})


def verdict(m: Member, o: dict) -> list[str]:
    """The hard rules this single offer fails for this member."""
    table = build_table([o], RULES.default_panel_capacity)
    return evaluate(m, table, RULES).failed(0)


# ---- hard rules, one at a time --------------------------------------------------------------


def test_an_offer_that_breaks_no_rule_qualifies():
    assert verdict(member(), offer(1)) == []


def test_plan_and_line_of_business_must_both_match():
    assert verdict(member(), offer(1, plan="bluewave-ppo", lob="commercial")) == ["plan"]
    assert verdict(member(), offer(1, lob="commercial")) == ["plan"]


@pytest.mark.parametrize(
    ("status", "known", "family", "fails"),
    [
        ("not_accepting", False, False, True),
        ("not_accepting", True, True, True),
        ("existing_only", False, False, True),
        ("existing_only", True, False, False),
        ("existing_only", False, True, True),
        ("existing_family", False, True, False),
        ("existing_family", True, False, False),
        ("existing_family", False, False, True),
    ],
)
def test_accepting_status_and_existing_relationships(status, known, family, fails):
    m = member(
        current_pcp=npi(1) if known else None,
        family_pcps=(FamilyPCP(npi(1), "daughter"),) if family else (),
    )
    assert verdict(m, offer(1, accepting=status)) == (["accepting"] if fails else [])


def test_a_previous_pcp_counts_as_an_existing_relationship():
    m = member(previous_pcps=(npi(1),))
    assert verdict(m, offer(1, accepting="existing_only")) == []


@pytest.mark.parametrize(
    ("age", "sex", "types", "ages", "fails"),
    [
        (6, "male", ("pediatrics",), (0, 21), False),
        (6, "male", ("family",), (0, 120), False),
        (6, "male", ("internal",), (18, 120), True),  # an internist for a child
        (6, "male", ("internal",), (0, 120), True),  # even if the roster says all ages
        (40, "male", ("pediatrics",), (0, 120), True),  # pediatric PCP for an adult
        (19, "male", ("pediatrics",), (0, 21), True),
        (40, "female", ("obgyn",), (12, 120), False),  # OB/GYN as PCP for a woman
        (40, "male", ("obgyn",), (12, 120), True),
        (70, "female", ("geriatrics",), (60, 120), False),
        (40, "female", ("geriatrics",), (60, 120), True),
        (40, "female", ("family",), (0, 17), True),  # outside the provider's own age range
    ],
)
def test_pcp_type_and_age_range_fit_the_member(age, sex, types, ages, fails):
    m = member(age=age, sex=sex)
    assert verdict(m, offer(1, types=types, ages=ages)) == (["age"] if fails else [])


def test_a_full_panel_takes_nobody():
    assert verdict(member(), offer(1, capacity=500, members=500)) == ["capacity"]
    assert verdict(member(), offer(1, capacity=0)) == ["capacity"]
    assert verdict(member(), offer(1, capacity=500, members=499)) == []
    # No capacity on the roster: the rules file's default applies.
    assert verdict(member(), offer(1, capacity=None, members=1999)) == []
    assert verdict(member(), offer(1, capacity=None, members=2000)) == ["capacity"]


def test_distance_limit_comes_from_the_line_of_business_or_the_member():
    assert verdict(member(), offer(1, miles=9.9)) == []
    assert verdict(member(), offer(1, miles=10.1)) == ["distance"]
    commercial = dict(plan="bluewave-ppo", lob="commercial")
    assert (
        verdict(
            member(plan="bluewave-ppo", line_of_business="commercial"),
            offer(1, miles=14.5, **commercial),
        )
        == []
    )
    assert verdict(member(max_distance=3.0), offer(1, miles=3.5)) == ["distance"]


def test_rules_combine_and_every_broken_rule_is_named():
    o = offer(
        1,
        miles=12,
        accepting="not_accepting",
        types=("pediatrics",),
        capacity=0,
        plan="bluewave-ppo",
        lob="commercial",
    )
    assert verdict(member(age=50), o) == ["plan", "accepting", "age", "capacity", "distance"]


# ---- soft preferences and reasons -----------------------------------------------------------


def rank_of(m: Member, offers: list[dict]) -> list[str]:
    table = build_table(offers, RULES.default_panel_capacity)
    evaluation = evaluate(m, table, RULES)
    return [
        table.rows[evaluation.idx[p]]["npi"] for p in ranked(evaluation, table, evaluation.eligible)
    ]


def test_nearer_wins_when_nothing_else_differs():
    assert rank_of(member(), [offer(1, miles=5), offer(2, miles=2)]) == [npi(2), npi(1)]


def test_continuity_and_family_outweigh_a_longer_trip():
    offers = [offer(1, miles=8), offer(2, miles=0.5), offer(3, miles=6)]
    m = member(current_pcp=npi(1), family_pcps=(FamilyPCP(npi(3), "daughter"),))
    assert rank_of(m, offers) == [npi(1), npi(3), npi(2)]


def test_language_provider_beats_staff_beats_none():
    offers = [
        offer(1, miles=1),
        offer(2, miles=3, staff=("es",)),
        offer(3, miles=5, languages=("en", "es")),
    ]
    assert rank_of(member(languages=("es",)), offers) == [npi(3), npi(2), npi(1)]
    assert rank_of(member(), offers) == [npi(1), npi(2), npi(3)]


def test_gender_accessibility_and_telehealth_preferences():
    a = offer(1, miles=1, gender="male")
    b = offer(2, miles=2, gender="female")
    assert rank_of(member(gender_preference="female"), [a, b]) == [npi(2), npi(1)]
    c = offer(3, miles=2, access=("ada-access", "accessible-parking"))
    assert rank_of(member(accessibility=("ada-access",)), [a, c]) == [npi(3), npi(1)]
    d = offer(4, miles=1.5, telehealth=True)
    assert rank_of(member(telehealth=True), [a, d])[0] == npi(4)
    assert rank_of(member(), [a, d])[0] == npi(1)


def test_reasons_read_like_plain_language():
    from app.match.explain import reasons

    m = member(
        languages=("es",),
        family_pcps=(FamilyPCP(npi(1), "daughter"),),
        gender_preference="female",
        accessibility=("ada-access",),
        telehealth=True,
    )
    table = build_table(
        [offer(1, miles=2.3, languages=("en", "es"), access=("ada-access",), telehealth=True)],
        RULES.default_panel_capacity,
    )
    evaluation = evaluate(m, table, RULES)
    said = reasons(m, table.rows[0], evaluation, 0)
    assert said == [
        "your daughter's PCP",
        "speaks Spanish",
        "2.3 miles from home",
        "a female doctor, as asked",
        "has wheelchair access",
        "offers telehealth visits",
        "accepting new patients",
    ]


# ---- rules file -------------------------------------------------------------------------------


def test_the_rules_file_is_versioned_and_checked():
    import json

    from app.match.rules import SHIPPED_RULES

    data = json.loads(SHIPPED_RULES.read_text())
    assert RULES.version == data["version"]
    assert RULES.max_distance("medi-cal") == 10
    broken = {**data, "points": {**data["points"], "distance": -1}}
    with pytest.raises(RulesError, match="negative"):
        parse_rules(broken)
    missing = {k: v for k, v in data.items() if k != "access_standard_miles"}
    with pytest.raises(RulesError, match="access_standard_miles"):
        parse_rules(missing)


# ---- batch assignment: optimal, within capacity, deterministic --------------------------------


def random_instance(rng: random.Random, n_members: int, n_offers: int):
    offers = [
        offer(
            i,
            miles=rng.uniform(0, 12),
            capacity=rng.randint(0, 3),
            languages=rng.sample(["en", "es", "zh", "vi"], 2),
            types=rng.choice([("family",), ("pediatrics",), ("internal",)]),
            accepting=rng.choice(["accepting", "accepting", "existing_only"]),
            gender=rng.choice(["female", "male"]),
        )
        for i in range(n_offers)
    ]
    members = [
        member(
            member_id=f"M{j}",
            age=rng.choice([4, 30, 70]),
            lat=HOME[0] + rng.uniform(-3, 3) * MILE_NORTH,
            lon=HOME[1] + rng.uniform(-0.05, 0.05),
            languages=(rng.choice(["es", "zh", "vi", "ko"]),),
            gender_preference=rng.choice([None, "female", "male"]),
            current_pcp=npi(rng.randrange(n_offers)) if rng.random() < 0.3 else None,
        )
        for j in range(n_members)
    ]
    return members, build_table(offers, RULES.default_panel_capacity)


def exhaustive_optimum(members, table) -> int:
    costs = []
    for m in members:
        evaluation = evaluate(m, table, RULES)
        costs.append(
            {
                int(evaluation.idx[p]): int(evaluation.cost[p])
                for p in range(len(evaluation.idx))
                if evaluation.eligible[p]
            }
        )
    best = None
    choices = [[None, *c] for c in costs]
    for pick in itertools.product(*choices):
        used = {}
        for row in pick:
            if row is not None:
                used[row] = used.get(row, 0) + 1
        if any(used[r] > table.remaining[r] for r in used):
            continue
        total = sum(UNASSIGNED_COST if row is None else costs[i][row] for i, row in enumerate(pick))
        best = total if best is None else min(best, total)
    return best


def check_capacity(outcomes, table) -> None:
    used = {}
    for o in outcomes:
        if o.offer is not None:
            used[o.offer] = used.get(o.offer, 0) + 1
    assert all(used[r] <= table.remaining[r] for r in used)


@pytest.mark.parametrize("seed", range(12))
def test_batch_assignment_equals_the_exhaustive_optimum(seed):
    rng = random.Random(seed)
    members, table = random_instance(rng, n_members=rng.randint(3, 6), n_offers=rng.randint(2, 5))
    outcomes = solve(members, table, RULES)
    check_capacity(outcomes, table)
    for m, o in zip(members, outcomes, strict=True):
        if o.offer is not None:
            assert evaluate(m, table, RULES).eligible[o.offer], "a hard rule was broken"
        else:
            assert o.rule and o.reason
    assert total_cost(outcomes) == exhaustive_optimum(members, table)


def greedy(members, table) -> int:
    left = table.remaining.copy()
    total = 0
    for m in members:
        evaluation = evaluate(m, table, RULES)
        order = [
            p for p in ranked(evaluation, table, evaluation.eligible) if left[evaluation.idx[p]] > 0
        ]
        if order:
            left[evaluation.idx[order[0]]] -= 1
            total += int(evaluation.cost[order[0]])
        else:
            total += UNASSIGNED_COST
    return total


def test_batch_assignment_beats_greedy_where_greedy_goes_wrong():
    # One place near both members; the first member has a fine second choice, the second has none.
    offers = [offer(1, miles=1, capacity=1), offer(2, miles=2, capacity=1)]
    members = [member(member_id="A"), member(member_id="B", max_distance=1.5)]
    table = build_table(offers, RULES.default_panel_capacity)
    outcomes = solve(members, table, RULES)
    assert [o.offer for o in outcomes] == [1, 0]
    assert total_cost(outcomes) < greedy(members, table)


def test_on_a_larger_instance_the_optimum_is_never_worse_than_greedy():
    rng = random.Random(7)
    members, table = random_instance(rng, n_members=300, n_offers=40)
    outcomes = solve(members, table, RULES)
    check_capacity(outcomes, table)
    assert total_cost(outcomes) < greedy(members, table)


def test_the_same_input_gives_the_same_output():
    rng = random.Random(3)
    members, table = random_instance(rng, n_members=80, n_offers=20)
    first = [(o.offer, o.cost) for o in solve(members, table, RULES)]
    second = [(o.offer, o.cost) for o in solve(members, table, RULES)]
    assert first == second


def test_members_with_one_profile_share_a_node_and_are_still_each_assigned():
    offers = [offer(1, miles=1, capacity=2), offer(2, miles=3, capacity=2)]
    members = [member(member_id=f"M{i}") for i in range(5)]
    table = build_table(offers, RULES.default_panel_capacity)
    outcomes = solve(members, table, RULES)
    assert [o.offer for o in outcomes] == [0, 0, 1, 1, None]
    assert outcomes[4].rule == "capacity"
