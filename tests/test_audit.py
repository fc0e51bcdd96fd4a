"""The audit log: staff actions from the HTTP doors, the commands and the jobs, refused and failed
ones too, readable by admins only, append-only, and never holding member data."""

import io
import json
import sqlite3
import time

import pytest
from click.testing import CliRunner

from app import create_app
from app.audit.log import AuditLog, Entry, Filter, audit_path, utc_stamp
from app.cli import main
from app.vocab.npi import make_npi
from tests.conftest import API_KEYS, EDGE_ROSTER, ENROLLMENT_KEY, IMPORTER_KEY, engine_config
from tests.test_import_doors import cli_import
from tests.test_imports import EXPECTED_EDGE
from tests.test_match_api import as_csv, member_rows
from tests.test_openapi import schema_validator

ADMIN_KEY = "admin-key-0123456789abcdef-zq"
KEYS = f"{API_KEYS},ops-lead:admin:{ADMIN_KEY}"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
IMPORTER = {"Authorization": f"Bearer {IMPORTER_KEY}"}
ENROLLMENT = {"Authorization": f"Bearer {ENROLLMENT_KEY}"}
# Member values no audit entry may hold: each appears nowhere else.
MEMBER_ID = "MBR-ZQX-771903"
HOME = "34.0487319,-118.2561837"
PREVIOUS_PCP = make_npi("177245913")
RELATION = "grandniece-zqx"


def audited(config: dict):
    return create_app({**config, "PD_API_KEYS": KEYS})


def entries(client, **params) -> list[dict]:
    """Every entry matching `params`, newest first, following the pages."""
    found, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/audit", query_string=query, headers=ADMIN)
        assert response.status_code == 200, response.json
        assert not list(schema_validator("AuditPage").iter_errors(response.json))
        found += response.json["entries"]
        cursor = response.json["next_cursor"]
        if not cursor:
            return found


def stored_bytes(config: dict) -> bytes:
    """The audit log's files as they are on disk (the WAL holds the newest pages)."""
    path = audit_path(config)
    return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))


def wait_for_entry(client, timeout=120, **params) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = entries(client, **params)
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no audit entry {params}")


def member(**more) -> dict:
    return {
        "member_id": MEMBER_ID,
        "home": HOME,
        "plan": "sunrise-medi-cal",
        "line_of_business": "medi-cal",
        "age": 41,
        "languages": ["es"],
        "previous_pcps": [PREVIOUS_PCP],
        "family_pcps": [{"npi": PREVIOUS_PCP, "relation": RELATION}],
        **more,
    }


def test_a_match_leaves_no_member_data_in_the_audit_log(directory_config):
    client = audited(directory_config).test_client()
    since = utc_stamp()
    answer = client.post("/v1/match", json=member(), headers=ENROLLMENT)
    assert answer.status_code == 200
    refused = client.post("/v1/match", json=member(age=f"{MEMBER_ID}-age"), headers=ENROLLMENT)
    assert refused.status_code == 400
    found = entries(client, action="match", since=since)
    assert [(e["outcome"], e["status"]) for e in found] == [("failed", 400), ("succeeded", 200)]
    failed, matched = found
    assert failed["details"]["fields"] == ["age"]
    assert (matched["actor"], matched["role"], matched["door"]) == (
        "member-services",
        "enrollment",
        "http",
    )
    assert matched["details"]["candidates"] == len(answer.json["candidates"]) > 0
    assert matched["details"]["qualifying"] == answer.json["qualifying"]
    assert matched["request"] == "POST /v1/match"
    served = json.dumps(entries(client)).encode()
    for value in (MEMBER_ID, HOME, "34.0487319", "118.2561837", PREVIOUS_PCP, RELATION):
        assert value.encode() not in served, value
        assert value.encode() not in stored_bytes(directory_config), value


