"""Delta rosters, merged sources and the verification report, on both engines."""

import csv
from datetime import date, timedelta

import pytest

from app.search.query import SearchQuery
from indexer.delta import expire_terminations, unverified
from indexer.pipeline import import_roster

HEADER = (
    "npi,first_name,last_name,taxonomy_codes,languages,location_id,zip,plan,plan_name,"
    "line_of_business,plan_provider_id,accepting_new_patients,last_updated,last_verified"
)
TODAY = date.today()
OLD = (TODAY - timedelta(days=200)).isoformat()
RECENT = (TODAY - timedelta(days=5)).isoformat()


def write(path, header, rows) -> str:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def group_roster(tmp_path):
    return write(
        tmp_path / "group.csv",
        HEADER,
        [
            "1234567893,Ana,Ruiz,207Q00000X,es,L1,90012,sunrise-medi-cal,Sunrise Medi-Cal,"
            f"medi-cal,S1,accepting,{RECENT},{RECENT}",
            f"1234567893,Ana,Ruiz,207Q00000X,es,L1,90012,bluewave-ppo,BlueWave PPO,commercial,B1,"
            f"accepting,{RECENT},{OLD}",
            "1245319599,Ben,Cole,207R00000X,en,L2,90802,sunrise-medi-cal,Sunrise Medi-Cal,"
            f"medi-cal,S2,accepting,{RECENT},{RECENT}",
            f"1003000126,Cy,Diaz,208000000X,en,L3,92701,sunrise-medi-cal,Sunrise Medi-Cal,medi-cal,"
            f"S3,accepting,{RECENT},{RECENT}",
        ],
    )


def plans_of(engine) -> dict[tuple[str, str, str], str]:
    result = engine.search(SearchQuery(limit=50, facets=()))
    return {
        (h.doc["npi"], loc["location_id"], p["plan"]): p["accepting"]
        for h in result.hits
        for loc in h.doc["locations"]
        for p in loc["plans"]
    }


def test_a_delta_adds_changes_and_terminates_without_a_rebuild(fresh_engine, tmp_path):
    sources = tmp_path / "sources"
    import_roster(fresh_engine, group_roster(tmp_path), source="group", sources_dir=sources)
    generation = fresh_engine.health()["generation"]
    future = (TODAY + timedelta(days=10)).isoformat()
    ana = "1234567893,Ana,Ruiz,207Q00000X,es"
    delta = write(
        tmp_path / "delta.csv",
        HEADER + ",action,termination_date",
        [
            # line 2: a new plan at an existing location
            f"1245319599,Ben,Cole,207R00000X,en,L2,90802,golden-poppy-medi-cal,Golden Poppy,"
            f"medi-cal,G2,accepting,{TODAY},{TODAY},add,",
            # line 3: a plan that closes its panel
            f"{ana},L1,90012,sunrise-medi-cal,Sunrise Medi-Cal,medi-cal,S1,not_accepting,"
            f"{TODAY},{TODAY},change,",
            # line 4: terminated today; line 5: terminated in ten days
            f"1245319599,,,,,L2,,sunrise-medi-cal,,,,,,,terminate,{TODAY}",
            f"1003000126,,,,,L3,,sunrise-medi-cal,,,,,,,terminate,{future}",
            # line 6: an add of what is already listed; line 7: a change of what is not
            f"{ana},L1,90012,bluewave-ppo,BlueWave PPO,commercial,B1,accepting,"
            f"{TODAY},{TODAY},add,",
            f"{ana},L9,90012,sunrise-medi-cal,Sunrise Medi-Cal,medi-cal,S9,accepting,"
            f"{TODAY},{TODAY},change,",
            # line 8: an unknown action; line 9: a termination without its date
            "1234567893,,,,,L1,,sunrise-medi-cal,,,,,,,remove,",
            "1234567893,,,,,L1,,bluewave-ppo,,,,,,,terminate,",
        ],
    )
    summary = import_roster(fresh_engine, delta, source="group", sources_dir=sources, mode="delta")
    assert summary.changes["add"] == 1 and summary.changes["change"] == 1
    assert summary.changes["terminate"] == 2
    reasons = {(e.line, e.field): e.reason for e in summary.errors}
    assert set(reasons) == {(6, "action"), (7, "action"), (8, "action"), (9, "termination_date")}
    assert "use action change" in reasons[(6, "action")]
    assert "use action add" in reasons[(7, "action")]
    assert "expected one of" in reasons[(8, "action")]
    assert summary.rows_rejected == 4 and summary.rows_imported == 4
    # The live generation was changed in place, not rebuilt.
    assert fresh_engine.health()["generation"] == generation
    plans = plans_of(fresh_engine)
    assert plans[("1245319599", "L2", "golden-poppy-medi-cal")] == "accepting"
    assert plans[("1234567893", "L1", "sunrise-medi-cal")] == "not_accepting"
    assert ("1245319599", "L2", "sunrise-medi-cal") not in plans
    # Terminated in the future: still listed until the day comes.
    assert ("1003000126", "L3", "sunrise-medi-cal") in plans
    later = TODAY + timedelta(days=10)
    # Re-applying today's termination too is harmless: each provider is rewritten from its records.
    assert expire_terminations(fresh_engine, sources, today=later) >= 1
    assert expire_terminations(fresh_engine, sources, today=later) == 0
    assert ("1003000126", "L3", "sunrise-medi-cal") not in plans_of(fresh_engine)
    assert fresh_engine.get("1003000126") is None
    # Search filters see the change too.
    accepting = fresh_engine.search(
        SearchQuery(plans=("sunrise-medi-cal",), accepting=("accepting",), facets=())
    )
    assert [h.doc["npi"] for h in accepting.hits] == []


