"""Imports over HTTP: staff only, asynchronous (a thread with no broker, a real Celery worker with
Redis), observable, and a worker killed mid-import costs nothing."""

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.engines import create_engine
from fixtures.generate import COLUMNS, generate_rows
from indexer.pipeline import CHECK_CHUNK
from tests.conftest import (
    EDGE_ROSTER,
    ENROLLMENT_KEY,
    FIXTURE_ROSTER,
    IMPORTER_KEY,
    REDIS_URL,
    ROOT,
)

EXPECTED_EDGE = json.loads(EDGE_ROSTER.with_suffix(".expected.json").read_text(encoding="utf-8"))
STAFF = {"Authorization": f"Bearer {IMPORTER_KEY}"}


def upload(client, path: Path, headers=STAFF, **form):
    with open(path, "rb") as fh:
        data = {"file": (io.BytesIO(fh.read()), path.name), **form}
    return client.post(
        "/v1/imports", data=data, headers=headers, content_type="multipart/form-data"
    )


def wait_for(client, url: str, timeout: float = 120, until=("succeeded", "failed")) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url, headers=STAFF).json
        if body["state"] in until:
            return body
        time.sleep(0.2)
    raise AssertionError(f"job did not finish: {body}")


def test_imports_need_a_staff_key_with_the_right_role(fresh_config):
    client = create_app(fresh_config).test_client()
    assert upload(client, EDGE_ROSTER, headers={}).status_code == 401
    assert upload(client, EDGE_ROSTER, headers={"Authorization": "Bearer wrong"}).status_code == 401
    forbidden = upload(client, EDGE_ROSTER, headers={"X-API-Key": ENROLLMENT_KEY})
    assert forbidden.status_code == 403
    assert forbidden.json["error"]["code"] == "forbidden"
    assert client.get("/v1/imports/" + "0" * 32).status_code == 401


def test_bad_uploads_are_refused(fresh_config, tmp_path):
    client = create_app({**fresh_config, "PD_MAX_UPLOAD_BYTES": 10_000}).test_client()
    empty = client.post("/v1/imports", data={}, headers=STAFF, content_type="multipart/form-data")
    assert empty.status_code == 400 and "file" in empty.json["error"]["fields"]
    text = tmp_path / "roster.txt"
    text.write_text("hello", encoding="utf-8")
    assert upload(client, text).status_code == 400
    small = tmp_path / "small.csv"
    small.write_text(
        "".join(EDGE_ROSTER.read_text(encoding="utf-8").splitlines(True)[:3]), encoding="utf-8"
    )
    bad_layout = upload(client, small, layout="no-such-layout")
    assert bad_layout.status_code == 400 and "layout" in bad_layout.json["error"]["fields"]
    too_big = upload(client, FIXTURE_ROSTER)
    assert too_big.status_code == 413
    assert too_big.json["error"]["status"] == 413
    assert client.get("/v1/imports/" + "0" * 32, headers=STAFF).status_code == 404


def test_upload_runs_in_the_background_and_reports_rejects(fresh_config):
    app = create_app(fresh_config)
    client = app.test_client()
    response = upload(client, EDGE_ROSTER)
    assert response.status_code == 202
    assert response.headers["Location"] == response.json["links"]["self"]
    job = wait_for(client, response.headers["Location"])
    assert job["state"] == "succeeded", job
    assert job["progress"]["rows_imported"] == EXPECTED_EDGE["imported_rows"]
    assert job["progress"]["rows_rejected"] == len(EXPECTED_EDGE["rejected"])
    assert job["progress"]["rows_with_warnings"] == EXPECTED_EDGE["rows_with_warnings"]
    assert job["progress"]["rows_skipped"] == 0
    assert job["timing"]["seconds"] >= 0
    rejects = client.get(job["links"]["rejects"], headers=STAFF)
    assert rejects.status_code == 200
    rows = list(csv.DictReader(io.StringIO(rejects.get_data(as_text=True))))
    # Rejected rows are the errors; the file also lists the warnings of rows that went in.
    rejected = {int(r["line"]) for r in rows if r["severity"] == "error"}
    assert rejected == {e["line"] for e in EXPECTED_EDGE["rejected"]}
    warned = {int(r["line"]) for r in rows if r["severity"] == "warning"}
    assert warned == {e["line"] for e in EXPECTED_EDGE["warned"]}
    assert all(r["reason"] for r in rows)
    health = client.get("/v1/health").json
    assert health["generation"] == job["generation"]
    assert health["providers"] == len(EXPECTED_EDGE["imported_npis"])


