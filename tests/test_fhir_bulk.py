"""Bulk files, on both engines: GET /fhir/$export (kick-off, status, manifest, files, cancel,
retention), `provider-directory publish` (atomic sets) and /fhir/bulk/ (conditional requests,
gzip). Every line of every file is validated with the FHIR R4B models."""

import gzip
import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fhir.resources.R4B import get_fhir_model_class

from app import create_app
from app.cli import main
from app.fhir.bulk import CURRENT_LINK, LINES_PER_WRITE, SETS_DIR, current_set, publish
from app.fhir.export import (
    cancel_export,
    exports_dir,
    remove_expired,
    run_export_job,
    start_export,
)
from app.fhir.live import live_view
from app.fhir.params import RESOURCE_TYPES
from app.fhir.publish import publish_live
from app.jobs import tasks
from app.jobs.store import export_store
from tests.conftest import REDIS_URL

ASYNC = {"Prefer": "respond-async"}
WAIT_SECONDS = 120
HOST = "http://localhost"


@pytest.fixture(scope="module")
def bulk_app(directory_config, tmp_path_factory):
    config = {**directory_config, "PD_BULK_DIR": str(tmp_path_factory.mktemp("bulk"))}
    return create_app(config)


@pytest.fixture
def bulk_client(bulk_app):
    return bulk_app.test_client()


@pytest.fixture(scope="module")
def view_counts(bulk_app) -> dict[str, int]:
    """How many resources of each type the live view holds (what a full export must give)."""
    with bulk_app.app_context():
        view = live_view()
        return {kind: view.count(kind) for kind in RESOURCE_TYPES}


def path_of(url: str) -> str:
    assert url.startswith(HOST + "/fhir/"), url
    return url[len(HOST) :]


def kick_off(client, query: str = "", headers: dict | None = None) -> str:
    response = client.get(f"/fhir/$export{query}", headers=headers or ASYNC)
    assert response.status_code == 202, response.json
    assert response.json["resourceType"] == "OperationOutcome"
    return response.headers["Content-Location"]


def wait_for(client, status_url: str):
    """Poll the status URL until the export is no longer running; the final response."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        response = client.get(path_of(status_url))
        if response.status_code != 202:
            return response
        assert "Retry-After" not in response.headers  # only on 429 and 503
        assert response.headers["X-Progress"]
        assert len(response.headers["X-Progress"]) < 100
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.2)


def export(client, query: str = "") -> dict:
    response = wait_for(client, kick_off(client, query))
    assert response.status_code == 200, response.json
    assert response.mimetype == "application/json"
    return response.json


def lines_of(client, url: str) -> list[str]:
    response = client.get(path_of(url))
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "application/fhir+ndjson"
    text = response.get_data(as_text=True)
    assert text.endswith("\n")
    return text.splitlines()


def assert_valid_file(client, item: dict) -> list[dict]:
    """Every line of the file is one valid resource of the item's type; as many as counted."""
    model = get_fhir_model_class(item["type"])
    resources = []
    for line in lines_of(client, item["url"]):
        resource = json.loads(line)
        assert resource["resourceType"] == item["type"]
        model.model_validate(resource)
        resources.append(resource)
    assert len(resources) == item["count"]
    assert len({r["id"] for r in resources}) == len(resources)
    return resources


# ---- $export ----------------------------------------------------------------------------------


def test_a_full_export_gives_every_resource_of_the_directory_valid(bulk_client, view_counts):
    status_url = kick_off(bulk_client)
    assert status_url.startswith(f"{HOST}/fhir/$export-status/")
    response = wait_for(bulk_client, status_url)
    assert response.status_code == 200
    manifest = response.json
    assert manifest["request"] == f"{HOST}/fhir/$export"
    assert manifest["requiresAccessToken"] is False
    assert manifest["error"] == []
    assert manifest["transactionTime"].endswith("Z")
    # Expires: when the files go (the default retention, a day).
    assert 86000 < response.expires.timestamp() - time.time() <= 86400
    assert response.last_modified is not None
    # One file per type that has resources, none for a type that has none.
    expected = {kind: n for kind, n in view_counts.items() if n}
    assert {item["type"]: item["count"] for item in manifest["output"]} == expected
    assert {"Practitioner", "PractitionerRole", "Location", "Organization"} <= set(expected)
    job = status_url.rsplit("/", 1)[1]
    for item in manifest["output"]:
        assert item["url"] == f"{HOST}/fhir/$export-file/{job}/{item['type']}.ndjson"
        assert_valid_file(bulk_client, item)


