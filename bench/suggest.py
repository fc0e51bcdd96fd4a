"""Suggest benchmark: import N generated practitioner-locations, then time GET /v1/suggest.

    make bench-suggest BENCH_ARGS="--locations 1000000"

Runs on both engines (Elasticsearch at PD_BENCH_ELASTICSEARCH_URL). The prefixes are what people
type: the first 2 to 6 letters of a last or first name, a group, an office, a city or a specialty
of the roster itself, and some names typed as far as the second word ("maria ga"). Prints p50/p95
through the API (Flask, in-process) by prefix length, and of the engine's provider lookup alone.
The first request after an import builds the in-memory index of names and vocabulary; it is
timed apart. With --workdir and --keep, a second run measures the same directories again without
importing them.
"""

import argparse
import csv
import hashlib
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from app import create_app
from app.engines import create_engine
from app.engines.base import EngineUnavailable
from app.search.suggest import typed_words
from app.vocab.nucc import describe
from bench.search import percentiles, write_roster
from indexer.pipeline import import_roster

LIMIT = 8
LENGTHS = ("2", "3-4", "5-6", "two words")


def prefix_mix(roster: Path, count: int, seed: int) -> list[str]:
    """A fixed list of typed prefixes drawn from the roster's names."""
    rng = random.Random(seed)
    sources: dict[str, list[str]] = {"last": [], "first": [], "place": [], "specialty": []}
    full_names: list[str] = []
    with open(roster, newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i % 53:
                continue
            if row["last_name"]:
                sources["last"].append(row["last_name"])
                sources["first"].append(row["first_name"])
                full_names.append(f"{row['first_name']} {row['last_name']}")
            for place in (row["medical_group"], row["location_name"], row["city"]):
                if place:
                    sources["place"].append(place)
            code = row["taxonomy_codes"].split("|")[0]
            if code:
                sources["specialty"].append(describe(code).display)
    mix = []
    for i in range(count):
        if i % 5 == 4:
            first, _, last = rng.choice(full_names).partition(" ")
            mix.append(f"{first} {last[: rng.randint(1, 3)]}")
            continue
        kind = rng.choice(("last", "last", "first", "place", "specialty"))
        words = typed_words(rng.choice(sources[kind]))
        word = rng.choice(words) if words else "ma"
        mix.append(word[: rng.randint(2, 6)])
    return mix


def length_of(prefix: str) -> str:
    if " " in prefix:
        return "two words"
    return "2" if len(prefix) <= 2 else "3-4" if len(prefix) <= 4 else "5-6"


def import_once(engine, roster: Path, kind: str) -> None:
    """Import the roster unless the directory is there already (a kept one)."""
    try:
        health = engine.health()
        print(f"{kind}: reusing {health['providers']:,} providers, {health['locations']:,} places")
        return
    except EngineUnavailable:
        pass
    start = time.perf_counter()
    summary = import_roster(engine, roster)
    elapsed = time.perf_counter() - start
    print(
        f"{kind}: imported {summary.rows_imported:,} rows ({summary.providers:,} providers,"
        f" {engine.health()['locations']:,} locations) in {elapsed:.1f}s"
    )


def run(
    locations: int,
    queries: int,
    seed: int,
    engines: list[tuple[str, str | None]],
    workdir: Path,
    keep: bool,
) -> None:
    roster = workdir / "roster.csv"
    if not roster.exists():
        # Written aside and renamed, so that a run beside this one never reads half a roster.
        partial = workdir / "roster.csv.partial"
        write_roster(partial, locations, seed)
        partial.replace(roster)
    with open(roster, encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# roster: {locations:,} practitioner-locations, {rows:,} rows (seed {seed})")
    mix = prefix_mix(roster, queries, seed)
    report = []
    for kind, url in engines:
        config = {
            "PD_DATA_DIR": str(workdir / f"data-{kind}"),
            # The same prefix for the same work directory, so that a kept index is found again.
            "PD_INDEX_PREFIX": f"pd-bench-{hashlib.sha1(bytes(workdir)).hexdigest()[:6]}-",
            "ELASTICSEARCH_URL": url,
            "PD_RATE_LIMIT": "100000000/minute",
            "PD_ES_TIMEOUT": 300.0,
        }
        engine = create_engine(config)
        import_once(engine, roster, kind)
        client = create_app(config).test_client()
        start = time.perf_counter()
        assert client.get("/v1/suggest", query_string={"q": "ma"}).status_code == 200
        print(f"{kind}: first request (names read, index built) {time.perf_counter() - start:.2f}s")
        for prefix in mix[: max(3, len(mix) // 10)]:  # warm caches
            client.get("/v1/suggest", query_string={"q": prefix, "limit": LIMIT})
        api: dict[str, list[float]] = {k: [] for k in LENGTHS}
        found = 0
        for prefix in mix:
            start = time.perf_counter()
            response = client.get("/v1/suggest", query_string={"q": prefix, "limit": LIMIT})
            api[length_of(prefix)].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.json
            found += len(response.json["suggestions"])
        direct = []
        for prefix in mix:
            start = time.perf_counter()
            engine.suggest(typed_words(prefix), LIMIT)
            direct.append((time.perf_counter() - start) * 1000)
        for length in LENGTHS:
            if api[length]:
                p50, p95 = percentiles(api[length])
                report.append([kind, length, str(len(api[length])), f"{p50:.1f}", f"{p95:.1f}"])
        p50, p95 = percentiles([t for ts in api.values() for t in ts])
        report.append([kind, "**all**", str(len(mix)), f"**{p50:.1f}**", f"**{p95:.1f}**"])
        d50, d95 = percentiles(direct)
        report.append([kind, "engine.suggest alone", str(len(mix)), f"{d50:.1f}", f"{d95:.1f}"])
        print(f"{kind}: {found / len(mix):.1f} suggestions per prefix on average")
        if url and not keep:
            engine.client.indices.delete(index=f"{config['PD_INDEX_PREFIX']}*")
        engine.close()
    print()
    print("| engine | prefixes | count | p50 ms | p95 ms |")
    print("|---|---|---:|---:|---:|")
    for line in report:
        print("| " + " | ".join(line) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-elasticsearch", action="store_true")
    parser.add_argument("--no-embedded", action="store_true")
    parser.add_argument("--workdir", type=Path, help="reuse this directory's roster and data")
    parser.add_argument("--keep", action="store_true", help="keep the Elasticsearch index")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pd-bench-suggest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"# work directory: {workdir}")
    engines: list[tuple[str, str | None]] = [] if args.no_embedded else [("embedded", None)]
    if not args.no_elasticsearch:
        url = os.environ.get("PD_BENCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
        engines.append(("elasticsearch", url))
    run(args.locations, args.queries, args.seed, engines, workdir.resolve(), args.keep)


if __name__ == "__main__":
    main()
