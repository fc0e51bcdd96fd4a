"""Imports build a new generation and swap it in whole; a failure leaves the live one serving."""

import shutil

import pytest

from app import create_app
from app.engines import create_engine
from app.engines.base import GenerationFailed
from indexer.pipeline import import_roster
from tests.conftest import FIXTURE_ROSTER


def small_roster(tmp_path, rows: int = 60):
    """The first rows of the fixture roster, cut at a provider boundary."""
    lines = FIXTURE_ROSTER.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "small.csv"
    path.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return path


def live_state(engine) -> tuple[dict, list[str]]:
    app_result = engine.search(_all_query())
    return engine.health(), sorted(h.doc["npi"] for h in app_result.hits)


def _all_query():
    from app.search.query import SearchQuery

    return SearchQuery(limit=1000, facets=())


def test_import_publishes_a_new_generation(fresh_engine, tmp_path):
    roster = small_roster(tmp_path)
    first = import_roster(fresh_engine, roster)
    health = fresh_engine.health()
    assert health["generation"] == first.generation
    assert health["providers"] == first.providers > 0
    second = import_roster(fresh_engine, roster)
    assert fresh_engine.health()["generation"] == second.generation != first.generation
    # Old generations are dropped once the new one is live.
    generations = fresh_engine.generations()
    assert [g["name"] for g in generations if g.get("live")] == [
        g["name"] for g in generations if second.generation in g["name"]
    ]
    assert len(generations) == 1


def test_reimporting_the_same_roster_gives_the_same_directory(fresh_engine, tmp_path):
    roster = small_roster(tmp_path, rows=200)
    import_roster(fresh_engine, roster)
    before = [fresh_engine.get(h.doc["npi"]) for h in fresh_engine.search(_all_query()).hits]
    import_roster(fresh_engine, roster)
    after = [fresh_engine.get(h.doc["npi"]) for h in fresh_engine.search(_all_query()).hits]
    assert before == after and before


class Boom(RuntimeError):
    pass


def test_a_failure_midway_leaves_the_live_directory_serving(fresh_engine, fresh_config, tmp_path):
    import_roster(fresh_engine, small_roster(tmp_path))
    before = live_state(fresh_engine)
    docs = [fresh_engine.get(npi) for npi in before[1]]

    def failing_documents():
        for i, doc in enumerate(docs):
            if i == 5:
                raise Boom("the roster source went away")
            yield {**doc, "search_text": doc["npi"], "name_text": ""}

    with pytest.raises(Boom), fresh_engine.new_generation() as generation:
        generation.write(failing_documents())
        generation.publish(expected=len(docs))
    assert live_state(fresh_engine) == before
    # The half-built generation is gone.
    assert [g for g in fresh_engine.generations() if not g.get("live")] == []
    client = create_app(fresh_config).test_client()
    assert client.get("/v1/providers?limit=1").status_code == 200


def test_a_document_the_engine_rejects_fails_the_whole_generation(fresh_engine, tmp_path):
    import_roster(fresh_engine, small_roster(tmp_path))
    before = live_state(fresh_engine)
    doc = fresh_engine.get(before[1][0])
    broken = {**doc, "search_text": "x", "name_text": "x", "npi": "1234567893"}
    broken["age_min"] = "not a number"
    broken["locations"] = [{**broken["locations"][0], "lat": "north"}]
    with pytest.raises(Exception), fresh_engine.new_generation() as generation:  # noqa: B017
        written = generation.write([{**doc, "search_text": "a", "name_text": "a"}, broken])
        generation.publish(expected=written)
    assert live_state(fresh_engine) == before
    assert [g for g in fresh_engine.generations() if not g.get("live")] == []


def test_every_failed_bulk_item_is_reported(es_client, tmp_path, caplog):
    from app.engines import create_engine
    from tests.conftest import TEST_PREFIX, engine_config

    fresh_engine = create_engine(
        engine_config("elasticsearch", tmp_path, prefix=f"{TEST_PREFIX}bulk-")
    )
    import_roster(fresh_engine, small_roster(tmp_path))
    docs = [fresh_engine.get(h.doc["npi"]) for h in fresh_engine.search(_all_query()).hits]
    good = [{**d, "search_text": "a", "name_text": "a"} for d in docs]
    bad = [{**d, "age_min": "young"} for d in good[:3]]
    with pytest.raises(GenerationFailed) as failed, fresh_engine.new_generation() as generation:
        generation.write(good[3:] + bad)
    assert "3 document(s) failed" in str(failed.value)
    reported = [r.getMessage() for r in caplog.records if "failed to index" in r.getMessage()]
    assert len(reported) == 3
    assert all("'status': 400" in line for line in reported)
    assert {d["npi"] for d in bad} == {
        npi for line in reported for npi in [line.split("'npi': '")[1][:10]]
    }


def test_readers_keep_serving_while_a_new_generation_is_built(fresh_engine, tmp_path):
    import_roster(fresh_engine, small_roster(tmp_path))
    before = live_state(fresh_engine)
    docs = [fresh_engine.get(npi) for npi in before[1]]
    with fresh_engine.new_generation() as generation:
        generation.write([{**d, "search_text": d["npi"], "name_text": ""} for d in docs[:5]])
        assert live_state(fresh_engine) == before
        generation.publish(expected=5)
    assert fresh_engine.health()["providers"] == 5


def test_cli_import_writes_rejects_and_serves(fresh_config, tmp_path):
    from tests.conftest import EDGE_ROSTER

    app = create_app(fresh_config)
    runner = app.test_cli_runner()
    rejects = tmp_path / "rejects.csv"
    roster = tmp_path / "edge.csv"
    shutil.copyfile(EDGE_ROSTER, roster)
    result = runner.invoke(args=["import", str(roster), "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "rejected" in result.output
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,field,value,reason,severity"
    assert len(lines) > 10
    listed = runner.invoke(args=["indices"])
    assert "live" in listed.output
    again = runner.invoke(args=["reindex"])
    assert again.exit_code == 0, again.output
    engine = create_engine(fresh_config)
    assert engine.health()["providers"] > 0
    engine.close()


def test_cli_refuses_a_roster_without_required_columns(fresh_config, tmp_path):
    roster = tmp_path / "wrong.csv"
    roster.write_text("name,phone\nA,1\n", encoding="utf-8")
    result = create_app(fresh_config).test_cli_runner().invoke(args=["import", str(roster)])
    assert result.exit_code != 0
    assert "missing required column" in result.output
