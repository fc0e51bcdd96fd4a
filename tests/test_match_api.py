"""POST /v1/match, /v1/assignments and /v1/adequacy on both engines, checked against a plain
re-statement of the rules over the fixture roster."""

import csv
import io
import logging
import random
import time
import uuid
from collections import Counter

import pytest

from app import create_app
from app.match.member import CSV_COLUMNS, parse_home
from app.vocab.npi import make_npi
from tests.conftest import ENROLLMENT_KEY, IMPORTER_KEY, REDIS_URL
from tests.match_oracle import LIMIT, language_ranking, qualifying, remaining

STAFF = {"Authorization": f"Bearer {ENROLLMENT_KEY}"}
DOWNTOWN = (34.0522, -118.2437)


def match(client, headers=STAFF, **body):
    return client.post("/v1/match", json=body, headers=headers)


def base(**kw) -> dict:
    return {
        "home": "34.0522,-118.2437",
        "plan": "sunrise-medi-cal",
        "line_of_business": "medi-cal",
        "age": 35,
        **kw,
    }


# ---- who may call, and bad input ------------------------------------------------------------


def test_matching_is_for_staff_only(client):
    assert match(client, headers={}, **base()).status_code == 401
    assert (
        match(client, headers={"Authorization": "Bearer nope-nope-nope-nope"}, **base()).status_code
        == 401
    )
    importer = match(client, headers={"X-API-Key": IMPORTER_KEY}, **base())
    assert importer.status_code == 403
    assert client.post("/v1/assignments").status_code == 401
    assert client.post("/v1/adequacy", json={}).status_code == 401
    # Member data goes in the body: there is no GET form that takes it in the query string.
    assert client.get("/v1/match?home=90012", headers=STAFF).status_code == 405


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (base(age=-1), "age"),
        (base(age="old"), "age"),
        (base(home="00000"), "home"),
        (base(home="north of here"), "home"),
        (base(line_of_business="gold"), "line_of_business"),
        (base(languages=["elvish-ish"]), "languages"),
        (base(current_pcp="1234567890"), "current_pcp"),
        (base(family_pcps=[{"npi": "1"}]), "family_pcps[0].npi"),
        (base(max_distance=500), "max_distance"),
        (base(choices=0), "choices"),
        (base(hair="brown"), "hair"),
        ({k: v for k, v in base().items() if k != "home"}, "home"),
        (base(address="1 Main St, Los Angeles"), "address"),
    ],
)
def test_a_bad_member_is_refused_naming_the_field(client, body, field):
    body = dict(body)
    if "address" in body:
        body.pop("home")
    response = match(client, **body)
    assert response.status_code == 400
    assert field in response.json["error"]["fields"], response.json


def test_a_body_that_is_not_a_json_object_is_refused(client):
    response = client.post("/v1/match", data="home=90012", headers=STAFF)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_body"


# ---- one member ---------------------------------------------------------------------------


def test_candidates_are_exactly_the_qualifying_offers_in_the_expected_order(client, roster_docs):
    response = match(client, **base(languages=["es"], choices=50))
    assert response.status_code == 200
    body = response.json
    found = qualifying(
        roster_docs,
        lat=DOWNTOWN[0],
        lon=DOWNTOWN[1],
        plan="sunrise-medi-cal",
        lob="medi-cal",
        age=35,
    )
    assert body["qualifying"] == len(found) > 10
    expected = language_ranking(found, "es", LIMIT["medi-cal"])[:50]
    got = [(c["npi"], c["location"]["location_id"]) for c in body["candidates"]]
    assert got == expected
    for rank, c in enumerate(body["candidates"], start=1):
        d, _doc, _location, entry = found[(c["npi"], c["location"]["location_id"])]
        assert c["rank"] == rank
        assert c["plan_provider_id"] == entry["plan_provider_id"]
        assert c["distance_miles"] == pytest.approx(d, abs=1e-3)
        assert f"{d:.1f} miles from home" in c["reasons"]
        assert c["score"] == pytest.approx(sum(c["score_parts"].values()), abs=0.02)


def test_a_child_gets_pediatric_or_family_pcps_only(client, roster_docs):
    body = match(client, **base(age=6, choices=50)).json
    found = qualifying(
        roster_docs,
        lat=DOWNTOWN[0],
        lon=DOWNTOWN[1],
        plan="sunrise-medi-cal",
        lob="medi-cal",
        age=6,
    )
    assert body["qualifying"] == len(found) > 0
    assert {c["npi"] for c in body["candidates"]} <= {k[0] for k in found}
    for c in body["candidates"]:
        assert set(c["pcp_types"]) & {"pediatrics", "family", "general"}


