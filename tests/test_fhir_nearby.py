"""The in-memory parts of FHIR searches near a point, checked against plain Python."""

import random

import numpy as np
import pytest

from app.fhir import nearby


def test_the_resources_at_places_come_in_the_order_of_the_places():
    # Places 0..4 hold 2, 0, 3, 0, 1 resources.
    members = nearby.Members(
        rids=np.array([10, 11, 20, 21, 22, 40], dtype=np.int64),
        starts=np.array([0, 2, 2, 5, 5, 6], dtype=np.int64),
        once=True,
    )
    rids, miles = nearby.gathered(members, np.array([4, 1, 0, 2]), np.array([0.5, 1.0, 2.0, 3.0]))
    assert rids.tolist() == [40, 10, 11, 20, 21, 22]
    assert miles.tolist() == [0.5, 2.0, 2.0, 3.0, 3.0, 3.0]
    empty, _ = nearby.gathered(members, np.array([1, 3]), np.array([1.0, 2.0]))
    assert empty.tolist() == []


@pytest.mark.parametrize("seed", range(20))
def test_a_page_is_the_nearest_then_the_lowest_row_ids(seed):
    rng = random.Random(seed)
    size = rng.randint(1, 300)
    # Few distinct distances: many ties, also across the page's edge.
    rids = np.array(rng.sample(range(10_000), size), dtype=np.int64)
    miles = np.array([rng.choice([0.5, 1.0, 1.5, 2.0]) for _ in range(size)])
    offset, count = rng.randint(0, size), rng.randint(1, 50)
    expected = sorted(zip(miles.tolist(), rids.tolist(), strict=True))[offset : offset + count]
    page_rids, page_miles = nearby._page(rids, miles, offset, count)
    assert list(zip(page_miles.tolist(), page_rids.tolist(), strict=True)) == expected


def test_a_clause_set_holds_exactly_its_rows():
    rows = nearby.RowSet(np.array([3, 5, 9], dtype=np.int64), rows=12)
    assert rows.holds(np.array([1, 3, 4, 5, 9, 11])).tolist() == [
        False,
        True,
        False,
        True,
        True,
        False,
    ]
    assert nearby.RowSet(np.array([], dtype=np.int64), rows=4).holds(np.array([0, 3])).tolist() == [
        False,
        False,
    ]