def test_type_restricts_the_export(bulk_client, view_counts):
    manifest = export(bulk_client, "?_type=Practitioner,Location&_outputFormat=ndjson")
    query = "_type=Practitioner,Location&_outputFormat=ndjson"
    assert manifest["request"] == f"{HOST}/fhir/$export?{query}"
    assert [item["type"] for item in manifest["output"]] == ["Practitioner", "Location"]
    for item in manifest["output"]:
        assert item["count"] == view_counts[item["type"]]
        assert_valid_file(bulk_client, item)


def test_since_in_the_future_gives_nothing_and_in_the_past_everything(bulk_client, view_counts):
    future = export(bulk_client, "?_since=2999-01-01T00:00:00Z")
    assert future["output"] == []
    past = export(
        bulk_client, "?_since=2000-01-01T00:00:00%2B00:00&_outputFormat=application/fhir%2Bndjson"
    )
    assert {item["type"]: item["count"] for item in past["output"]} == {
        kind: n for kind, n in view_counts.items() if n
    }


@pytest.mark.parametrize(
    ("query", "headers", "expression", "words"),
    [
        ("", {}, None, "Prefer: respond-async"),
        ("", {"Prefer": "handling=lenient"}, None, "Prefer: respond-async"),
        ("?_outputFormat=text/csv", ASYNC, "_outputFormat", "text/csv"),
        ("?_type=Practitioner,Patient", ASYNC, "_type", "'Patient'"),
        ("?_since=yesterday", ASYNC, "_since", "yesterday"),
        ("?_typeFilter=Practitioner%3Factive%3Dtrue", ASYNC, "_typeFilter", "_typeFilter"),
    ],
)
def test_bad_kick_offs_are_400_operation_outcomes(bulk_client, query, headers, expression, words):
    response = bulk_client.get(f"/fhir/$export{query}", headers=headers)
    assert response.status_code == 400
    assert response.mimetype == "application/fhir+json"
    issue = response.json["issue"][0]
    assert response.json["resourceType"] == "OperationOutcome"
    assert issue["severity"] == "error" and issue["code"] == "invalid"
    assert words in issue["diagnostics"]
    assert issue.get("expression") == ([expression] if expression else None)


def test_lenient_handling_ignores_parameters_it_does_not_support(bulk_client):
    status_url = kick_off(
        bulk_client,
        "?_type=Endpoint&_elements=id",
        {"Prefer": "respond-async, handling=lenient"},
    )
    assert wait_for(bulk_client, status_url).status_code == 200


def test_unknown_and_cancelled_exports_are_404(bulk_client, bulk_app):
    for job in ("0" * 32, "not-a-job"):
        response = bulk_client.get(f"/fhir/$export-status/{job}")
        assert response.status_code == 404
        assert response.json["issue"][0]["code"] == "not-found"
    status_url = kick_off(bulk_client, "?_type=Location")
    assert wait_for(bulk_client, status_url).status_code == 200
    job = status_url.rsplit("/", 1)[1]
    file_url = f"/fhir/$export-file/{job}/Location.ndjson"
    assert bulk_client.get(file_url).status_code == 200
    assert bulk_client.get(f"/fhir/$export-file/{job}/Practitioner.ndjson").status_code == 404
    assert bulk_client.get(f"/fhir/$export-file/{job}/manifest.json").status_code == 404

    response = bulk_client.delete(path_of(status_url))
    assert response.status_code == 202
    assert bulk_client.get(path_of(status_url)).status_code == 404
    assert bulk_client.get(file_url).status_code == 404
    assert bulk_client.delete(path_of(status_url)).status_code == 404
    with bulk_app.app_context():
        left = {p.name for p in (exports_dir() / job).iterdir()}
    assert not any(name.endswith((".ndjson", ".gz", ".json")) for name in left)


def test_a_running_export_stops_when_cancelled(bulk_client, bulk_app):
    status_url = kick_off(bulk_client)
    assert bulk_client.delete(path_of(status_url)).status_code == 202
    job = status_url.rsplit("/", 1)[1]
    with bulk_app.app_context():
        store, folder = export_store(), exports_dir() / job
        deadline = time.monotonic() + WAIT_SECONDS
        # A small export may finish before the DELETE lands: then there is nothing to stop,
        # and the DELETE removes what it wrote (the status URL is a 404 either way).
        while store.get(job).state not in ("cancelled", "succeeded"):
            assert store.get(job).state in ("queued", "running")
            assert time.monotonic() < deadline
            time.sleep(0.05)
        if store.get(job).state == "cancelled":
            assert [p.name for p in folder.iterdir()] == ["cancelled"]
    assert bulk_client.get(path_of(status_url)).status_code == 404


