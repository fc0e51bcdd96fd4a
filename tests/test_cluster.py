"""On a 3-node Elasticsearch cluster (`make test-cluster`): a node killed under search load costs no
search, an import with a node down completes or changes nothing, the node comes back and the
cluster is green again; two Celery workers on one Redis run two queued imports one at a time."""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.engines import create_engine
from tests.conftest import FIXTURE_ROSTER, REDIS_URL, ROOT, TEST_PREFIX, engine_config
from tests.search_load import SearchLoad, expected_totals
from tests.test_imports import STAFF, Worker, upload, wait_for

pytestmark = pytest.mark.cluster

SCRIPT = ROOT / "scripts" / "elasticsearch.sh"
# The searches run for this long; the node dies a third of the way in.
LOAD_SECONDS = 9.0


def cluster_urls() -> str:
    return (
        os.environ.get("PD_TEST_CLUSTER_URL")
        or subprocess.run(
            ["bash", str(SCRIPT), "cluster-urls"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )


def get(url: str, path: str, **params):
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(url + path + query, timeout=120) as response:
        return json.load(response)


def bring_back_every_node() -> subprocess.CompletedProcess:
    """Start whichever cluster nodes do not answer, and wait for all of them and green."""
    return subprocess.run(
        ["bash", str(SCRIPT), "cluster-start"], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def cluster() -> list[str]:
    """The cluster's node URLs; fails unless every node answers."""
    urls = cluster_urls().split(",")
    for url in urls:
        try:
            get(url, "/")
        except OSError:
            pytest.fail(
                f"cluster node {url} does not answer: run `make test-cluster` (it starts the "
                "cluster) or set PD_TEST_CLUSTER_URL",
                pytrace=False,
            )
    yield urls
    for url in urls:
        try:
            delete = urllib.request.Request(f"{url}/{TEST_PREFIX}*", method="DELETE")
            urllib.request.urlopen(delete, timeout=60).close()
            break
        except OSError:
            continue


@pytest.fixture
def cluster_config(cluster, tmp_path) -> dict:
    """An empty directory of its own on the cluster, one replica of each shard."""
    config = engine_config(
        "elasticsearch", tmp_path, prefix=f"{TEST_PREFIX}{uuid.uuid4().hex[:6]}-"
    )
    return {**config, "ELASTICSEARCH_URL": ",".join(cluster), "PD_ES_REPLICAS": 1}


def small_roster(directory: Path, rows: int = 600) -> Path:
    """The first rows of the fixture roster."""
    lines = FIXTURE_ROSTER.read_text(encoding="utf-8").splitlines(keepends=True)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "roster.csv"
    path.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return path


def node_of_primary(url: str, index: str) -> dict:
    """The node holding the primary shard of `index`: its name, HTTP address and process id."""
    shards = get(url, f"/_cat/shards/{index}", format="json")
    primary = next(s["node"] for s in shards if s["prirep"] == "p")
    nodes = get(url, "/_nodes/process,http")["nodes"].values()
    node = next(n for n in nodes if n["name"] == primary)
    return {
        "name": node["name"],
        "url": f"http://{node['http']['publish_address']}",
        "pid": node["process"]["id"],
    }


def test_a_node_killed_under_load_costs_no_search_and_comes_back_green(cluster_config, tmp_path):
    app = create_app(cluster_config)
    runner = app.test_cli_runner()
    imported = runner.invoke(args=["import", str(small_roster(tmp_path))])
    assert imported.exit_code == 0, imported.output
    engine = create_engine(cluster_config)
    index = engine.live_generation()
    client = app.test_client()
    expected = expected_totals(client)
    assert all(expected.values()), expected
    url = cluster_config["ELASTICSEARCH_URL"].split(",")[0]
    shards = get(url, f"/_cat/shards/{index}", format="json")
    assert sorted(s["prirep"] for s in shards if s["state"] == "STARTED") == ["p", "r"]

    victim = node_of_primary(url, index)
    start = time.monotonic()
    killed_at = start + LOAD_SECONDS / 3
    load = SearchLoad(app, expected, start + LOAD_SECONDS)
    try:
        time.sleep(max(0.0, killed_at - time.monotonic()))
        os.kill(victim["pid"], signal.SIGKILL)
        load.join()
        # 0 failed searches, and plenty answered after the node died.
        assert load.failures == []
        after = [t for t in load.answered if t > killed_at]
        assert len(after) >= 10, len(load.answered)

        # An import with the node down completes, or fails and changes nothing.
        survivor = next(
            u for u in cluster_config["ELASTICSEARCH_URL"].split(",") if u != victim["url"]
        )
        get(survivor, "/_cluster/health", wait_for_nodes=2, timeout="60s")
        before = engine.health()
        reindexed = runner.invoke(args=["reindex"])
        live = engine.health()
        if reindexed.exit_code == 0:
            assert live["generation"] != before["generation"]
            assert live["providers"] == before["providers"]
        else:
            assert live == before, reindexed.output
        assert [g for g in engine.generations() if not g.get("live")] == []
        assert expected_totals(client) == expected
    finally:
        back = bring_back_every_node()
    assert back.returncode == 0, back.stderr
    health = get(url, "/_cluster/health", wait_for_status="green", timeout="120s")
    assert (health["status"], health["number_of_nodes"]) == ("green", 3), health
    assert get(victim["url"], "/")["name"] == victim["name"]
    assert expected_totals(client) == expected
    print(
        f"searches answered: {len(load.answered)} ({len(after)} after the kill), failed: 0; "
        f"reindex with a node down: {'completed' if reindexed.exit_code == 0 else 'failed cleanly'}"
    )
    engine.close()


def test_two_workers_on_one_redis_run_two_queued_imports_one_at_a_time(
    cluster_config, redis_client, tmp_path
):
    config = {
        **cluster_config,
        "PD_BROKER_URL": REDIS_URL,
        "PD_QUEUE": f"{cluster_config['PD_INDEX_PREFIX']}imports",
        "PD_VISIBILITY_TIMEOUT": 600,
        "PD_REDELIVERY_CHECK_SECONDS": 1.0,
    }
    client = create_app(config).test_client()
    first, second = small_roster(tmp_path / "a", 400), small_roster(tmp_path / "b", 800)
    # Both queued before any worker runs.
    urls = [upload(client, roster).headers["Location"] for roster in (first, second)]
    lock_key = f"{config['PD_INDEX_PREFIX']}lock:directory"
    holders: list[str] = []
    watching = threading.Event()

    def watch_the_lock() -> None:
        while not watching.is_set():
            raw = redis_client.get(lock_key)
            holder = raw.decode().split(" ", 1)[0] if raw else None
            if holder and (not holders or holders[-1] != holder):
                holders.append(holder)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_the_lock)
    watcher.start()
    workers = [Worker(config, tmp_path / f"worker-{n}.log") for n in (1, 2)]
    try:
        jobs = [wait_for(client, url, timeout=300) for url in urls]
    finally:
        for worker in workers:
            worker.stop()
        watching.set()
        watcher.join()
    logs = "\n".join((tmp_path / f"worker-{n}.log").read_text() for n in (1, 2))
    assert [job["state"] for job in jobs] == ["succeeded", "succeeded"], (jobs, logs)
    # One at a time: the lock went from one job to the other, never back, each job ran once.
    assert sorted(holders) == sorted(job["id"] for job in jobs), holders
    assert [job["attempts"] for job in jobs] == [1, 1]
    ran = sorted(jobs, key=lambda job: job["timing"]["started_at"])
    assert holders == [job["id"] for job in ran], holders
    engine = create_engine(config)
    assert engine.health()["generation"] == ran[1]["generation"]
    assert engine.health()["providers"] == ran[1]["providers"]
    assert client.get("/v1/imports/" + jobs[0]["id"], headers=STAFF).json["state"] == "succeeded"
    engine.close()
