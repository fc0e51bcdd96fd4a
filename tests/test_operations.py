"""What operators rely on, on both engines: headers on every answer (nosniff, one cache policy,
Retry-After only on 429 and 503), the URL limit, request ids, JSON logs without member data,
and Prometheus metrics — in-process and from `provider-directory serve` with several workers."""

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app import create_app
from app.web import assets
from tests.conftest import ENROLLMENT_KEY, IMPORTER_KEY, ROOT, engine_config

MONITORING_KEY = "monitoring-key-0123456789abcdef"
STAFF = {"Authorization": f"Bearer {ENROLLMENT_KEY}"}
IMPORTER = {"Authorization": f"Bearer {IMPORTER_KEY}"}
MONITORING = {"Authorization": f"Bearer {MONITORING_KEY}"}
BRIEF = "public, max-age=60"
NO_STORE = "no-store"


def app_with(directory_config, **overrides):
    keys = f"{directory_config['PD_API_KEYS']},prometheus:monitoring:{MONITORING_KEY}"
    return create_app({**directory_config, "PD_API_KEYS": keys, **overrides})


@pytest.fixture
def ops_client(directory_config):
    return app_with(directory_config).test_client()


def json_lines(text: str) -> list[dict]:
    """Every line written to standard error, each of which must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ---- headers -------------------------------------------------------------------------------


def test_every_answer_says_nosniff_and_how_long_it_may_be_kept(ops_client):
    npi = ops_client.get("/v1/providers?limit=1&facets=false").json["results"][0]["npi"]
    member = {
        "home": "90012",
        "plan": "sunrise-medi-cal",
        "line_of_business": "medi-cal",
        "age": 30,
    }
    css = f"/assets/site.css?v={assets.version('site.css')}"
    cases = [
        ("GET", "/v1/providers?limit=1", {}, BRIEF),
        ("GET", f"/v1/providers/{npi}", {}, BRIEF),
        ("GET", "/v1/suggest?q=car", {}, BRIEF),
        ("GET", "/", {}, BRIEF),
        ("GET", f"/providers/{npi}", {}, BRIEF),
        ("GET", "/fhir/metadata", {}, BRIEF),
        ("GET", f"/fhir/Practitioner/{npi}", {}, BRIEF),
        ("GET", "/fhir/Practitioner?_count=1", {}, BRIEF),
        ("GET", "/v1/health", {}, NO_STORE),
        ("POST", "/v1/match", STAFF, NO_STORE),
        ("GET", "/v1/reports/unverified", IMPORTER, NO_STORE),
        ("GET", "/metrics", MONITORING, NO_STORE),
        # Errors, public and staff alike.
        ("GET", "/v1/providers?radius=500", {}, NO_STORE),
        ("GET", "/v1/providers/1234567893", {}, NO_STORE),
        ("GET", "/nothing-here", {}, NO_STORE),
        ("GET", "/fhir/Practitioner/0000000000", {}, NO_STORE),
        ("GET", "/fhir/Nothing", {}, NO_STORE),
        ("GET", "/?near=00000", {}, NO_STORE),
        ("GET", "/assets/nothing.css", {}, NO_STORE),
        ("GET", "/v1/imports/nothing", IMPORTER, NO_STORE),
        ("POST", "/v1/match", {}, NO_STORE),
        ("DELETE", "/v1/providers", {}, NO_STORE),
    ]
    for method, url, headers, policy in cases:
        body = member if url == "/v1/match" else None
        response = ops_client.open(url, method=method, headers=headers, json=body)
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Cache-Control"] == policy, (url, response.status_code)
    # A route's own stronger policy stays: content-hashed assets for a year.
    asset = ops_client.get(css)
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in asset.headers["Cache-Control"]


def test_an_answer_that_sets_a_cookie_is_kept_by_the_browser_only(ops_client):
    response = ops_client.get("/?lang=es")
    assert "lang=es" in response.headers["Set-Cookie"]
    assert response.headers["Cache-Control"] == "private, max-age=60"


def test_answers_in_the_browsers_language_say_so_to_caches(ops_client):
    read = ops_client.get("/v1/providers?q=pediatrician&limit=1", headers={"Accept-Language": "es"})
    assert read.json["interpretation"]["lang"] == "es"
    assert {"Cookie", "Accept-Language"} <= set(read.vary)
    asked = ops_client.get("/v1/providers?q=pediatrician&limit=1&lang=es")
    assert "Accept-Language" not in asked.vary


def test_retry_after_only_on_429_and_503(directory_config, engine_kind, tmp_path):
    client = app_with(directory_config, PD_RATE_LIMIT="3/minute").test_client()
    answers = [client.get("/v1/providers?limit=1&facets=false") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    for ok in answers[:3]:
        assert ok.headers["X-RateLimit-Limit"] == "3"  # the limiter did answer
        assert "Retry-After" not in ok.headers
    assert int(answers[3].headers["Retry-After"]) > 0

    config = engine_config(engine_kind, tmp_path / "never-built")
    if engine_kind == "elasticsearch":
        config["ELASTICSEARCH_URL"], config["PD_ES_TIMEOUT"] = "http://127.0.0.1:1", 2.0
    down = create_app(config).test_client().get("/fhir/Practitioner")
    assert down.status_code == 503
    assert int(down.headers["Retry-After"]) > 0


# ---- the URL limit -------------------------------------------------------------------------


def test_a_url_over_the_limit_is_a_414_in_the_usual_shape(directory_config):
    client = app_with(directory_config, PD_MAX_URL_BYTES=300).test_client()
    at_limit = "/v1/providers?facets=false&q=" + "a" * (300 - len("/v1/providers?facets=false&q="))
    assert len(at_limit) == 300
    assert client.get(at_limit).status_code != 414
    over = client.get(at_limit + "a")
    assert over.status_code == 414
    assert over.json["error"]["code"] == "request_uri_too_long"
    assert "300 bytes" in over.json["error"]["message"]
    assert over.headers["Cache-Control"] == NO_STORE
    # Counted in bytes as sent: 50 letters, each 6 bytes percent-encoded.
    assert client.get("/v1/providers?q=" + "%C3%A9" * 50).status_code == 414

    fhir = client.get("/fhir/Practitioner?name=" + "a" * 300)
    assert fhir.status_code == 414
    assert fhir.json["resourceType"] == "OperationOutcome"


# ---- request ids and logs ------------------------------------------------------------------


def test_a_request_id_is_taken_when_sane_and_made_otherwise(ops_client, capsys):
    given = ops_client.get("/v1/health", headers={"X-Request-ID": "lb-7f3a.01_x"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.01_x"
    for bad in ("has space", "x" * 129, "semi;colon", "ünï"):
        made = ops_client.get("/v1/health", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"]), bad
    first, second = (ops_client.get("/nothing-here").headers["X-Request-ID"] for _ in range(2))
    assert first != second
    lines = json_lines(capsys.readouterr().err)
    assert "lb-7f3a.01_x" in {line.get("request_id") for line in lines}


def test_every_log_line_of_a_request_has_its_id(engine_kind, tmp_path, capsys):
    config = engine_config(engine_kind, tmp_path / "never-built")
    if engine_kind == "elasticsearch":
        config["ELASTICSEARCH_URL"], config["PD_ES_TIMEOUT"] = "http://127.0.0.1:1", 2.0
    client = create_app(config).test_client()
    capsys.readouterr()
    response = client.get("/v1/providers?q=smith&near=90012", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 503
    lines = json_lines(capsys.readouterr().err)
    warning = [line for line in lines if line["logger"] == "app.errors"]
    access = [line for line in lines if line["logger"] == "app.access"]
    assert warning and access, lines
    assert {line.get("request_id") for line in lines} == {"req-42"}
    (line,) = access
    assert line["method"] == "GET"
    assert line["endpoint"] == "providers.search_providers"
    assert line["path"] == "/v1/providers"  # no query string
    assert line["status"] == 503
    assert line["engine"] == engine_kind
    assert isinstance(line["duration_ms"], float)
    assert "smith" not in json.dumps(lines) and "90012" not in json.dumps(lines)


def test_a_search_logs_one_line_not_one_per_engine_call(ops_client, capsys):
    capsys.readouterr()
    response = ops_client.get("/v1/providers?near=90012&radius=25", headers={"X-Request-ID": "one"})
    assert response.status_code == 200
    lines = [
        line for line in json_lines(capsys.readouterr().err) if line.get("request_id") == "one"
    ]
    assert [line["logger"] for line in lines] == ["app.access"], lines


# Member data no log line may hold, in the forms a client sends it.
MEMBER_SECRETS = ("Quixotefeather", "Zebulon", "Marmalade", "1931-02-03", "MBR-XYZZY-77", "91101")


def test_member_data_never_reaches_any_log_line(directory_config, capsys, caplog):
    client = app_with(directory_config, PD_LOG_LEVEL="DEBUG").test_client()
    caplog.set_level("DEBUG")
    member = {
        "member_id": "MBR-XYZZY-77",
        "home": "91101",
        "plan": "sunrise-medi-cal",
        "line_of_business": "medi-cal",
        "age": 94,
    }
    assert client.post("/v1/match", json=member, headers=STAFF).status_code == 200
    named = {**member, "name": "Zebulon Quixotefeather", "birth_date": "1931-02-03"}
    assert client.post("/v1/match", json=named, headers=STAFF).status_code == 400
    addressed = {**member, "address": "987 Marmalade Lane, Pasadena, CA 91101"}
    client.post("/v1/match", json=addressed, headers=STAFF)
    rows = (
        "member_id,name,birth_date,home,address,plan,line_of_business,age\n"
        "MBR-XYZZY-77,Zebulon Quixotefeather,1931-02-03,91101,,sunrise-medi-cal,medi-cal,94\n"
        'MBR-XYZZY-78,Zebulon Quixotefeather,1931-02-03,,"987 Marmalade Lane, Pasadena",'
        "sunrise-medi-cal,medi-cal,94\n"
    )
    started = client.post(
        "/v1/assignments",
        data={"file": (io.BytesIO(rows.encode()), "members.csv")},
        headers=STAFF,
        content_type="multipart/form-data",
    )
    assert started.status_code == 202
    job = wait_for_job(client, started.headers["Location"])
    assert job["state"] == "succeeded"
    result = client.get(job["links"]["result"], headers=STAFF)
    assert "MBR-XYZZY-77" in result.get_data(as_text=True)  # the data was there to leak

    logged = capsys.readouterr().err
    assert '"logger": "app.access"' in logged and "assignment" in logged
    for secret in MEMBER_SECRETS:
        assert secret not in logged, secret
        assert secret not in caplog.text, secret


def wait_for_job(client, url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(url, headers=STAFF).json
        if body["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


# ---- metrics -------------------------------------------------------------------------------


def samples(text: str, name: str) -> list[tuple[dict, float]]:
    """The samples of one metric in Prometheus text: (labels, value)."""
    found = []
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            found.append((labels, float(match.group(2))))
    return found


def total(text: str, name: str, **wanted) -> float:
    return sum(
        value
        for labels, value in samples(text, name)
        if all(labels.get(k) == v for k, v in wanted.items())
    )


def test_metrics_are_for_monitoring_keys_and_never_rate_limited(directory_config):
    client = app_with(directory_config, PD_RATE_LIMIT="2/minute").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").json["error"]["code"] == "unauthorized"
    assert client.get("/metrics", headers=IMPORTER).status_code == 403
    assert [client.get("/metrics", headers=MONITORING).status_code for _ in range(5)] == [200] * 5
    assert [client.get("/v1/health").status_code for _ in range(3)] == [200, 200, 429]


def scrape(client) -> str:
    scraped = client.get("/metrics", headers=MONITORING)
    assert scraped.status_code == 200
    assert scraped.mimetype == "text/plain"
    return scraped.get_data(as_text=True)


def test_metrics_count_requests_errors_and_jobs(directory_config, engine_kind):
    client = app_with(directory_config).test_client()
    # The directory's job store is shared with other tests: jobs are counted from here on.
    done_before = total(scrape(client), "pd_jobs", kind="assignment", state="succeeded")
    for _ in range(3):
        client.get("/v1/providers?limit=1&facets=false")
    client.get("/v1/providers?radius=500")
    client.get("/fhir/Nothing")
    rows = "member_id,home,plan,line_of_business,age\nM1,90012,sunrise-medi-cal,medi-cal,40\n"
    started = client.post(
        "/v1/assignments",
        data={"file": (io.BytesIO(rows.encode()), "members.csv")},
        headers=STAFF,
        content_type="multipart/form-data",
    )
    assert wait_for_job(client, started.headers["Location"])["state"] == "succeeded"

    text = scrape(client)
    search = {"endpoint": "providers.search_providers", "engine": engine_kind}
    assert total(text, "flask_http_request_duration_seconds_count", status="200", **search) == 3
    assert total(text, "flask_http_request_duration_seconds_bucket", le="+Inf", **search) == 4
    assert total(text, "pd_http_errors_total", status="400", **search) == 1
    assert total(text, "pd_http_errors_total", status="404", endpoint="fhir.search") == 1
    assert total(text, "pd_jobs", kind="assignment", state="succeeded") == done_before + 1
    assert total(text, "pd_jobs", kind="import", state="running") == 0


# ---- the real server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def served(directory_config, tmp_path):
    """`provider-directory serve` with its defaults (two workers) on a free port, on the test
    directory; its base URL and its standard error."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({k: str(v) for k, v in directory_config.items() if v is not None})
    env["PD_API_KEYS"] = f"{directory_config['PD_API_KEYS']},prometheus:monitoring:{MONITORING_KEY}"
    env.pop("ELASTICSEARCH_URL", None)
    if directory_config.get("ELASTICSEARCH_URL"):
        env["ELASTICSEARCH_URL"] = directory_config["ELASTICSEARCH_URL"]
    # This checkout's code, whichever copy the console script was installed from.
    env["PYTHONPATH"] = str(ROOT)
    command = Path(sys.executable).with_name("provider-directory")
    stderr = open(tmp_path / "serve.err", "w+b")  # noqa: SIM115
    process = subprocess.Popen(
        [str(command), "serve", "--port", str(port)], env=env, stderr=stderr, cwd=tmp_path
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, (tmp_path / "serve.err").read_text()
        try:
            if fetch(f"{base}/v1/health")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)
    yield base, tmp_path / "serve.err"
    process.terminate()
    process.wait(timeout=30)
    stderr.close()


