"""Import benchmark: rows/s end to end and peak memory, beside the bare bulk rate.

    make bench-imports BENCH_ARGS="--rows 1000000"

Generates a roster of N practitioner-location-plan rows (the fixture generator), then in separate
processes (so peak memory is each run's own): imports it into the embedded engine and into
Elasticsearch (read, validate, geocode, group, write, swap), and for Elasticsearch also sends the
same documents, prepared beforehand, with the client's bulk helper alone. The embedded import is
also run at a tenth of the size, to show whether memory grows with the roster.
"""

import argparse
import csv
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fixtures.generate import COLUMNS, generate_rows

ES_URL = os.environ.get("PD_BENCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")


def write_roster(path: Path, rows: int, seed: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        # Plenty of locations; stop at exactly `rows` rows.
        writer.writerows(itertools.islice(generate_rows(rows, seed=seed), rows))


def child(args: list[str]) -> dict:
    """Run one measured step in its own process and return what it printed (JSON)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.imports", "--step", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_import(engine_kind: str, roster: Path, workdir: Path) -> dict:
    from app.engines import create_engine
    from indexer.pipeline import import_roster

    prefix = f"pd-bench-{uuid.uuid4().hex[:6]}-"
    engine = create_engine(
        {
            "PD_DATA_DIR": str(workdir / f"data-{engine_kind}"),
            "PD_INDEX_PREFIX": prefix,
            "ELASTICSEARCH_URL": ES_URL if engine_kind == "elasticsearch" else None,
            "PD_ES_TIMEOUT": 300.0,
        }
    )
    start = time.perf_counter()
    summary = import_roster(engine, roster, sources_dir=workdir / f"sources-{engine_kind}")
    seconds = time.perf_counter() - start
    if engine_kind == "elasticsearch":
        engine.client.indices.delete(index=f"{prefix}*")
    return {
        "rows": summary.rows_imported,
        "providers": summary.providers,
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
    }


def step_bare_bulk(roster: Path, workdir: Path) -> dict:
    from elasticsearch.helpers import streaming_bulk

    from app.config import DEFAULTS
    from app.engines.elastic import (
        BULK_CHUNK,
        connect,
        load_index_definition,
        loading_settings,
        to_source,
    )
    from indexer.documents import documents_from_sorted
    from indexer.pipeline import (
        import_roster,  # noqa: F401 - same package state as the import
        roster_rows,
        staged_records,
    )
    from indexer.records import ImportSummary

    prepared = workdir / "prepared.jsonl"
    summary = ImportSummary(source=str(roster))
    with tempfile.TemporaryDirectory(dir=workdir) as work, open(prepared, "w") as fh:
        for doc in documents_from_sorted(staged_records(roster_rows(roster), summary, work)):
            fh.write(json.dumps(to_source(doc)) + "\n")
    client = connect(ES_URL, timeout=300)
    index = f"pd-bench-bare-{uuid.uuid4().hex[:6]}"
    client.indices.create(
        index=index,
        settings=loading_settings(DEFAULTS["PD_ES_SHARDS"]),
        mappings=load_index_definition()["mappings"],
    )

    def actions():
        with open(prepared) as source:
            for line in source:
                doc = json.loads(line)
                yield {"_index": index, "_id": doc["npi"], "_source": doc}

    start = time.perf_counter()
    sent = sum(
        ok
        for ok, _ in streaming_bulk(client, actions(), chunk_size=BULK_CHUNK, raise_on_error=False)
    )
    client.indices.refresh(index=index)
    seconds = time.perf_counter() - start
    client.indices.delete(index=index)
    return {"rows": summary.rows_imported, "providers": sent, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-elasticsearch", action="store_true")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        name, *rest = args.step
        if name == "import":
            result = step_import(rest[0], Path(rest[1]), Path(rest[2]))
        else:
            result = step_bare_bulk(Path(rest[0]), Path(rest[1]))
        print(json.dumps(result))
        return
    workdir = Path(tempfile.mkdtemp(prefix="pd-bench-imports-"))
    print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    big, small = workdir / "big.csv", workdir / "small.csv"
    write_roster(big, args.rows, args.seed)
    write_roster(small, args.rows // 10, args.seed)
    print(f"# roster: {args.rows:,} rows ({big.stat().st_size / 1e6:,.0f} MB), seed {args.seed}")
    lines = []
    for label, roster in ((f"{args.rows // 10:,}", small), (f"{args.rows:,}", big)):
        r = child(["import", "embedded", str(roster), str(workdir)])
        lines.append(("embedded import", label, r))
    if not args.no_elasticsearch:
        r = child(["import", "elasticsearch", str(big), str(workdir)])
        lines.append(("elasticsearch import", f"{args.rows:,}", r))
        r = child(["bare", str(big), str(workdir)])
        lines.append(("elasticsearch bulk helper alone", f"{args.rows:,}", r))
    print()
    print("| run | rows | providers | seconds | rows/s | peak memory MB |")
    print("|---|---|---|---|---|---|")
    for name, label, r in lines:
        peak = f"{r['peak_mb']:,.0f}" if "peak_mb" in r else ""
        print(
            f"| {name} | {label} | {r['providers']:,} | {r['seconds']:,.1f} | "
            f"{r['rows'] / r['seconds']:,.0f} | {peak} |"
        )


if __name__ == "__main__":
    main()
