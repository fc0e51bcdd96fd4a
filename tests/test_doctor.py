"""`provider-directory doctor` against the real engines, Redis, and servers that do not answer."""

import re
import uuid

from click.testing import CliRunner

from app.cli import main
from app.engines import create_engine
from tests.conftest import REDIS_URL, engine_config

UNREACHABLE = "http://127.0.0.1:1"
# Everything doctor reads that the test does not set is unset, whatever the shell has.
UNSET = {"PD_BROKER_URL": None, "PD_REDIS_URL": None, "ELASTICSEARCH_URL": None}


def doctor(config: dict, *args):
    env = {**UNSET, **{k: None if v is None else str(v) for k, v in config.items()}}
    result = CliRunner().invoke(main, ["doctor", "--timeout", "2", *args], env=env)
    lines = {}
    for line in result.stdout.splitlines():
        status, name = re.match(r"(OK|WARN|FAIL|SKIP) +([a-z ]+):", line).groups()
        lines[name] = (status, line)
    return result, lines


def statuses(lines: dict) -> dict:
    return {name: status for name, (status, _) in lines.items()}


def test_a_working_installation_passes_every_check(directory_config):
    engine = create_engine(directory_config)
    health = engine.health()
    engine.close()
    result, lines = doctor({**directory_config, "PD_REDIS_URL": REDIS_URL})
    assert result.exit_code == 0, result.output
    assert statuses(lines) == {
        "configuration": "OK",
        "staff keys": "OK",
        "data folder": "OK",
        "engine": "OK",
        "redis": "OK",
        "workers": "SKIP",
        "disk": "OK",
    }
    engine_line = lines["engine"][1]
    assert f"generation {health['generation']} is live" in engine_line
    assert f"{health['providers']:,} providers" in engine_line
    assert "importer 1" in lines["staff keys"][1]


def test_an_unreachable_elasticsearch_fails_the_engine_check(tmp_path):
    config = {**engine_config("elasticsearch", tmp_path), "ELASTICSEARCH_URL": UNREACHABLE}
    result, lines = doctor(config)
    assert result.exit_code == 1
    assert lines["engine"][0] == "FAIL"
    assert "unreachable" in lines["engine"][1] and "hint:" in lines["engine"][1]
    assert statuses(lines)["data folder"] == "OK"


def test_a_directory_never_built_fails_the_engine_check(fresh_config):
    result, lines = doctor(fresh_config)
    assert result.exit_code == 1
    assert lines["engine"][0] == "FAIL"
    assert "provider-directory import" in lines["engine"][1]


def test_bad_keys_and_an_unwritable_data_folder_fail_and_the_rest_is_still_checked(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    config = {
        **engine_config("embedded", tmp_path / "a-file" / "data"),
        "PD_API_KEYS": "ops:admin:short",
    }
    result, lines = doctor(config)
    assert result.exit_code == 1
    found = statuses(lines)
    assert (found["staff keys"], found["data folder"], found["engine"]) == ("FAIL", "FAIL", "FAIL")
    assert "shorter than 16" in lines["staff keys"][1]
    assert "new-key" in lines["staff keys"][1]
    assert found["disk"] == "OK"


def test_an_unreachable_redis_fails(tmp_path):
    config = {
        **engine_config("embedded", tmp_path),
        "PD_REDIS_URL": "redis://:s3cret@127.0.0.1:1/0",
    }
    result, lines = doctor(config)
    assert result.exit_code == 1
    assert lines["redis"][0] == "FAIL"
    assert "s3cret" not in result.output


def test_a_broker_with_no_worker_on_the_queue_fails_the_worker_check(directory_config):
    queue = f"pd-test-doctor-{uuid.uuid4().hex[:8]}"
    config = {**directory_config, "PD_BROKER_URL": REDIS_URL, "PD_QUEUE": queue}
    result, lines = doctor(config)
    assert result.exit_code == 1
    found = statuses(lines)
    assert (found["redis"], found["engine"], found["workers"]) == ("OK", "OK", "FAIL")
    assert queue in lines["workers"][1] and "make worker" in lines["workers"][1]
    unreachable = {**config, "PD_BROKER_URL": "redis://127.0.0.1:1/0"}
    result, lines = doctor(unreachable)
    assert statuses(lines)["workers"] == "FAIL" and "unreachable" in lines["workers"][1]


def test_little_free_disk_is_a_warning_not_a_failure(directory_config):
    result, lines = doctor(directory_config, "--min-free-gib", "1000000")
    assert lines["disk"][0] == "WARN"
    assert result.exit_code == 0, result.output