def write_generated(path: Path, locations: int, seed: int) -> int:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        count = 0
        for row in generate_rows(locations, seed=seed):
            writer.writerow(row)
            count += 1
    return count


class Worker:
    """A real Celery worker started the way the README tells users to (`make worker`: the default
    prefork pool), configured like the app under test through the environment."""

    def __init__(self, config: dict, log_path: Path):
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        for key, value in config.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        # Its own process group: make, the Celery main process and its pool children.
        self.process = subprocess.Popen(
            ["make", "-s", "worker"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        """Whether the Celery worker still runs (make waits on it)."""
        return self.process.poll() is None

    def _group_alive(self) -> bool:
        self.process.poll()  # reap make once it has exited, so only live members count
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL the whole worker: make, the main process and every pool child."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self._group_alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while self._group_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self._group_alive():
                self.kill()
        self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def celery_config(fresh_config, redis_client):
    return {
        **fresh_config,
        "PD_BROKER_URL": REDIS_URL,
        "PD_QUEUE": f"{fresh_config['PD_INDEX_PREFIX']}imports-{uuid.uuid4().hex[:6]}",
        "PD_VISIBILITY_TIMEOUT": 6,
        "PD_REDELIVERY_CHECK_SECONDS": 1.0,
    }


def test_a_celery_worker_runs_the_import(celery_config, tmp_path):
    """A roster big enough to be validated in parallel too: a prefork pool child may not start
    processes of its own, so it validates in-process."""
    roster = tmp_path / "big.csv"
    rows = write_generated(roster, 4500, seed=7)
    assert rows > CHECK_CHUNK
    worker = Worker(celery_config, tmp_path / "worker.log")
    try:
        client = create_app(celery_config).test_client()
        response = upload(client, EDGE_ROSTER)
        assert response.status_code == 202
        job = wait_for(client, response.headers["Location"], timeout=90)
        assert job["state"] == "succeeded", (job, (tmp_path / "worker.log").read_text())
        assert job["progress"]["rows_imported"] == EXPECTED_EDGE["imported_rows"]
        job = wait_for(client, upload(client, roster).headers["Location"], timeout=90)
        assert job["state"] == "succeeded", (job, (tmp_path / "worker.log").read_text())
        assert job["progress"]["rows_read"] == rows
        # The worker logs as the app does: one JSON object a line (its start-up banner aside).
        logged = [
            json.loads(line)
            for line in (tmp_path / "worker.log").read_text().splitlines()
            if line.startswith("{")
        ]
        assert {"time", "level", "logger", "message"} <= set(logged[0])
        finished = [e for e in logged if "succeeded in" in e["message"]]
        assert len(finished) == 2 and {e["logger"] for e in finished} == {"celery.app.trace"}
        assert any(e["message"].endswith("ready.") for e in logged)
    finally:
        worker.stop()


def test_a_job_whose_task_fails_reads_failed_with_the_reason(celery_config, tmp_path):
    """Whatever a task raises that is not retried ends the job as failed, never running for
    ever."""
    client = create_app(celery_config).test_client()
    response = upload(client, EDGE_ROSTER)
    # Queued while no worker runs; its upload disappears before a worker takes it.
    shutil.rmtree(Path(celery_config["PD_DATA_DIR"]) / "uploads")
    worker = Worker(celery_config, tmp_path / "worker.log")
    try:
        job = wait_for(client, response.headers["Location"], timeout=90)
    finally:
        worker.stop()
    assert job["state"] == "failed", (job, (tmp_path / "worker.log").read_text())
    assert "No such file" in job["error"] and "roster_edge_cases.csv" in job["error"]
    assert job["timing"]["finished_at"] is not None


def test_killing_the_worker_mid_import_costs_nothing(celery_config, tmp_path):
    """SIGKILL the worker during an import: the job is redelivered to a new worker, the directory
    ends exactly as a clean import would leave it, and the old directory serves meanwhile."""
    engine = create_engine(celery_config)
    old = tmp_path / "old.csv"
    old.write_text(FIXTURE_ROSTER.read_text(encoding="utf-8"), encoding="utf-8")
    from indexer.pipeline import import_roster

    before = import_roster(engine, old)
    roster = tmp_path / "big.csv"
    write_generated(roster, 12_000, seed=99)
    expected_engine = create_engine(
        {
            **celery_config,
            "PD_DATA_DIR": str(tmp_path / "clean"),
            "PD_INDEX_PREFIX": celery_config["PD_INDEX_PREFIX"] + "x-",
        }
    )
    expected = import_roster(expected_engine, roster)

    log_path = tmp_path / "worker.log"
    worker = Worker(celery_config, log_path)
    second = None
    try:
        client = create_app(celery_config).test_client()
        url = upload(client, roster).headers["Location"]
        body = wait_for(client, url, timeout=60, until=("running", "succeeded", "failed"))
        deadline = time.monotonic() + 60
        while body["state"] == "running" and body["progress"]["rows_read"] < 2000:
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
            body = client.get(url, headers=STAFF).json
        assert body["state"] == "running", "the import finished before the worker could be killed"
        worker.kill()
        # The live directory is the old one, and serves.
        health = client.get("/v1/health").json
        assert health["generation"] == before.generation
        assert client.get("/v1/providers?limit=1").status_code == 200
        second = Worker(celery_config, log_path)
        job = wait_for(client, url, timeout=180)
        assert job["state"] == "succeeded", (job, log_path.read_text())
        assert job["attempts"] == 2
    finally:
        worker.stop()
        if second is not None:
            second.stop()
    assert job["progress"]["rows_imported"] == expected.rows_imported
    health = engine.health()
    assert health["providers"] == expected.providers
    assert health["generation"] == job["generation"]
    # Nothing half-built is left behind, and the documents are those of a clean import.
    assert [g for g in engine.generations() if not g.get("live")] == []
    with open(roster, encoding="utf-8") as fh:
        npis = sorted({r["npi"] for r in csv.DictReader(fh)})
    sample = npis[:: max(1, len(npis) // 50)]
    assert [engine.get(n) for n in sample] == [expected_engine.get(n) for n in sample]
    engine.close()
    expected_engine.close()


def csv_to_xlsx(source: Path, target: Path) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    with open(source, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            sheet.append(row)
    workbook.save(target)
    return target


def test_an_excel_roster_imports_like_its_csv(fresh_config, tmp_path):
    client = create_app(fresh_config).test_client()
    workbook = csv_to_xlsx(EDGE_ROSTER, tmp_path / "edge.xlsx")
    job = wait_for(client, upload(client, workbook).headers["Location"])
    assert job["state"] == "succeeded", job
    assert job["progress"]["rows_imported"] == EXPECTED_EDGE["imported_rows"]
    assert job["progress"]["rows_rejected"] == len(EXPECTED_EDGE["rejected"])


def test_a_decompression_bomb_fails_the_job_and_changes_nothing(fresh_config, tmp_path):
    import zipfile

    client = create_app(fresh_config).test_client()
    first = wait_for(client, upload(client, EDGE_ROSTER).headers["Location"])
    bomb = tmp_path / "bomb.xlsx"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member,
    ):
        for _ in range(64):
            member.write(b"\0" * (1 << 20))
    assert bomb.stat().st_size < 1_000_000
    job = wait_for(client, upload(client, bomb).headers["Location"])
    assert job["state"] == "failed"
    assert job["error"]
    assert client.get("/v1/health").json["generation"] == first["generation"]


def test_a_plannet_bundle_imports_over_http(fresh_config):
    client = create_app(fresh_config).test_client()
    bundle = ROOT / "fixtures" / "plannet" / "bundle.json"
    expected = json.loads((bundle.parent / "expected.json").read_text(encoding="utf-8"))
    job = wait_for(client, upload(client, bundle).headers["Location"])
    assert job["state"] == "succeeded", job
    assert job["progress"]["rows_rejected"] == 0
    assert client.get("/v1/health").json["providers"] == len(
        {row["npi"] for row in expected["bundle"]["rows"]}
    )
