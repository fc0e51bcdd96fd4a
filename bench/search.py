"""Search benchmark: import N generated practitioner-locations, then time a fixed query mix.

    make bench BENCH_ARGS="--locations 100000"

Runs on both engines (Elasticsearch at PD_BENCH_ELASTICSEARCH_URL), prints import throughput and
p50/p95 latency per query kind through the API (Flask, in-process), and for Elasticsearch the same
request bodies sent directly with the client, so the API's overhead ratio can be tracked (each query
is timed both ways back to back, taking turns to go first).
"""

import argparse
import csv
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from werkzeug.datastructures import MultiDict

from app import create_app
from app.api.args import load_search_args
from app.engines import create_engine, es_query
from fixtures.generate import COLUMNS, generate_rows
from indexer.pipeline import import_roster

QUERY_KINDS = ("geo+filters+facets", "text", "lookup")


def write_roster(path: Path, locations: int, seed: int) -> int:
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in generate_rows(locations, seed=seed):
            writer.writerow(row)
            rows += 1
    return rows


def query_mix(roster: Path, count: int, seed: int) -> list[tuple[str, dict | str]]:
    """A fixed list of (kind, params or NPI) drawn from the roster itself."""
    rng = random.Random(seed)
    zips, npis, last_names = [], [], []
    with open(roster, newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i % 97 == 0:
                zips.append(row["zip"])
                npis.append(row["npi"])
                if row["last_name"]:
                    last_names.append(row["last_name"])
    words = ["heart doctor", "pediatra", "family medicine", "skin doctor", "kids doctor", "ob gyn"]
    mix: list[tuple[str, dict | str]] = []
    for i in range(count):
        kind = QUERY_KINDS[i % 3]
        if kind == "geo+filters+facets":
            params = {
                "near": rng.choice(zips),
                "radius": rng.choice(["5", "10", "15"]),
                "pcp": "true",
                "accepting_new_patients": "accepting",
            }
            if rng.random() < 0.5:
                params["line_of_business"] = "medi-cal"
            if rng.random() < 0.5:
                params["language"] = "es"
            mix.append((kind, params))
        elif kind == "text":
            q = rng.choice(words) if rng.random() < 0.5 else rng.choice(last_names)
            mix.append((kind, {"q": q, "near": rng.choice(zips), "radius": "25"}))
        else:
            mix.append((kind, rng.choice(npis)))
    return mix


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def time_api_once(client, kind, item) -> float:
    url = f"/v1/providers/{item}" if kind == "lookup" else "/v1/providers"
    start = time.perf_counter()
    response = client.get(url, query_string=None if kind == "lookup" else item)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.json
    return elapsed


def time_direct_once(engine, kind, item) -> float:
    client = engine.client
    start = time.perf_counter()
    if kind == "lookup":
        client.get(index=engine.alias, id=item, source_excludes=es_query.SOURCE_EXCLUDES)
    else:
        body = es_query.search_body(load_search_args(MultiDict(item)))
        body["source"] = body.pop("_source")
        client.search(index=engine.alias, **body)
    return (time.perf_counter() - start) * 1000


def time_mix(client, engine, mix) -> tuple[dict[str, list[float]], dict[str, list[float]] | None]:
    """Each query through the API and, with an engine, sent directly, one right after the other
    and first in turn, so both meet the engine's caches in the same state."""
    api: dict[str, list[float]] = {k: [] for k in QUERY_KINDS}
    direct: dict[str, list[float]] | None = None if engine is None else {k: [] for k in QUERY_KINDS}
    for i, (kind, item) in enumerate(mix):
        if direct is None:
            api[kind].append(time_api_once(client, kind, item))
        elif i % 2:
            direct[kind].append(time_direct_once(engine, kind, item))
            api[kind].append(time_api_once(client, kind, item))
        else:
            api[kind].append(time_api_once(client, kind, item))
            direct[kind].append(time_direct_once(engine, kind, item))
    return api, direct


def run(locations: int, queries: int, seed: int, es_url: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pd-bench-"))
    roster = workdir / "roster.csv"
    rows = write_roster(roster, locations, seed)
    print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# roster: {locations:,} practitioner-locations, {rows:,} rows (seed {seed})")
    mix = query_mix(roster, queries, seed)
    engines = [("embedded", None)] + ([("elasticsearch", es_url)] if es_url else [])
    report = []
    for kind, url in engines:
        config = {
            "PD_DATA_DIR": str(workdir / "data"),
            "PD_INDEX_PREFIX": f"pd-bench-{uuid.uuid4().hex[:6]}-",
            "ELASTICSEARCH_URL": url,
            "PD_RATE_LIMIT": "100000000/minute",
            "PD_ES_TIMEOUT": 120.0,
        }
        engine = create_engine(config)
        start = time.perf_counter()
        summary = import_roster(engine, roster)
        elapsed = time.perf_counter() - start
        print(
            f"{kind}: imported {summary.rows_imported:,} rows ({summary.providers:,} providers)"
            f" in {elapsed:.1f}s = {summary.rows_imported / elapsed:,.0f} rows/s"
        )
        app = create_app(config)
        client = app.test_client()
        direct_engine = engine if kind == "elasticsearch" else None
        time_mix(client, direct_engine, mix[: max(3, len(mix) // 10)])  # warm caches
        api, direct = time_mix(client, direct_engine, mix)
        for query_kind in QUERY_KINDS:
            p50, p95 = percentiles(api[query_kind])
            line = [kind, query_kind, f"{p50:.1f}", f"{p95:.1f}"]
            if direct:
                d50, d95 = percentiles(direct[query_kind])
                line += [f"{d50:.1f}", f"{d95:.1f}", f"{p50 / d50:.2f}"]
            else:
                line += ["", "", ""]
            report.append(line)
        all_api = [t for ts in api.values() for t in ts]
        line = [kind, "all", *(f"{v:.1f}" for v in percentiles(all_api))]
        if direct:
            all_direct = [t for ts in direct.values() for t in ts]
            d50, d95 = percentiles(all_direct)
            line += [f"{d50:.1f}", f"{d95:.1f}", f"{percentiles(all_api)[0] / d50:.2f}"]
        else:
            line += ["", "", ""]
        report.append(line)
        if kind == "elasticsearch":
            engine.client.indices.delete(index=f"{config['PD_INDEX_PREFIX']}*")
        engine.close()
    print()
    header = (
        "engine",
        "queries",
        "API p50 ms",
        "API p95 ms",
        "direct p50 ms",
        "direct p95 ms",
        "API/direct",
    )
    print("| " + " | ".join(header) + " |")
    print("|---|---|---|---|---|---|---|")
    for line in report:
        print("| " + " | ".join(line) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-elasticsearch", action="store_true")
    args = parser.parse_args()
    es_url = (
        None
        if args.no_elasticsearch
        else os.environ.get("PD_BENCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    )
    run(args.locations, args.queries, args.seed, es_url)


if __name__ == "__main__":
    main()