def test_the_served_app_counts_across_workers_logs_json_and_limits_urls(
    served, directory_config, engine_kind
):
    base, errors = served
    requests = 40

    def search(i: int) -> tuple[int, dict, bytes]:
        return fetch(f"{base}/v1/providers?limit=2&q=smith&near=90012", {"X-Request-ID": f"t-{i}"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(search, range(requests)))
    assert {status for status, _, _ in answers} == {200}
    assert {h["X-Request-ID"] for _, h, _ in answers} == {f"t-{i}" for i in range(requests)}
    assert all("Retry-After" not in h for _, h, _ in answers)
    assert all(h["Cache-Control"] == BRIEF for _, h, _ in answers)

    folder = Path(directory_config["PD_DATA_DIR"]) / "metrics"
    workers = {p.stem.rsplit("_", 1)[-1] for p in folder.glob("histogram_*.db")}
    assert len(workers) == 2, "both workers answered searches"
    search_labels = {"endpoint": "providers.search_providers", "engine": engine_kind}
    for _ in range(4):  # whichever worker answers the scrape, every worker's counts are in it
        status, _, body = fetch(f"{base}/metrics", MONITORING)
        assert status == 200
        text = body.decode()
        counted = total(text, "flask_http_request_duration_seconds_count", **search_labels)
        assert counted == requests
    assert fetch(f"{base}/metrics")[0] == 401

    # Just over the limit: the app's own 414, in the error envelope.
    status, _, body = fetch(f"{base}/v1/providers?q=" + "a" * 8000)
    assert status == 414
    assert json.loads(body)["error"]["code"] == "request_uri_too_long"
    status, _, body = fetch(f"{base}/fhir/Practitioner?name=" + "a" * 8000)
    assert status == 414
    assert json.loads(body)["resourceType"] == "OperationOutcome"

    time.sleep(0.5)  # let the workers write their last lines
    lines = json_lines(errors.read_text())
    access = [line for line in lines if line["logger"] == "app.access"]
    logged_ids = {line["request_id"] for line in access if line["path"] == "/v1/providers"}
    assert {f"t-{i}" for i in range(requests)} <= logged_ids
    assert not any("?" in line["path"] or "smith" in json.dumps(line) for line in access)
    assert any(line["logger"].startswith("gunicorn") for line in lines)