def test_continuity_puts_the_current_pcp_first_even_when_not_accepting(client, roster_docs):
    # A PCP who takes existing patients only is open to this member because they are one.
    existing = [
        (doc, loc)
        for doc in roster_docs
        if doc["pcp_type"] in ("family", "internal") and doc["age_min"] <= 35 <= doc["age_max"]
        for loc in doc["locations"]
        for p in loc["plans"]
        if p["plan"] == "sunrise-medi-cal"
        and p["accepting"] == "existing_only"
        and remaining(p) > 0
    ]
    assert existing, "the fixture roster has no existing-patients-only PCP"
    doc, loc = existing[0]
    home = f"{loc['lat']},{loc['lon']}"
    stranger = match(client, **base(home=home, choices=50)).json
    assert doc["npi"] not in {c["npi"] for c in stranger["candidates"]}
    patient = match(client, **base(home=home, current_pcp=doc["npi"])).json
    first = patient["candidates"][0]
    assert first["npi"] == doc["npi"]
    assert "your current PCP" in first["reasons"]
    assert "sees existing patients only, and you are one" in first["reasons"]


def test_family_pcp_is_named_in_the_reasons(client):
    first = match(client, **base()).json["candidates"][0]
    body = match(client, **base(family_pcps=[{"npi": first["npi"], "relation": "daughter"}])).json
    assert body["candidates"][0]["npi"] == first["npi"]
    assert "your daughter's PCP" in body["candidates"][0]["reasons"]


def test_when_nobody_qualifies_the_rule_and_a_wider_search_are_given(client, roster_docs):
    # Lancaster, a child, and a 3-mile limit: the nearest PCPs there see adults only.
    body = match(client, **base(home="93536", age=4, max_distance=3)).json
    assert body["candidates"] == [] and body["qualifying"] == 0
    why = body["nobody_qualifies"]
    assert why["rule"] in ("age", "accepting", "capacity", "plan", "distance")
    assert why["nearest"], why
    for near in why["nearest"]:
        assert near["excluded_by"] and all(e["reason"] for e in near["excluded_by"])
    rules = {e["rule"] for e in why["nearest"][0]["excluded_by"]}
    assert why["rule"] in rules
    assert why["if_widened"], why
    assert all(c["distance_miles"] > 3 for c in why["if_widened"])
    assert "would qualify" in why["message"]


def test_no_pcp_of_the_plan_nearby_says_so(client):
    # Far from every fixture location (the Mojave): nothing within reach, not even wider.
    body = match(client, **base(home="35.3,-116.1")).json
    assert body["candidates"] == []
    assert body["nobody_qualifies"]["rule"] == "distance"
    assert "No PCP practises within 10 miles" in body["nobody_qualifies"]["message"]


def test_member_data_never_reaches_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    secret_home = "34.05471,-118.24123"
    match(client, **base(home=secret_home, languages=["hy"], age=77, member_id="MEMBER-XYZZY"))
    match(client, **base(home=secret_home, age=-3))  # a refused one too
    assert "34.05471" not in caplog.text
    assert "XYZZY" not in caplog.text
    assert "Armenian" not in caplog.text and '"hy"' not in caplog.text


# ---- many members -------------------------------------------------------------------------


