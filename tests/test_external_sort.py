"""The on-disk sort under every import: key order, every record back as it went in, nothing left."""

import random

import pytest

from indexer.staging import RUN_BLOCK, external_sort, record_key


# Runs shorter than a pickled block, and runs of several blocks.
@pytest.mark.parametrize("chunk", [37, 2 * RUN_BLOCK + 100])
def test_records_come_back_in_key_order_whole_and_the_runs_are_removed(tmp_path, chunk):
    rng = random.Random(3)
    records = [
        {
            "npi": f"{rng.randrange(10**9, 10**10)}",
            "location_id": rng.choice(["L1", "L2", "Núñez-3"]),
            "plan": rng.choice([None, "sunrise-medi-cal", "golden-poppy"]),
            "languages": rng.sample(["es", "en", "zh-Hant", "yue"], 2),
            "latitude": rng.uniform(32, 42),
            "telehealth": rng.random() < 0.5,
            "notes": {"nested": [1, 2.5, None, "ñ"]},
            "line": n,
        }
        for n in range(3 * RUN_BLOCK)
    ]
    for record in records:
        # Values one record holds twice (one language spoken by the provider and the staff).
        record["staff_languages"] = [record["languages"][0], "en"]
        record["also"] = record["notes"]
    told = []
    out = list(
        external_sort(iter(records), record_key, str(tmp_path), chunk=chunk, sorted_all=told.append)
    )
    assert told == [len(records)]
    assert [record_key(r) for r in out] == sorted(record_key(r) for r in records)
    assert sorted(out, key=lambda r: r["line"]) == records
    # Each record comes back with values of its own, never another record's.
    assert all(r["also"] == {"nested": [1, 2.5, None, "ñ"]} for r in out)
    assert list(tmp_path.iterdir()) == []


def test_runs_are_removed_when_the_reader_stops_early(tmp_path):
    records = [{"npi": f"{n:010d}", "location_id": "L", "plan": None} for n in range(100, 0, -1)]
    sorted_records = external_sort(iter(records), record_key, str(tmp_path), chunk=10)
    assert next(sorted_records)["npi"] == "0000000001"
    assert len(list(tmp_path.iterdir())) == 10
    sorted_records.close()
    assert list(tmp_path.iterdir()) == []


def test_more_runs_than_are_read_at_once_are_merged_in_passes(tmp_path, monkeypatch):
    import indexer.staging as staging

    monkeypatch.setattr(staging, "MAX_FAN_IN", 3)
    rng = random.Random(5)
    records = [
        {"npi": f"{rng.randrange(10**9, 10**10)}", "location_id": "L", "line": n}
        for n in range(700)
    ]
    out = list(external_sort(iter(records), record_key, str(tmp_path), chunk=20))
    assert [record_key(r) for r in out] == sorted(record_key(r) for r in records)
    assert sorted(r["line"] for r in out) == list(range(700))
    assert list(tmp_path.iterdir()) == []
