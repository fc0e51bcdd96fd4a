"""A job whose worker is gone, however it went, is queued again and run to the end by a worker;
after MAX_RUNS runs it fails with the reason instead. Real Redis, real `make worker`."""

import base64
import contextlib
import json
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.engines import create_engine
from app.jobs.executors import SUBMIT
from app.jobs.liveness import MAX_RUNS, beating, give_back_stalled
from app.jobs.lock import FileLock
from app.jobs.request import ImportRequest
from app.jobs.runner import STORES, run_import_job
from app.jobs.store import AssignmentJob, FileJobStore, Job
from tests.conftest import EDGE_ROSTER, REDIS_URL
from tests.test_imports import EXPECTED_EDGE, STAFF, Worker, upload, wait_for


@pytest.fixture
def celery_config(fresh_config, redis_client):
    return {
        **fresh_config,
        "PD_BROKER_URL": REDIS_URL,
        "PD_QUEUE": f"{fresh_config['PD_INDEX_PREFIX']}imports-{uuid.uuid4().hex[:6]}",
        "PD_VISIBILITY_TIMEOUT": 6,
        "PD_REDELIVERY_CHECK_SECONDS": 1.0,
    }


def queued_job_ids(redis_client, queue: str) -> list[str]:
    """The job ids of the task messages waiting on a queue: kombu keeps a Redis queue as a list
    of messages whose body, base64, is the task's [args, kwargs, options]."""
    bodies = (json.loads(raw)["body"] for raw in redis_client.lrange(queue, 0, -1))
    return [json.loads(base64.b64decode(body))[0][0] for body in bodies]


def test_running_jobs_without_a_beat_are_queued_again_or_failed(celery_config, redis_client):
    app = create_app(celery_config)
    queue = celery_config["PD_QUEUE"]
    with app.app_context():
        imports, assignments = STORES["import"](), STORES["assignment"]()
        request = ImportRequest(files=[str(EDGE_ROSTER)])

        def running(job_id: str, attempts: int, store=imports, beat: bool = False) -> None:
            if store is imports:
                job = Job.new(job_id, request, EDGE_ROSTER.parent)
            else:
                job = AssignmentJob(id=job_id, filename="m.csv", upload_path="/nowhere/m.csv")
            job.state, job.attempts = "running", attempts
            store.save(job)
            if beat:
                # Two deliveries hold it; one is done with it, the other still works.
                store.beat(job_id, 30, holder="first")
                store.beat(job_id, 30, holder="second")
                store.end_beat(job_id, holder="first")

        prefix = uuid.uuid4().hex[:8]
        lost, alive, worn, waiting, lost_assignment = (f"{prefix}{n}" for n in range(5))
        running(lost, 1)
        running(alive, 1, beat=True)
        running(worn, MAX_RUNS)
        imports.save(Job.new(waiting, request, EDGE_ROSTER.parent))
        running(lost_assignment, 2, store=assignments)

        changed = give_back_stalled({k: s() for k, s in STORES.items()}, SUBMIT)

        assert sorted(changed) == sorted(
            [
                ("import", lost, "queued"),
                ("import", worn, "failed"),
                ("assignment", lost_assignment, "queued"),
            ]
        )
        assert imports.get(lost).state == "queued" and imports.get(lost).attempts == 1
        assert imports.get(alive).state == "running"
        assert imports.get(waiting).state == "queued"
        failed = imports.get(worn)
        assert failed.state == "failed" and failed.finished_at is not None
        assert f"stopped while running it, {MAX_RUNS} times" in failed.error
        assert assignments.get(lost_assignment).state == "queued"
        # Each job given back is on the broker's queue again, once.
        assert sorted(queued_job_ids(redis_client, queue)) == sorted([lost, lost_assignment])
        # A second look changes nothing: what was given back is queued, not running.
        assert give_back_stalled({k: s() for k, s in STORES.items()}, SUBMIT) == []
        redis_client.delete(queue)


def test_a_worker_takes_up_a_job_whose_worker_and_message_are_gone(
    celery_config, redis_client, tmp_path
):
    """As Redis going away under a worker can leave it: the job reads running, its worker is gone
    and the broker no longer holds its message. A worker finds it and runs it to the end."""
    client = create_app(celery_config).test_client()
    url = upload(client, EDGE_ROSTER).headers["Location"]
    job_id = url.rsplit("/", 1)[1]
    # No worker has taken it yet; its message is lost and its record left as a lost run leaves it.
    assert redis_client.delete(celery_config["PD_QUEUE"]) == 1
    app = create_app(celery_config)
    with app.app_context():
        STORES["import"]().update(job_id, state="running", attempts=1, started_at=time.time())
    log_path = tmp_path / "worker.log"
    worker = Worker(celery_config, log_path)
    try:
        job = wait_for(client, url, timeout=90)
    finally:
        worker.stop()
    assert job["state"] == "succeeded", (job, log_path.read_text())
    assert job["attempts"] == 2
    assert job["progress"]["rows_imported"] == EXPECTED_EDGE["imported_rows"]
    assert "lost its worker after 1 run(s); queued again" in log_path.read_text()
    assert client.get(url, headers=STAFF).json["state"] == "succeeded"


