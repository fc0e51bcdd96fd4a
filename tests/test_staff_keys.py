"""Staff keys in PD_API_KEYS, plain or as their SHA-256, and `provider-directory new-key`."""

import hashlib

import pytest
from click.testing import CliRunner

from app import create_app
from app.auth import parse_keys
from app.cli import main
from tests.conftest import engine_config

REPORT = "/v1/reports/unverified"


def app_with_keys(tmp_path, keys: str):
    return create_app({**engine_config("embedded", tmp_path), "PD_API_KEYS": keys})


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def new_key(name: str, role: str, env: dict | None = None) -> tuple[str, str]:
    result = CliRunner().invoke(main, ["new-key", name, role], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    return lines["key"], lines["PD_API_KEYS entry"]


def test_new_key_prints_a_random_key_and_an_entry_holding_only_its_hash():
    key, entry = new_key("data-team", "importer")
    digest = hashlib.sha256(key.encode()).hexdigest()
    assert entry == f"data-team:importer:sha256:{digest}"
    assert key not in entry
    assert len(key) >= 43  # 32 random bytes
    assert new_key("data-team", "importer")[0] != key
    [(stored, staff)] = parse_keys(entry)
    assert stored.hex() == digest
    assert (staff.name, staff.role) == ("data-team", "importer")


def test_new_key_works_while_the_configured_keys_are_broken():
    _key, entry = new_key("ops", "admin", env={"PD_API_KEYS": "not-an-entry"})
    assert entry.startswith("ops:admin:sha256:")


@pytest.mark.parametrize(("name", "role"), [("a:b", "admin"), ("a b", "admin"), ("x", "root")])
def test_new_key_refuses_a_name_or_role_the_configuration_cannot_hold(name, role):
    result = CliRunner().invoke(main, ["new-key", name, role])
    assert result.exit_code == 2
    assert "key:" not in result.output


def test_a_hashed_key_lets_its_holder_in_and_nobody_else(tmp_path):
    key, entry = new_key("data-team", "importer")
    plain = "member-services:enrollment:enrollment-key-0123456789abcdef"
    client = app_with_keys(tmp_path, f"{entry},{plain}").test_client()
    assert client.get(REPORT, headers=bearer(key)).status_code == 200
    assert client.get(REPORT, headers={"X-API-Key": key}).status_code == 200
    # What the configuration holds is not a key: presenting it is presenting an unknown key.
    stored = entry.split(":", 2)[2]
    assert client.get(REPORT, headers=bearer(stored)).status_code == 401
    assert client.get(REPORT, headers=bearer(stored.removeprefix("sha256:"))).status_code == 401
    assert client.get(REPORT, headers=bearer(key[:-1])).status_code == 401
    # Plain keys still work beside hashed ones, with their roles.
    assert client.get(REPORT, headers=bearer("enrollment-key-0123456789abcdef")).status_code == 403


def test_a_plain_key_written_like_a_hash_is_refused_at_start():
    with pytest.raises(ValueError, match="64 lowercase hex"):
        parse_keys("a:admin:sha256:my-plain-key-that-looks-hashed")
    with pytest.raises(ValueError, match="64 lowercase hex"):
        parse_keys(f"a:admin:sha256:{'AB' * 32}")
    with pytest.raises(ValueError, match="shorter than 16"):
        parse_keys("a:admin:short")
    with pytest.raises(ValueError, match="name:role:key"):
        parse_keys("just-a-key-with-no-name-0123456789")
    with pytest.raises(ValueError, match="unknown role"):
        parse_keys(f"a:root:sha256:{'ab' * 32}")