class CancelledMidway:
    """A real view; the export is cancelled (as DELETE does) once its first page is read."""

    def __init__(self, view, folder: Path, job_id: str):
        self.view, self.folder, self.job_id = view, folder, job_id
        self.lines = 0

    def __getattr__(self, name):
        return getattr(self.view, name)

    def iter_json(self, kind, since=None):
        for line in self.view.iter_json(kind, since):
            self.lines += 1
            if self.lines == LINES_PER_WRITE:
                cancel_export(self.folder, self.job_id)
            yield line


def test_an_export_cancelled_while_it_writes_stops_at_the_next_page(bulk_app):
    with bulk_app.app_context():
        store, folder = export_store(), exports_dir()
        job = start_export(store, folder, "test", list(RESOURCE_TYPES), None)
        watched = CancelledMidway(live_view(), folder, job.id)
        run_export_job(lambda: watched, store, job.id, folder)
        assert store.get(job.id).state == "cancelled"
        assert LINES_PER_WRITE <= watched.lines < 2 * LINES_PER_WRITE
        assert [p.name for p in (folder / job.id).iterdir()] == ["cancelled"]


class CancelledOnStart:
    """A real job store; the export is cancelled (as DELETE does) the moment it starts running."""

    def __init__(self, store, folder: Path):
        self.store, self.folder = store, folder

    def __getattr__(self, name):
        return getattr(self.store, name)

    def update(self, job_id, **changes):
        self.store.update(job_id, **changes)
        if changes.get("state") == "running":
            cancel_export(self.folder, job_id)


def test_an_export_cancelled_as_it_starts_never_succeeds(bulk_app):
    with bulk_app.app_context():
        store, folder = export_store(), exports_dir()
        job = start_export(store, folder, "test", ["Location"], None)
        run_export_job(live_view, CancelledOnStart(store, folder), job.id, folder)
        assert store.get(job.id).state == "cancelled"
        assert [p.name for p in (folder / job.id).iterdir()] == ["cancelled"]


def test_export_files_are_removed_after_their_retention(directory_config, tmp_path):
    app = create_app({**directory_config, "PD_EXPORT_RETENTION_SECONDS": 3})
    client = app.test_client()
    status_url = kick_off(client, "?_type=InsurancePlan")
    job = status_url.rsplit("/", 1)[1]
    with app.app_context():
        store, folder = export_store(), exports_dir()
        deadline = time.monotonic() + WAIT_SECONDS
        while store.get(job).state != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        finished = store.get(job).finished_at
        assert (folder / job / "InsurancePlan.ndjson").exists()
        # Not yet: a sweep before the retention keeps the job.
        remove_expired(store, folder, 3, now=finished + 2)
        assert (folder / job / "InsurancePlan.ndjson").exists()
    response = client.get(path_of(status_url))
    if response.status_code == 200:  # answered within its 3 seconds
        assert response.expires.timestamp() == pytest.approx(finished + 3, abs=1)
    time.sleep(max(0.0, finished + 3.1 - time.time()))
    assert client.get(path_of(status_url)).status_code == 404
    with app.app_context():
        assert not (folder / job).exists()
        assert store.get(job) is None


# ---- publish and /fhir/bulk/ ------------------------------------------------------------------


def cli_publish(config: dict, target: Path):
    env = {key: None if value is None else str(value) for key, value in config.items()}
    return CliRunner().invoke(main, ["publish", str(target)], env=env)


def test_publish_writes_a_set_and_moves_current_to_it(directory_config, tmp_path, view_counts):
    target = tmp_path / "published"
    first = cli_publish(directory_config, target)
    assert first.exit_code == 0, (first.output, first.exception)
    one = current_set(target)
    assert one is not None and one.parent == target / SETS_DIR
    assert os.path.islink(target / CURRENT_LINK)
    assert "transactionTime" in first.output and "Practitioner" in first.output
    manifest = json.loads((one / "manifest.json").read_text())
    assert {i["type"]: i["count"] for i in manifest["output"]} == {
        kind: n for kind, n in view_counts.items() if n
    }
    for item in manifest["output"]:
        lines = (one / item["url"]).read_text().splitlines()
        assert len(lines) == item["count"]
        assert gzip.decompress((one / f"{item['url']}.gz").read_bytes()).decode().splitlines() == (
            lines
        )
    second = cli_publish(directory_config, target)
    assert second.exit_code == 0
    two = current_set(target)
    assert two != one and one.exists()  # the previous set is kept
    assert cli_publish(directory_config, target).exit_code == 0
    three = current_set(target)
    assert sorted(p.name for p in (target / SETS_DIR).iterdir()) == sorted([two.name, three.name])