def test_an_assignment_is_recorded_from_upload_to_download_without_member_data(
    directory_config, roster_docs
):
    client = audited(directory_config).test_client()
    since = utc_stamp()
    rows = member_rows(roster_docs, 20, seed=5)
    rows[0] = {**rows[0], "member_id": MEMBER_ID, "home": HOME, "previous_pcps": PREVIOUS_PCP}
    submitted = client.post(
        "/v1/assignments",
        data={"file": (io.BytesIO(as_csv(rows)), "december-batch.csv")},
        headers=ENROLLMENT,
        content_type="multipart/form-data",
    )
    assert submitted.status_code == 202
    job_id = submitted.json["id"]
    ended = wait_for_entry(client, action="assignment.job", since=since)
    job = client.get(f"/v1/assignments/{job_id}", headers=ENROLLMENT).json
    assert client.get(job["links"]["result"], headers=ENROLLMENT).status_code == 200
    found = {e["action"]: e for e in entries(client, action="assignment", since=since)}
    assert set(found) == {"assignment.submit", "assignment.job", "assignment.result"}
    assert found["assignment.submit"]["details"]["file"] == "december-batch.csv"
    assert {e["job_id"] for e in found.values()} == {job_id}
    assert (ended["actor"], ended["door"], ended["outcome"]) == (
        "member-services",
        "job",
        "succeeded",
    )
    assert ended["details"]["members_assigned"] == job["progress"]["members_assigned"]
    assert ended["details"]["members_unassigned"] == job["progress"]["members_unassigned"]
    assert ended["details"]["seconds"] >= 0
    stored = stored_bytes(directory_config) + json.dumps(entries(client)).encode()
    for value in (MEMBER_ID, HOME, PREVIOUS_PCP):
        assert value.encode() not in stored, value


def test_refused_and_failed_requests_are_recorded_without_the_keys(directory_config):
    client = audited(directory_config).test_client()
    since = utc_stamp()
    wrong = "zq-not-a-key-0123456789abcdef"
    job = "0" * 32
    assert client.get("/v1/reports/unverified").status_code == 401
    assert client.get("/v1/reports/unverified", headers={"X-API-Key": wrong}).status_code == 401
    assert client.post("/v1/match", json=member(), headers=IMPORTER).status_code == 403
    assert client.get(f"/v1/imports/{job}", headers=ENROLLMENT).status_code == 403
    assert client.get(f"/v1/imports/{job}", headers=IMPORTER).status_code == 404
    assert client.get("/v1/reports/unverified?days=0", headers=IMPORTER).status_code == 400
    found = entries(client, since=since)
    seen = [(e["action"], e["actor"], e["role"], e["outcome"], e["status"]) for e in found]
    assert seen[::-1] == [
        ("report.unverified", "no key", None, "refused", 401),
        ("report.unverified", "unknown key", None, "refused", 401),
        ("match", "data-team", "importer", "refused", 403),
        ("import.status", "member-services", "enrollment", "refused", 403),
        # The status poll that got through (a 404) is not recorded; the bad report request is.
        ("report.unverified", "data-team", "importer", "failed", 400),
    ]
    assert found[0]["details"] == {
        "error": "invalid_parameter",
        "fields": ["days"],
        "seconds": found[0]["details"]["seconds"],
    }
    for key in (wrong, IMPORTER_KEY, ENROLLMENT_KEY, ADMIN_KEY):
        assert key.encode() not in stored_bytes(directory_config)


