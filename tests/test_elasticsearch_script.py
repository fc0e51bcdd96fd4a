"""scripts/elasticsearch.sh: refuses a tarball whose checksum is not the pinned one, reuses a node
that answers, and reports how long a node it started took."""

import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "elasticsearch.sh"
SCRIPT_TEXT = SCRIPT.read_text(encoding="utf-8")
ES_VERSION = re.search(r"^ES_VERSION=(\S+)$", SCRIPT_TEXT, re.M).group(1)
ES_BUILD_HASH = re.search(r"^ES_BUILD_HASH=(\S+)$", SCRIPT_TEXT, re.M).group(1)
# A node answering root and cluster health like Elasticsearch, on the port it is given.
FAKE_NODE = textwrap.dedent(
    """
    import json, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Node(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "green", "version": {"build_hash": sys.argv[2]}})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", int(sys.argv[1])), Node).serve_forever()
    """
)


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fake_install(cache: Path, port: int, delay: int) -> None:
    """An unpacked node whose `bin/elasticsearch -d -p FILE` behaves like the real one's: it
    returns only once the node has started, here after `delay` seconds."""
    home = cache / f"elasticsearch-{ES_VERSION}"
    (home / "config" / "jvm.options.d").mkdir(parents=True)
    (cache / f"elasticsearch-{ES_VERSION}-linux-x86_64.tar.gz").write_bytes(b"cached")
    (home / "fake_node.py").write_text(FAKE_NODE, encoding="utf-8")
    launcher = home / "bin" / "elasticsearch"
    launcher.parent.mkdir()
    launcher.write_text(
        textwrap.dedent(
            f"""\
            #!/usr/bin/env bash
            pid_file=$3
            sleep {delay}
            {sys.executable} {home / "fake_node.py"} {port} {ES_BUILD_HASH} &
            echo $! >"$pid_file"
            until curl -fsS --max-time 1 http://127.0.0.1:{port} >/dev/null 2>&1; do sleep 0.1; done
            """
        ),
        encoding="utf-8",
    )
    launcher.chmod(0o755)


def test_script_counts_the_time_the_node_took_to_start(tmp_path):
    port, delay = free_port(), 3
    fake_install(tmp_path, port, delay)
    env = {
        **os.environ,
        "PD_ES_CACHE": str(tmp_path),
        "PD_ES_PORT": str(port),
        # Started by root, the node runs as this user; root can read the test's folder.
        "PD_ES_USER": os.environ.get("USER", "root") if os.getuid() else "root",
    }
    try:
        result = subprocess.run(
            ["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        waited = int(re.search(r"up after (\d+)s", result.stderr).group(1))
        assert delay <= waited <= delay + 5, result.stderr
    finally:
        stopped = subprocess.run(
            ["bash", str(SCRIPT), "stop"], env=env, capture_output=True, text=True, timeout=90
        )
    assert "stopping node" in stopped.stderr
    assert subprocess.run(["curl", "-fsS", f"http://127.0.0.1:{port}"]).returncode != 0
