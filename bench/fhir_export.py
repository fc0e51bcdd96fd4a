"""Bulk export benchmark: build the FHIR view of N generated practitioner-locations and write the
bulk files (every Plan-Net type, NDJSON and gzip), reporting time and peak memory.

    .venv/bin/python -m bench.fhir_export --locations 100000

Generates the roster with the fixture generator (seed 2026) and imports it into the embedded
engine (or Elasticsearch with --engine elasticsearch). Then, each in its own process so that peak
memory is its own: builds the view from the engine's documents, and writes the set from the view
(the work of `provider-directory publish` and of one `$export`), then writes it again under
tracemalloc for the peak of Python's own memory (the peak RSS also counts the view's
memory-mapped pages). The same is done at a tenth of the size, to show whether memory grows with
the directory.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

from bench.search import write_roster

ES_URL = os.environ.get("PD_BENCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def engine_config(engine_kind: str, data_dir: Path, prefix: str) -> dict:
    return {
        "PD_DATA_DIR": str(data_dir),
        "PD_INDEX_PREFIX": prefix,
        "ELASTICSEARCH_URL": ES_URL if engine_kind == "elasticsearch" else None,
        "PD_ES_TIMEOUT": 300.0,
    }


def child(args: list[str]) -> dict:
    """Run one measured step in its own process and return what it printed (JSON)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.fhir_export", "--step", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def step_import(config: dict, roster: Path) -> dict:
    from app.engines import create_engine
    from indexer.pipeline import import_roster

    engine = create_engine(config)
    start = time.perf_counter()
    summary = import_roster(engine, roster)
    return {"providers": summary.providers, "seconds": time.perf_counter() - start}


def step_view(config: dict) -> dict:
    from app.engines import create_engine
    from app.fhir.view import FhirView, build_view

    engine = create_engine(config)
    start = time.perf_counter()
    path = build_view(engine, config["PD_DATA_DIR"])
    seconds = time.perf_counter() - start
    view = FhirView(path)
    return {
        "seconds": seconds,
        "resources": sum(view.counts.values()),
        "roles": view.counts.get("PractitionerRole", 0),
        "view_mb": path.stat().st_size / 1e6,
        "peak_mb": peak_rss_mb(),
    }


def step_write(config: dict, out: Path, trace: bool = False) -> dict:
    """Publish the set; with `trace`, under tracemalloc (slower) for the peak of Python's own
    allocations: the process's peak RSS also counts the view's memory-mapped pages."""
    from app.fhir.bulk import publish
    from app.fhir.view import LIVE_NAME, FhirView, view_dir

    view = FhirView(view_dir(config["PD_DATA_DIR"]) / LIVE_NAME)
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    folder, manifest = publish(view, out)
    seconds = time.perf_counter() - start
    heap_mb = tracemalloc.get_traced_memory()[1] / 1e6 if trace else None
    plain = sum(p.stat().st_size for p in folder.glob("*.ndjson"))
    packed = sum(p.stat().st_size for p in folder.glob("*.ndjson.gz"))
    return {
        "seconds": seconds,
        "resources": sum(item["count"] for item in manifest["output"]),
        "ndjson_mb": plain / 1e6,
        "gzip_mb": packed / 1e6,
        "peak_mb": peak_rss_mb(),
        "heap_mb": heap_mb,
    }


def run_size(engine_kind: str, locations: int, seed: int, workdir: Path) -> dict:
    folder = workdir / f"{engine_kind}-{locations}"
    folder.mkdir()
    roster = folder / "roster.csv"
    rows = write_roster(roster, locations, seed)
    prefix = f"pd-bench-{uuid.uuid4().hex[:6]}-"
    config = json.dumps(engine_config(engine_kind, folder / "data", prefix))
    imported = child(["import", config, str(roster)])
    view = child(["view", config])
    written = child(["write", config, str(folder / "bulk")])
    written["heap_mb"] = child(["trace", config, str(folder / "traced")])["heap_mb"]
    if engine_kind == "elasticsearch":
        from elasticsearch import Elasticsearch

        Elasticsearch(ES_URL).indices.delete(index=f"{prefix}*")
    return {"locations": locations, "rows": rows, **imported, "view": view, "write": written}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--engine", choices=("embedded", "elasticsearch"), default="embedded")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        name, config, *rest = args.step
        config = json.loads(config)
        if name == "import":
            result = step_import(config, Path(rest[0]))
        elif name == "view":
            result = step_view(config)
        else:
            result = step_write(config, Path(rest[0]), trace=name == "trace")
        print(json.dumps(result))
        return
    workdir = Path(tempfile.mkdtemp(prefix="pd-bench-fhir-export-"))
    print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# engine: {args.engine}; seed {args.seed}; work in {workdir}")
    print()
    print(
        "| locations | PractitionerRoles | resources | view s | view peak MB | write s "
        "| resources/s | write peak RSS MB | write peak heap MB | NDJSON MB | gzip MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for locations in (args.locations // 10, args.locations):
        r = run_size(args.engine, locations, args.seed, workdir)
        view, written = r["view"], r["write"]
        print(
            f"| {locations:,} | {view['roles']:,} | {written['resources']:,} "
            f"| {view['seconds']:,.1f} | {view['peak_mb']:,.0f} | {written['seconds']:,.1f} "
            f"| {written['resources'] / written['seconds']:,.0f} | {written['peak_mb']:,.0f} "
            f"| {written['heap_mb']:,.1f} "
            f"| {written['ndjson_mb']:,.0f} | {written['gzip_mb']:,.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
