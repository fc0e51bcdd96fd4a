"""FHIR benchmark: the same searches through `/fhir` and through `/v1`, at N provider-locations.

    make bench-fhir BENCH_ARGS="--locations 1000000"

Imports N generated practitioner-locations on each engine, builds the FHIR view (timed), writes
the bulk set from it (time and peak Python memory: streamed, it must not grow with N), then
times three kinds of search, each asked both ways with the same page size (20): roles near a
point with a specialty; roles near a point speaking a language and accepting new patients under
a plan's network; practitioners by family name. Prints p50/p95 per kind and the ratio of the
/fhir p50 to the /v1 p50.
"""

import argparse
import csv
import os
import platform
import random
import resource
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

from app import create_app
from app.engines import create_engine
from app.fhir.bulk import write_set
from app.fhir.resources import network_id
from app.fhir.view import FhirView, build_view
from bench.search import percentiles, write_roster
from indexer.pipeline import import_roster

KINDS = ("near+specialty", "near+language+accepting+network", "family name")
PAGE = 20


def pairs(roster: Path, count: int, seed: int) -> list[tuple[str, dict, dict]]:
    """(kind, /v1 parameters, /fhir parameters) drawn from the roster itself."""
    rng = random.Random(seed)
    points, specialties, plans, families = [], [], [], []
    with open(roster, newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i % 97 or not row["latitude"]:
                continue
            points.append((float(row["latitude"]), float(row["longitude"])))
            specialties.append(row["taxonomy_codes"].split("|")[0])
            if row["plan"]:
                plans.append(row["plan"])
            if row["last_name"]:
                families.append(row["last_name"])
    mix = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        lat, lon = rng.choice(points)
        radius = rng.choice(["5", "10", "15"])
        if kind == "near+specialty":
            code = rng.choice(specialties)
            v1 = {"near": f"{lat},{lon}", "radius": radius, "specialty": code}
            fhir = {"location.near": f"{lat}|{lon}|{radius}|mi", "specialty": code}
        elif kind == "near+language+accepting+network":
            plan = rng.choice(plans)
            v1 = {
                "near": f"{lat},{lon}",
                "radius": radius,
                "language": "es",
                "plan": plan,
                "accepting_new_patients": "accepting",
            }
            fhir = {
                "location.near": f"{lat}|{lon}|{radius}|mi",
                "language": "es",
                "network": f"Organization/{network_id(plan)}",
                "new-patient": "newpt",
            }
        else:
            family = rng.choice(families)
            v1 = {"q": family}
            fhir = {"family": family}
        v1.update({"limit": str(PAGE), "facets": "false"})
        fhir["_count"] = str(PAGE)
        mix.append((kind, v1, fhir))
    return mix


def time_both(client, mix) -> dict[tuple[str, str], list[float]]:
    times: dict[tuple[str, str], list[float]] = {}
    for kind, v1, fhir in mix:
        for api, url, params in (
            ("v1", "/v1/providers", v1),
            ("fhir", "/fhir/PractitionerRole", fhir),
        ):
            if kind == "family name" and api == "fhir":
                url = "/fhir/Practitioner"
            start = time.perf_counter()
            response = client.get(url, query_string=params)
            times.setdefault((api, kind), []).append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, params, response.get_data(as_text=True))
    return times


def run(locations: int, queries: int, seed: int, es_url: str | None, embedded: bool = True) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pd-bench-fhir-"))
    roster = workdir / "roster.csv"
    rows = write_roster(roster, locations, seed)
    print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# roster: {locations:,} practitioner-locations, {rows:,} rows (seed {seed})")
    mix = pairs(roster, queries, seed)
    engines = ([("embedded", None)] if embedded else []) + (
        [("elasticsearch", es_url)] if es_url else []
    )
    report = []
    for kind, url in engines:
        config = {
            "PD_DATA_DIR": str(workdir / f"data-{kind}"),
            "PD_INDEX_PREFIX": f"pd-bench-{uuid.uuid4().hex[:6]}-",
            "ELASTICSEARCH_URL": url,
            "PD_RATE_LIMIT": "100000000/minute",
            "PD_ES_TIMEOUT": 120.0,
        }
        engine = create_engine(config)
        import_roster(engine, roster)
        start = time.perf_counter()
        path = build_view(engine, config["PD_DATA_DIR"])
        elapsed = time.perf_counter() - start
        size = path.stat().st_size / 1e6
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{kind}: FHIR view built in {elapsed:.1f}s, {size:,.0f} MB (peak RSS {peak:,.0f} MB)"
        )
        view = FhirView(path)
        start = time.perf_counter()
        manifest = write_set(view, workdir / f"export-{kind}")
        elapsed = time.perf_counter() - start
        written = sum(item["count"] for item in manifest["output"])
        roles = next(i["count"] for i in manifest["output"] if i["type"] == "PractitionerRole")
        # Memory apart (tracemalloc slows the writing): the roles again, the biggest file.
        tracemalloc.start()
        write_set(view, workdir / f"export-{kind}-roles", types=["PractitionerRole"])
        _current, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        view.close()
        print(
            f"{kind}: bulk set of {written:,} resources ({roles:,} PractitionerRoles) written in"
            f" {elapsed:.1f}s = {written / elapsed:,.0f}/s; writing the roles, peak Python"
            f" memory {traced / 1e6:,.1f} MB"
        )
        client = create_app(config).test_client()
        # The first search near a point reads the places and the roles at each into memory.
        first = next(fhir for query_kind, _v1, fhir in mix if query_kind == KINDS[0])
        start = time.perf_counter()
        assert client.get("/fhir/PractitionerRole", query_string=first).status_code == 200
        print(f"{kind}: first /fhir search near a point {time.perf_counter() - start:.2f}s")
        time_both(client, mix[: max(3, len(mix) // 10)])  # warm caches
        times = time_both(client, mix)
        for query_kind in KINDS:
            v50, v95 = percentiles(times[("v1", query_kind)])
            f50, f95 = percentiles(times[("fhir", query_kind)])
            report.append(
                [
                    kind,
                    query_kind,
                    f"{v50:.1f}",
                    f"{v95:.1f}",
                    f"{f50:.1f}",
                    f"{f95:.1f}",
                    f"{f50 / v50:.2f}",
                ]
            )
        if kind == "elasticsearch":
            engine.client.indices.delete(index=f"{config['PD_INDEX_PREFIX']}*")
        engine.close()
    print()
    print("| engine | search | /v1 p50 ms | /v1 p95 ms | /fhir p50 ms | /fhir p95 ms | /fhir÷/v1 |")
    print("|---|---|---|---|---|---|---|")
    for line in report:
        print("| " + " | ".join(line) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-elasticsearch", action="store_true")
    parser.add_argument("--no-embedded", action="store_true")
    args = parser.parse_args()
    es_url = (
        None
        if args.no_elasticsearch
        else os.environ.get("PD_BENCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    )
    run(args.locations, args.queries, args.seed, es_url, embedded=not args.no_embedded)


if __name__ == "__main__":
    main()