def test_a_delivery_that_waited_for_the_lock_finds_the_job_finished(fresh_config, tmp_path):
    """Two deliveries of one job: the second waits for the import lock while the first finishes
    the job. Holding the lock at last, it finds the job finished and imports nothing again."""
    config = create_app(fresh_config).config
    engine = create_engine(config)
    store = FileJobStore(tmp_path / "jobs")
    job_id = "twice"
    store.save(Job.new(job_id, ImportRequest(files=[str(EDGE_ROSTER)]), EDGE_ROSTER.parent))
    lock = FileLock(tmp_path / "import.lock")
    run_import_job(engine, store, lock, job_id, tmp_path / "out", config)
    first = store.get(job_id)
    assert first.state == "succeeded" and first.attempts == 1
    live = engine.health()["generation"]

    class HandedOverLock:
        """The lock as the second delivery meets it: the first, holding it, finishes the job
        and only then lets go."""

        @contextlib.contextmanager
        def hold(self, owner):
            store.update(job_id, state="succeeded")
            with lock.hold(owner):
                yield

    store.update(job_id, state="running")  # as the second delivery reads it, before waiting
    run_import_job(engine, store, HandedOverLock(), job_id, tmp_path / "out", config)
    assert engine.health()["generation"] == live
    assert store.get(job_id).attempts == 1
    engine.close()


def running_import(config: dict, job_id: str, tmp_path) -> None:
    """A job as a process that stopped mid-import leaves it, with no broker: its record reads
    running after one run, and no beat goes with it."""
    upload = tmp_path / "upload"
    upload.mkdir(exist_ok=True)
    shutil.copy(EDGE_ROSTER, upload / EDGE_ROSTER.name)
    job = Job.new(job_id, ImportRequest(files=[str(upload / EDGE_ROSTER.name)]), upload)
    job.state, job.attempts, job.started_at = "running", 1, time.time()
    FileJobStore(Path(config["PD_DATA_DIR"]) / "jobs").save(job)


def test_without_a_broker_a_job_read_after_its_process_stopped_runs_again(fresh_config, tmp_path):
    client = create_app(fresh_config).test_client()
    job_id = uuid.uuid4().hex
    running_import(fresh_config, job_id, tmp_path)
    job = wait_for(client, f"/v1/imports/{job_id}", timeout=60)
    assert job["state"] == "succeeded", job
    assert job["attempts"] == 2
    assert job["progress"]["rows_imported"] == EXPECTED_EDGE["imported_rows"]


def test_without_a_broker_a_server_runs_again_what_a_stopped_one_left(fresh_config, tmp_path):
    job_id = uuid.uuid4().hex
    running_import(fresh_config, job_id, tmp_path)
    app = create_app(fresh_config)  # as a restarted server starts: nothing taken yet
    store = FileJobStore(Path(fresh_config["PD_DATA_DIR"]) / "jobs")
    # A command run meanwhile takes nothing either (it would die with the job).
    assert app.test_cli_runner().invoke(args=["openapi"]).exit_code == 0
    time.sleep(0.5)
    assert store.get(job_id).state == "running" and store.get(job_id).attempts == 1
    # Its first request, whatever it asks and answers (no directory yet: 503), looks for them.
    app.test_client().get("/v1/health")
    deadline = time.monotonic() + 60
    while store.get(job_id).state not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, store.get(job_id)
        time.sleep(0.1)
    assert store.get(job_id).state == "succeeded" and store.get(job_id).attempts == 2
    assert app.extensions["pd_job_store"].get(job_id).generation is not None


def test_a_file_store_tells_a_running_job_with_a_beat_from_one_without(tmp_path):
    store = FileJobStore(tmp_path / "jobs")
    request = ImportRequest(files=[str(EDGE_ROSTER)])
    for job_id, attempts in (("alive", 1), ("lost", 1), ("worn", MAX_RUNS)):
        job = Job.new(job_id, request, EDGE_ROSTER.parent)
        job.state, job.attempts = "running", attempts
        store.save(job)
    store.beat("alive", 30, holder="thread")
    store.beat("lost", 30, holder="thread")
    store.end_beat("lost", holder="thread")
    submitted = []
    changed = give_back_stalled({"import": store}, {"import": submitted.append})
    assert sorted(changed) == [("import", "lost", "queued"), ("import", "worn", "failed")]
    assert submitted == ["lost"]
    assert store.get("alive").state == "running"
    assert f"{MAX_RUNS} times" in store.get("worn").error
    # The beat files are not jobs.
    assert sorted(store.ids_in_state("running")) == ["alive"]


def test_a_job_has_its_beat_before_the_work_starts(tmp_path):
    """The runner marks its job running as soon as it starts: the beat must already be there, or
    a request reading the job at that moment takes it for lost."""
    store = FileJobStore(tmp_path / "jobs")
    job = Job.new("j", ImportRequest(files=[str(EDGE_ROSTER)]), EDGE_ROSTER.parent)
    job.state = "running"
    store.save(job)
    submitted = []
    with beating(store, "j", 30):
        assert give_back_stalled({"import": store}, {"import": submitted.append}) == []
    assert submitted == []


def test_a_job_saved_from_two_threads_at_once_stays_whole(tmp_path):
    """A job's runner and a request reading the job may write its record at the same moment."""
    store = FileJobStore(tmp_path / "jobs")
    store.save(Job.new("j", ImportRequest(files=[str(EDGE_ROSTER)]), EDGE_ROSTER.parent))
    errors = []

    def save_often(rows: int) -> None:
        try:
            for _ in range(300):
                store.update("j", rows_read=rows)
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save_often, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.get("j").rows_read in (1, 2)
