"""scripts/elasticsearch.sh refuses a tarball whose checksum is not the pinned one."""

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "elasticsearch.sh"


def test_script_refuses_a_tarball_with_the_wrong_checksum(tmp_path):
    tarball = tmp_path / "elasticsearch-8.12.2-linux-x86_64.tar.gz"
    tarball.write_bytes(b"not the official build")
    env = {**os.environ, "PD_ES_CACHE": str(tmp_path), "PD_ES_PORT": "19277"}
    result = subprocess.run(
        ["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3
    assert "checksum mismatch" in result.stderr
    assert "refusing" in result.stderr
    assert not tarball.exists(), "a tarball that fails the check is removed"
    assert not (tmp_path / "elasticsearch-8.12.2").exists()


def test_script_reuses_a_node_that_already_answers(es_client):
    url = es_client.transport.node_pool.get().base_url
    port = url.rsplit(":", 1)[1]
    env = {**os.environ, "PD_ES_PORT": port, "PD_ES_CACHE": "/nonexistent/never-used"}
    result = subprocess.run(
        ["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "reusing" in result.stderr
