"""Faults on both engines: a rebuild under search load fails no search; the engine down is a JSON
503 and answers again without restarting the API; Redis down mid-import fails or resumes the job,
never half-applies it. (A worker killed mid-import: tests/test_imports.py; a node of a cluster
killed under load: tests/test_cluster.py.)"""

import csv
import shutil
import time
import urllib.parse
import uuid
from pathlib import Path

from app import create_app
from app.engines import create_engine
from app.engines.embedded import LIVE_NAME
from indexer.pipeline import import_roster
from tests.conftest import FIXTURE_ROSTER
from tests.redis_server import RedisServer
from tests.search_load import SearchLoad, expected_totals
from tests.tcp_proxy import TcpProxy
from tests.test_imports import STAFF, Worker, upload, wait_for, write_generated

REBUILDS = 2


def small_roster(directory: Path, rows: int = 600) -> Path:
    """The first rows of the fixture roster."""
    lines = FIXTURE_ROSTER.read_text(encoding="utf-8").splitlines(keepends=True)
    path = directory / "small.csv"
    path.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return path


def test_rebuilding_under_search_load_fails_no_search(fresh_config, tmp_path):
    app = create_app(fresh_config)
    runner = app.test_cli_runner()
    imported = runner.invoke(args=["import", str(small_roster(tmp_path))])
    assert imported.exit_code == 0, imported.output
    client = app.test_client()
    first = client.get("/v1/health").json["generation"]
    expected = expected_totals(client)
    load = SearchLoad(app, expected)
    try:
        for _ in range(REBUILDS):
            rebuilt = runner.invoke(args=["reindex"])
            assert rebuilt.exit_code == 0, rebuilt.output
    finally:
        load.stop()
    assert load.failures == []
    assert len(load.answered) >= 10
    assert client.get("/v1/health").json["generation"] != first
    assert expected_totals(client) == expected


def test_the_engine_down_is_a_503_and_answers_again_without_a_restart(fresh_config, tmp_path):
    """Elasticsearch: the network path to it cut and mended; embedded: its file gone and back."""
    proxy = None
    config = dict(fresh_config)
    import_roster(create_engine(config), small_roster(tmp_path, rows=200))
    if config["ELASTICSEARCH_URL"]:
        target = urllib.parse.urlsplit(config["ELASTICSEARCH_URL"])
        proxy = TcpProxy(target.hostname, target.port)
        proxy.up()
        config.update(ELASTICSEARCH_URL=proxy.url, PD_ES_TIMEOUT=2.0)
    live = Path(config["PD_DATA_DIR"]) / LIVE_NAME
    away = live.with_suffix(".away")
    client = create_app(config).test_client()
    urls = ("/v1/providers?q=pediatrics", "/v1/health", "/v1/providers?near=90012")
    answers = {url: client.get(url).get_json() for url in urls}
    assert all(client.get(url).status_code == 200 for url in urls)
    try:
        if proxy is not None:
            proxy.down()
        else:
            live.rename(away)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 503, url
            assert response.json["error"]["code"] == "engine_unavailable"
            assert "Traceback" not in response.get_data(as_text=True)
    finally:
        if proxy is not None:
            proxy.up()
        else:
            away.rename(live)
    # The same app, not restarted, answers again at once, as before.
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True))
        assert response.get_json() == answers[url]
    if proxy is not None:
        proxy.down()


def test_redis_down_mid_import_fails_or_resumes_the_job_never_half_applies(fresh_config, tmp_path):
    """Redis (broker, job records and the import lock) killed while a worker imports, then back:
    the job ends succeeded with exactly a clean import's directory, or failed with the old one
    still live; never something in between, never running for ever."""
    engine = create_engine(fresh_config)
    before = import_roster(engine, small_roster(tmp_path))
    roster = tmp_path / "big.csv"
    write_generated(roster, 6_000, seed=41)
    expected_engine = create_engine(
        {
            **fresh_config,
            "PD_DATA_DIR": str(tmp_path / "clean"),
            "PD_INDEX_PREFIX": fresh_config["PD_INDEX_PREFIX"] + "x-",
        }
    )
    expected = import_roster(expected_engine, roster)

    server = RedisServer(tmp_path / "redis")
    server.start()
    config = {
        **fresh_config,
        "PD_BROKER_URL": server.url,
        "PD_QUEUE": f"{fresh_config['PD_INDEX_PREFIX']}imports-{uuid.uuid4().hex[:6]}",
        "PD_VISIBILITY_TIMEOUT": 6,
        "PD_REDELIVERY_CHECK_SECONDS": 1.0,
    }
    log_path = tmp_path / "worker.log"
    workers = [Worker(config, log_path)]
    try:
        client = create_app(config).test_client()
        url = upload(client, roster).headers["Location"]
        body = wait_for(client, url, timeout=60, until=("running", "succeeded", "failed"))
        deadline = time.monotonic() + 60
        while body["state"] == "running" and body["progress"]["rows_read"] < 1000:
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
            body = client.get(url, headers=STAFF).json
        assert body["state"] == "running", "the import finished before Redis could be killed"
        server.kill()
        # Meanwhile the live directory is the old one, and serves.
        assert engine.health()["generation"] == before.generation
        assert client.get("/v1/providers?limit=1").status_code == 200
        time.sleep(3)
        server.start()
        # Celery's main process may exit on losing its broker (kombu's Redis transport fails
        # while giving back unacknowledged jobs), whenever it gets there: a supervisor starts it
        # again each time it exits, as here.
        deadline = time.monotonic() + 180
        job = client.get(url, headers=STAFF).json
        while job["state"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, (job, log_path.read_text())
            if not workers[-1].alive():
                workers.append(Worker(config, log_path))
            time.sleep(0.2)
            job = client.get(url, headers=STAFF).json
    finally:
        for worker in workers:
            worker.stop()
        server.kill()
    health = engine.health()
    if job["state"] == "succeeded":
        assert job["progress"]["rows_imported"] == expected.rows_imported
        assert health["generation"] == job["generation"]
        assert health["providers"] == expected.providers
        with open(roster, encoding="utf-8") as fh:
            npis = sorted({r["npi"] for r in csv.DictReader(fh)})
        sample = npis[:: max(1, len(npis) // 50)]
        assert [engine.get(n) for n in sample] == [expected_engine.get(n) for n in sample]
    else:
        assert job["state"] == "failed" and job["error"], (job, log_path.read_text())
        assert health["generation"] == before.generation
        assert health["providers"] == before.providers
    assert [g for g in engine.generations() if not g.get("live")] == []
    print(
        f"Redis down mid-import: the job {job['state']} after {job['attempts']} attempt(s); "
        f"worker started {len(workers) - 1} more time(s)"
    )
    engine.close()
    expected_engine.close()
    shutil.rmtree(tmp_path / "redis", ignore_errors=True)
