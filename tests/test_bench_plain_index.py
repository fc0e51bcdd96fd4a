"""`make bench-index` at a small size: the plain nested index and ours answer the same searches
(the benchmark stops when a total differs) and every index it made is removed."""

import bench.plain_index as bench
from tests.conftest import ES_URL


def test_both_indices_find_the_same_providers_and_are_removed(es_client, monkeypatch, capsys):
    monkeypatch.setattr(bench, "ES_URL", ES_URL)
    before = set(es_client.indices.get(index="pd-bench-*", expand_wildcards="all"))
    bench.run(locations=3000, queries=30, seed=11)
    printed = capsys.readouterr().out
    assert "| plain | all | 30 |" in printed and "| ours | all | 30 |" in printed
    assert set(es_client.indices.get(index="pd-bench-*", expand_wildcards="all")) == before


def test_a_plain_document_keeps_each_location_and_its_plans():
    source = {
        "npi": "1234567893",
        "display_name": "Ana Ruiz, MD",
        "gender": "female",
        "specialty_codes": ["207Q00000X"],
        "languages": ["es"],
        "locations": [
            {
                "location_id": "L1",
                "city": "Los Angeles",
                "zip": "90012",
                "lat": 34.06,
                "lon": -118.24,
                "plans": [
                    {
                        "plan": "sunrise-medi-cal",
                        "line_of_business": "medi-cal",
                        "accepting": "accepting",
                        "plan_provider_id": "SR-1",
                    }
                ],
            }
        ],
    }
    plain = bench.plain_document(source)
    assert plain["locations"][0]["geo"] == {"lat": 34.06, "lon": -118.24}
    assert plain["locations"][0]["plans"][0]["accepting"] == "accepting"
    assert plain["specialty_codes"] == ["207Q00000X"]
