"""HTTP benchmark: the real server (`provider-directory serve`, gunicorn) driven by 1, 8 and 32
concurrent clients on each engine.

    make bench-http BENCH_ARGS="--locations 100000"

Imports N generated practitioner-locations with `provider-directory import`, starts
`provider-directory serve` on a free port of 127.0.0.1 (its defaults, or --workers/--threads),
then for each number of clients sends the search benchmark's mix (geo + filters + facets, text,
look-up by NPI) over keep-alive connections for a fixed time and prints requests/s, p50 and p99,
and how many answers were not 200.
"""

import argparse
import http.client
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

from app.engines import create_engine
from bench.search import query_mix, write_roster

CLIENTS = (1, 8, 32)
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli() -> str:
    return str(Path(sys.executable).with_name("provider-directory"))


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {server.returncode})")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/v1/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server did not answer on port {port} in {STARTUP_SECONDS}s")


def remove_indices(url: str, prefix: str) -> None:
    """The run's generations on the node (names without a wildcard: the node may refuse one)."""
    engine = create_engine(
        {"ELASTICSEARCH_URL": url, "PD_INDEX_PREFIX": prefix, "PD_ES_TIMEOUT": 60.0}
    )
    names = list(engine.client.indices.get(index=f"{prefix}*"))
    if names:
        engine.client.indices.delete(index=",".join(names))
    engine.close()


def paths(mix) -> list[str]:
    found = []
    for kind, item in mix:
        if kind == "lookup":
            found.append(f"/v1/providers/{item}")
        else:
            found.append("/v1/providers?" + urllib.parse.urlencode(item))
    return found


def drive(port: int, urls: list[str], clients: int, seconds: float) -> dict:
    """Each client sends the URLs in turn (each starting at its own place) until time is up."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = n * 7
        while time.monotonic() < stop:
            url = urls[i % len(urls)]
            i += 1
            start = time.perf_counter()
            try:
                connection.request("GET", url)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            latencies[n].append((time.perf_counter() - start) * 1000)
            if not ok:
                failures[n] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    samples = sorted(x for per in latencies for x in per)
    return {
        "requests": len(samples),
        "per_second": len(samples) / elapsed,
        "p50": samples[len(samples) // 2],
        "p99": samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))],
        "failed": sum(failures),
    }


def run(args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pd-bench-http-"))
    roster = workdir / "roster.csv"
    rows = write_roster(roster, args.locations, args.seed)
    urls = paths(query_mix(roster, args.queries, args.seed))
    print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# roster: {args.locations:,} practitioner-locations, {rows:,} rows (seed {args.seed})")
    serve = [cli(), "serve", "--host", "127.0.0.1"]
    if args.workers:
        serve += ["--workers", str(args.workers)]
    if args.threads:
        serve += ["--threads", str(args.threads)]
    engines = [("embedded", None)]
    es_url = os.environ.get("PD_BENCH_ELASTICSEARCH_URL")
    if es_url and not args.no_elasticsearch:
        engines.append(("elasticsearch", es_url))
    report = []
    for kind, url in engines:
        env = {
            **os.environ,
            "PD_DATA_DIR": str(workdir / f"data-{kind}"),
            "PD_INDEX_PREFIX": f"pd-bench-{uuid.uuid4().hex[:6]}-",
            "PD_RATE_LIMIT": "100000000/minute",
        }
        env.pop("ELASTICSEARCH_URL", None)
        if url:
            env["ELASTICSEARCH_URL"] = url
        subprocess.run([cli(), "import", str(roster)], env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen(
            [*serve, "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until_up(port, server)
            drive(port, urls, 4, args.seconds / 4)  # warm every worker's caches
            for clients in CLIENTS:
                result = drive(port, urls, clients, args.seconds)
                report.append((kind, clients, result))
                print(f"{kind}, {clients} clients: {result}", flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            if url:
                remove_indices(url, env["PD_INDEX_PREFIX"])
    print()
    print("| engine | clients | requests/s | p50 ms | p99 ms | not 200 |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, clients, r in report:
        print(
            f"| {kind} | {clients} | {r['per_second']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f}"
            f" | {r['failed']} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: serve's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: serve's)")
    parser.add_argument("--no-elasticsearch", action="store_true")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