class Watched:
    """A real view whose reading is watched: while the new set is being written, a reader of
    the published folder must still find the old set, whole."""

    def __init__(self, view, target: Path, old: Path, fail_after: str | None = None):
        self.view, self.target, self.old, self.fail_after = view, target, old, fail_after
        self.checks = 0

    def __getattr__(self, name):
        return getattr(self.view, name)

    def iter_json(self, kind, since=None):
        for n, line in enumerate(self.view.iter_json(kind, since)):
            if n % 500 == 0:
                assert current_set(self.target) == self.old
                manifest = json.loads((self.old / "manifest.json").read_text())
                for item in manifest["output"]:
                    assert (self.old / item["url"]).exists()
                self.checks += 1
            yield line
        if kind == self.fail_after:
            raise RuntimeError("the view went away")


def test_a_reader_sees_the_old_set_until_the_new_one_is_complete(bulk_app, tmp_path):
    target = tmp_path / "published"
    with bulk_app.app_context():
        view = live_view()
        old, _ = publish(view, target)
        watched = Watched(view, target, old)
        new, manifest = publish(watched, target)
        assert watched.checks >= len(manifest["output"])
        assert current_set(target) == new != old
        for item in manifest["output"]:
            assert (new / item["url"]).exists()
        # A publish that fails half-way leaves the current set alone and no partial set behind.
        failing = Watched(view, target, new, fail_after="Location")
        with pytest.raises(RuntimeError):
            publish(failing, target)
        assert current_set(target) == new
        assert sorted(p.name for p in (target / SETS_DIR).iterdir()) == sorted([old.name, new.name])


def test_fhir_bulk_serves_the_published_set_with_conditional_requests_and_gzip(
    bulk_app, bulk_client
):
    with bulk_app.app_context():
        publish_live()  # what the daily job runs
    response = bulk_client.get("/fhir/bulk/")
    assert response.status_code == 200
    manifest = response.json
    assert manifest["request"] == f"{HOST}/fhir/$export"
    assert manifest["requiresAccessToken"] is False and manifest["error"] == []
    for item in manifest["output"]:
        assert item["url"] == f"{HOST}/fhir/bulk/{item['type']}.ndjson"
    item = next(i for i in manifest["output"] if i["type"] == "PractitionerRole")
    assert_valid_file(bulk_client, item)

    plain = bulk_client.get(path_of(item["url"]))
    etag, modified = plain.headers["ETag"], plain.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert plain.headers["Vary"] == "Accept-Encoding"
    assert "Content-Encoding" not in plain.headers
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        again = bulk_client.get(path_of(item["url"]), headers=headers)
        assert again.status_code == 304 and again.data == b""
    stale = bulk_client.get(
        path_of(item["url"]), headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    assert stale.status_code == 200 and stale.data == plain.data
    assert bulk_client.get(path_of(item["url"]), headers={"If-None-Match": '"x"'}).status_code == (
        200
    )

    packed = bulk_client.get(path_of(item["url"]), headers={"Accept-Encoding": "gzip"})
    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["ETag"] != etag
    assert len(packed.data) < len(plain.data) / 3
    assert gzip.decompress(packed.data) == plain.data
    again = bulk_client.get(
        path_of(item["url"]),
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]},
    )
    assert again.status_code == 304

    missing = bulk_client.get("/fhir/bulk/Patient.ndjson")
    assert missing.status_code == 404
    assert missing.json["resourceType"] == "OperationOutcome"


def test_fhir_bulk_is_404_until_something_is_published(directory_config, tmp_path):
    app = create_app({**directory_config, "PD_BULK_DIR": str(tmp_path / "never")})
    response = app.test_client().get("/fhir/bulk/")
    assert response.status_code == 404
    assert "provider-directory publish" in response.json["issue"][0]["diagnostics"]


def test_the_daily_schedule_publishes_the_bulk_files(directory_config):
    app = create_app({**directory_config, "PD_BROKER_URL": REDIS_URL})
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["publish-bulk"]["task"] == tasks.publish_bulk_job.name
    assert schedule["publish-bulk"]["task"] == "app.jobs.tasks.publish_bulk_job"