def member_rows(roster_docs, count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    zips = sorted({loc["zip"] for d in roster_docs for loc in d["locations"]})
    npis = sorted(d["npi"] for d in roster_docs if d["pcp"])
    rows = []
    for i in range(count):
        plan, lob = rng.choice(
            [("sunrise-medi-cal", "medi-cal"), ("golden-poppy-medi-cal", "medi-cal")]
        )
        rows.append(
            {
                "member_id": f"M{i:05d}",
                "home": rng.choice(zips),
                "plan": plan,
                "line_of_business": lob,
                "age": str(rng.choice([3, 9, 15, 28, 41, 57, 68, 80])),
                "sex": rng.choice(["female", "male"]),
                "languages": rng.choice(["", "es", "es|en", "zh", "ko", "vi", "tl", "hy"]),
                "gender_preference": rng.choice(["", "", "female", "male"]),
                "telehealth": rng.choice(["", "Y"]),
                "current_pcp": rng.choice(npis) if rng.random() < 0.1 else "",
            }
        )
    return rows


def as_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def submit(client, payload: bytes, name="members.csv"):
    return client.post(
        "/v1/assignments",
        data={"file": (io.BytesIO(payload), name)},
        headers=STAFF,
        content_type="multipart/form-data",
    )


def wait(client, url: str, timeout=120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url, headers=STAFF).json
        if body["state"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(body)


def check_results(client, job: dict, rows: list[dict], roster_docs) -> list[dict]:
    result = list(
        csv.DictReader(io.StringIO(client.get(job["links"]["result"], headers=STAFF).data.decode()))
    )
    by_id = {r["member_id"]: r for r in rows}
    offers = {
        (d["npi"], loc["location_id"], p["plan"]): (d, loc, p)
        for d in roster_docs
        for loc in d["locations"]
        for p in loc["plans"]
    }
    used = Counter()
    for r in result:
        if r["status"] != "assigned":
            assert r["blocked_rule"] and r["blocked_reason"]
            continue
        member = by_id[r["member_id"]]
        d, _loc, p = offers[(r["npi"], r["location_id"], r["plan"])]
        used[(r["npi"], r["location_id"], r["plan"])] += 1
        lat, lon = parse_home(member["home"])
        found = qualifying(
            [d],
            lat=lat,
            lon=lon,
            plan=member["plan"],
            lob=member["line_of_business"],
            age=int(member["age"]),
            sex=member["sex"],
            known=(member["current_pcp"],) if member["current_pcp"] else (),
        )
        assert (r["npi"], r["location_id"]) in found, f"hard rule broken for {r}"
        assert r["plan_provider_id"] == p["plan_provider_id"]
        assert r["reasons"]
    for key, n in used.items():
        assert n <= remaining(offers[key][2]), f"capacity exceeded at {key}"
    return result


def test_a_batch_is_assigned_in_the_background_with_row_errors(search_app, roster_docs):
    client = search_app.test_client()
    rows = member_rows(roster_docs, 150, seed=11)
    bad = [
        {**rows[0], "member_id": "BAD-AGE", "age": "ancient"},
        {**rows[1], "member_id": "BAD-ZIP", "home": "00000"},
        {**rows[2], "member_id": "", "plan": "sunrise-medi-cal"},
        {**rows[3], "member_id": "BAD-PCP", "current_pcp": "12345"},
    ]
    response = submit(client, as_csv(rows[:50] + bad + rows[50:]))
    assert response.status_code == 202
    job = wait(client, response.headers["Location"])
    assert job["state"] == "succeeded", job
    assert job["progress"]["rows_read"] == 154
    assert job["progress"]["rows_rejected"] == 4
    assert job["progress"]["members_assigned"] + job["progress"]["members_unassigned"] == 150
    assert job["progress"]["members_assigned"] > 100
    result = check_results(client, job, rows, roster_docs)
    assert [r["member_id"] for r in result] == [r["member_id"] for r in rows]
    errors = list(
        csv.DictReader(io.StringIO(client.get(job["links"]["errors"], headers=STAFF).data.decode()))
    )
    assert {(e["line"], e["field"]) for e in errors} == {
        ("52", "age"),
        ("53", "home"),
        ("54", "member_id"),
        ("55", "current_pcp"),
    }
    # The same file again gives the same assignments.
    again = wait(client, submit(client, as_csv(rows[:50] + bad + rows[50:])).headers["Location"])
    assert again["total_cost"] == job["total_cost"]
    assert (
        client.get(again["links"]["result"], headers=STAFF).data
        == client.get(job["links"]["result"], headers=STAFF).data
    )


def test_a_member_file_without_the_needed_columns_fails_clearly(search_app):
    client = search_app.test_client()
    job = wait(client, submit(client, b"id,zip\n1,90012\n").headers["Location"])
    assert job["state"] == "failed"
    assert "member_id" in job["error"]
    assert submit(client, b"x", name="members.xlsx").status_code == 400


@pytest.fixture
def assignment_celery_config(directory_config, redis_client):
    return {
        **directory_config,
        "PD_BROKER_URL": REDIS_URL,
        "PD_QUEUE": f"{directory_config['PD_INDEX_PREFIX']}assign-{uuid.uuid4().hex[:6]}",
    }


def test_a_celery_worker_runs_the_assignment(assignment_celery_config, roster_docs, tmp_path):
    from tests.test_imports import Worker

    log_path = tmp_path / "worker.log"
    worker = Worker(assignment_celery_config, log_path)
    try:
        client = create_app(assignment_celery_config).test_client()
        rows = member_rows(roster_docs, 60, seed=5)
        response = submit(client, as_csv(rows))
        assert response.status_code == 202
        job = wait(client, response.headers["Location"], timeout=90)
        assert job["state"] == "succeeded", (job, log_path.read_text())
        check_results(client, job, rows, roster_docs)
    finally:
        worker.stop()
    logged = log_path.read_text()
    assert "assign_members_job" in logged and "succeeded" in logged
    for row in rows:
        assert row["member_id"] not in logged


# ---- adequacy -----------------------------------------------------------------------------


def brute_force_covered(roster_docs, plan, lob, points, limit):
    places = [
        (loc["lat"], loc["lon"])
        for d in roster_docs
        if d["pcp"] and d["entity_type"] == "practitioner"
        for loc in d["locations"]
        for p in loc["plans"]
        if p["plan"] == plan and p["line_of_business"] == lob and p["accepting"] == "accepting"
    ]
    from app.search.geo import great_circle_miles

    return [
        any(great_circle_miles(lat, lon, a, b) <= limit for a, b in places) for lat, lon in points
    ]


def test_adequacy_for_a_zip_list_matches_brute_force(client, roster_docs):
    zips = ["90012", "90650", "92801", "93536", "93523", "90265", "92672", "91301", "90012"]
    body = client.post(
        "/v1/adequacy",
        headers=STAFF,
        json={"plan": "golden-poppy-medi-cal", "line_of_business": "medi-cal", "zips": zips},
    ).json
    covered = brute_force_covered(
        roster_docs, "golden-poppy-medi-cal", "medi-cal", [parse_home(z) for z in zips], 10
    )
    assert body["members"] == len(zips)
    assert body["covered"] == sum(covered)
    assert body["covered_share"] == pytest.approx(sum(covered) / len(zips), abs=1e-4)
    assert sorted(u["member"] for u in body["uncovered"]) == sorted(
        z for z, ok in zip(zips, covered, strict=True) if not ok
    )
    pcps = {
        d["npi"]
        for d in roster_docs
        if d["pcp"]
        and any(
            p["plan"] == "golden-poppy-medi-cal" for loc in d["locations"] for p in loc["plans"]
        )
    }
    assert body["pcps"] == len(pcps)
    assert body["members_per_pcp"] == pytest.approx(len(zips) / len(pcps), abs=0.01)
    assert body["ratio_standard"] == 2000 and body["meets_ratio_standard"] is True


def test_adequacy_for_a_member_file(client):
    payload = b'member_id,home\nA,90012\nB,93523\nC,"34.05,-118.25"\n'
    body = client.post(
        "/v1/adequacy",
        headers=STAFF,
        content_type="multipart/form-data",
        data={
            "plan": "sunrise-medi-cal",
            "line_of_business": "medi-cal",
            "file": (io.BytesIO(payload), "members.csv"),
        },
    ).json
    assert body["members"] == 3
    assert "A" not in {u["member"] for u in body["uncovered"]}
    bad = client.post(
        "/v1/adequacy",
        headers=STAFF,
        content_type="multipart/form-data",
        data={
            "plan": "sunrise-medi-cal",
            "line_of_business": "medi-cal",
            "file": (io.BytesIO(b"member_id,home\nA,nowhere\n"), "members.csv"),
        },
    )
    assert bad.status_code == 400 and "file" in bad.json["error"]["fields"]
    none = client.post(
        "/v1/adequacy",
        headers=STAFF,
        json={"plan": "sunrise-medi-cal", "line_of_business": "medi-cal"},
    )
    assert none.status_code == 400 and "zips" in none.json["error"]["fields"]


def test_family_member_npis_are_checked(client):
    good = make_npi("123456789")
    assert match(client, **base(family_pcps=[{"npi": good}])).status_code == 200


def test_the_cli_assigns_a_member_file_like_the_api(search_app, roster_docs, tmp_path):
    rows = member_rows(roster_docs, 40, seed=21)
    members = tmp_path / "members.csv"
    members.write_bytes(as_csv([*rows, {**rows[0], "member_id": "BAD", "age": "x"}]))
    out = tmp_path / "assigned.csv"
    result = search_app.test_cli_runner().invoke(args=["assign", str(members), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "41 rows" in result.output and "1 refused" in result.output
    via_cli = list(csv.DictReader(out.open()))
    client = search_app.test_client()
    job = wait(client, submit(client, members.read_bytes()).headers["Location"])
    via_api = list(
        csv.DictReader(io.StringIO(client.get(job["links"]["result"], headers=STAFF).data.decode()))
    )
    assert via_cli == via_api
    refused = list(csv.DictReader((tmp_path / "assigned-errors.csv").open()))
    assert [(e["member_id"], e["field"]) for e in refused] == [("BAD", "age")]