def test_sources_merge_and_each_import_replaces_only_its_source(fresh_engine, tmp_path):
    sources = tmp_path / "sources"
    import_roster(fresh_engine, group_roster(tmp_path), source="group", sources_dir=sources)
    plan_roster = write(
        tmp_path / "plan.csv",
        HEADER,
        [
            f"1234567893,Ana,Ruiz,207Q00000X,es,L1,90012,golden-poppy-medi-cal,Golden Poppy,"
            f"medi-cal,GP1,existing_only,{TODAY},{TODAY}",
            f"1255455556,Dee,Eng,207Q00000X,en,L7,90012,golden-poppy-medi-cal,Golden Poppy,"
            f"medi-cal,GP7,accepting,{TODAY},{TODAY}",
        ],
    )
    import_roster(fresh_engine, plan_roster, source="golden-poppy", sources_dir=sources)
    ana = fresh_engine.get("1234567893")
    by_plan = {p["plan"]: p for p in ana["locations"][0]["plans"]}
    assert by_plan["golden-poppy-medi-cal"]["source"] == "golden-poppy"
    assert by_plan["sunrise-medi-cal"]["source"] == "group"
    assert fresh_engine.health()["providers"] == 4
    # The group sends a new roster without Cy: Cy goes, the plan's records stay.
    with open(group_roster(tmp_path), encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    smaller = write(tmp_path / "group2.csv", HEADER, [",".join(r) for r in rows[1:3]])
    import_roster(fresh_engine, smaller, source="group", sources_dir=sources)
    assert fresh_engine.get("1003000126") is None
    assert fresh_engine.get("1255455556") is not None
    ana = fresh_engine.get("1234567893")
    assert {p["plan"] for p in ana["locations"][0]["plans"]} == {
        "sunrise-medi-cal",
        "bluewave-ppo",
        "golden-poppy-medi-cal",
    }


def test_verification_report_lists_records_older_than_90_days(fresh_engine, tmp_path):
    sources = tmp_path / "sources"
    import_roster(fresh_engine, group_roster(tmp_path), source="group", sources_dir=sources)
    stale = list(unverified(sources, days=90))
    assert [(r["npi"], r["plan"]) for r in stale] == [("1234567893", "bluewave-ppo")]
    assert stale[0]["days_since_verified"] == 200
    assert len(list(unverified(sources, days=1))) == 4


@pytest.mark.parametrize("mode", ["delta"])
def test_a_delta_needs_kept_sources(fresh_engine, tmp_path, mode):
    with pytest.raises(ValueError, match="sources"):
        import_roster(fresh_engine, group_roster(tmp_path), mode=mode)


def test_delta_upload_and_report_over_http(fresh_config, tmp_path):
    import io
    import time

    from app import create_app
    from tests.conftest import IMPORTER_KEY

    client = create_app(fresh_config).test_client()
    staff = {"Authorization": f"Bearer {IMPORTER_KEY}"}

    def run(path, **form):
        data = {"file": (io.BytesIO(path.read_bytes()), path.name), **form}
        url = client.post("/v1/imports", data=data, headers=staff).headers["Location"]
        for _ in range(200):
            job = client.get(url, headers=staff).json
            if job["state"] in ("succeeded", "failed"):
                return job
            time.sleep(0.05)
        raise AssertionError(job)

    assert run(group_roster(tmp_path), source="group")["state"] == "succeeded"
    delta = write(
        tmp_path / "delta.csv",
        HEADER + ",action,termination_date",
        [f"1245319599,,,,,L2,,sunrise-medi-cal,,,,,,,terminate,{TODAY}"],
    )
    job = run(delta, source="group", mode="delta")
    assert job["state"] == "succeeded", job
    assert job["changes"]["terminate"] == 1 and job["mode"] == "delta"
    assert client.get("/v1/providers/1245319599").status_code == 404
    report = client.get("/v1/reports/unverified?days=90", headers=staff)
    assert report.status_code == 200
    assert report.headers["X-Total-Count"] == "1"
    assert "bluewave-ppo" in report.get_data(as_text=True)
    assert client.get("/v1/reports/unverified").status_code == 401
    assert client.get("/v1/reports/unverified?days=0", headers=staff).status_code == 400
    bad_mode = client.post(
        "/v1/imports",
        data={"file": (io.BytesIO(b"npi\n"), "r.csv"), "mode": "sometimes"},
        headers=staff,
    )
    assert bad_mode.status_code == 400 and "mode" in bad_mode.json["error"]["fields"]