def test_only_admins_read_the_log_newest_first_in_pages(directory_config):
    client = audited(directory_config).test_client()
    assert client.get("/v1/audit").status_code == 401
    assert client.get("/v1/audit", headers=IMPORTER).status_code == 403
    # `since` is inclusive to the millisecond: the refused read above must fall before it.
    time.sleep(0.002)
    since = utc_stamp()
    for days in (30, 60, 90, 120, 150):
        url = f"/v1/reports/unverified?days={days}"
        assert client.get(url, headers=IMPORTER).status_code == 200
    # `until` is exclusive and stamps are to the millisecond: one later than the last entry's.
    time.sleep(0.002)
    until = utc_stamp()
    pages, cursor = [], None
    while True:
        query = {
            "since": since,
            "until": until,
            "limit": 2,
            **({"cursor": cursor} if cursor else {}),
        }
        body = client.get("/v1/audit", query_string=query, headers=ADMIN).json
        pages.append(body["entries"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [e for page in pages for e in page]
    assert [e["details"]["days"] for e in flat] == [150, 120, 90, 60, 30]
    assert [e["at"] for e in flat] == sorted((e["at"] for e in flat), reverse=True)
    assert {e["action"] for e in entries(client, since=since, action="report")} == {
        "report.unverified"
    }
    assert entries(client, since=since, action="repo") == []
    assert entries(client, since=until, until=since) == []
    vague = client.get("/v1/audit", query_string={"since": "yesterday"}, headers=ADMIN)
    assert vague.status_code == 400
    assert set(vague.json["error"]["fields"]) == {"since"}
    assert client.get("/v1/audit?colour=blue", headers=ADMIN).status_code == 400
    # Reading the log is recorded too, bad requests included.
    reads = entries(client, since=since, action="audit.read")
    assert {(e["actor"], e["role"]) for e in reads} == {("ops-lead", "admin")}
    assert {e["outcome"] for e in reads} == {"succeeded", "failed"}


def test_an_http_import_is_recorded_when_asked_for_and_when_it_ends(fresh_config):
    client = audited(fresh_config).test_client()
    with open(EDGE_ROSTER, "rb") as fh:
        submitted = client.post(
            "/v1/imports",
            data={"file": (fh, "edge.csv"), "mode": "full"},
            headers=IMPORTER,
            content_type="multipart/form-data",
        )
    assert submitted.status_code == 202
    job_id = submitted.json["id"]
    ended = wait_for_entry(client, action="import.job")
    job = client.get(f"/v1/imports/{job_id}", headers=IMPORTER).json
    asked = entries(client, action="import.submit")[0]
    assert (asked["actor"], asked["role"], asked["outcome"], asked["status"]) == (
        "data-team",
        "importer",
        "succeeded",
        202,
    )
    assert asked["job_id"] == ended["job_id"] == job_id
    assert asked["details"]["files"] == ["edge.csv"]
    assert (asked["details"]["layout"], asked["details"]["mode"]) == (None, "full")
    assert (ended["actor"], ended["outcome"]) == ("data-team", "succeeded")
    for name, value in job["progress"].items():
        assert ended["details"][name] == value, name
    assert ended["details"]["rows_rejected"] == len(EXPECTED_EDGE["rejected"])
    assert ended["details"]["generation"] == job["generation"]


def cli(config: dict, *args):
    env = {key: None if value is None else str(value) for key, value in config.items()}
    return CliRunner().invoke(main, list(map(str, args)), env=env)


def test_the_command_line_is_recorded_and_reads_the_log(fresh_config):
    assert cli_import(fresh_config, EDGE_ROSTER).exit_code == 0
    failed = cli_import(fresh_config, EDGE_ROSTER, "--layout", "no-such-layout")
    assert failed.exit_code != 0
    result = cli(fresh_config, "audit", "--json", "--action", "import")
    assert result.exit_code == 0, (result.output, result.exception)
    bad, good = [json.loads(line) for line in result.stdout.splitlines()]
    assert good["actor"].startswith("command line (") and good["door"] == "cli"
    assert (good["outcome"], good["details"]["files"]) == ("succeeded", [str(EDGE_ROSTER)])
    assert good["details"]["rows_rejected"] == len(EXPECTED_EDGE["rejected"])
    assert (bad["outcome"], bad["details"]["error"]) == ("failed", "LayoutError")
    shown = cli(fresh_config, "audit", "--limit", "1")
    assert shown.stdout.count("\n") == 1 and "\taudit.read\t" in shown.stdout
    assert cli(fresh_config, "audit", "--since", "soon").exit_code == 2


def test_entries_cannot_be_changed_or_removed(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite3")
    log.append(Entry(actor="ops-lead", door="cli", action="publish", outcome="succeeded"))
    db = sqlite3.connect(log.path)
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(statement)
    db.close()
    assert [e.actor for e in log.read(Filter(), 10)] == ["ops-lead"]


def test_a_request_is_recorded_with_the_status_actually_sent(tmp_path):
    config = {**engine_config("embedded", tmp_path), "PD_MAX_UPLOAD_BYTES": 1000}
    client = audited(config).test_client()
    too_big = client.post(
        "/v1/imports",
        data={"file": (io.BytesIO(b"npi,zip\n" + b"1234567893,90012\n" * 100), "big.csv")},
        headers=IMPORTER,
        content_type="multipart/form-data",
    )
    assert too_big.status_code == 413
    [entry] = entries(client, action="import")
    assert (entry["outcome"], entry["status"]) == ("failed", 413)
    assert entry["details"]["error"] == too_big.json["error"]["code"]
