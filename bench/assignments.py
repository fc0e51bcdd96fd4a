"""Batch auto-assignment benchmark: members assigned per second and peak memory.

    make bench-assignments BENCH_ARGS="--members 100000 --pcp-locations 5000"

Builds an embedded directory from a generated roster large enough that one Medi-Cal plan has at
least the asked number of PCP practitioner-locations, writes a member file (homes at ZIP centroids
of the directory's ZIP codes, a realistic mix of ages, languages and preferences, one in ten with a
current PCP), then runs the same assignment job the API runs, in its own process, and reports the
time of each part, the members assigned and the peak memory.
"""

import argparse
import csv
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fixtures.generate import COLUMNS, generate_rows

PLAN, LOB = "sunrise-medi-cal", "medi-cal"
# In the generated rosters about 1 practitioner-location in 4.6 is a PCP in this plan.
LOCATIONS_PER_PLAN_PCP = 4.6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process so far: on a shared machine, the work itself, whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build_directory(workdir: Path, pcp_locations: int, seed: int) -> tuple[dict, int]:
    from app.engines import create_engine
    from app.match.offers import search_offers
    from indexer.pipeline import import_roster

    config = {"PD_DATA_DIR": str(workdir / "data")}
    n = int(pcp_locations * LOCATIONS_PER_PLAN_PCP)
    while True:
        roster = workdir / "roster.csv"
        with open(roster, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(generate_rows(n, seed=seed))
        engine = create_engine(config)
        import_roster(engine, roster, sources_dir=workdir / "sources")
        offers = sum(1 for _ in search_offers(engine, plan=PLAN, line_of_business=LOB))
        engine.close()
        if offers >= pcp_locations:
            return config, offers
        n = int(n * pcp_locations / max(offers, 1) * 1.05)


def write_members(path: Path, config: dict, members: int, seed: int) -> None:
    from app.engines import create_engine
    from app.match.offers import search_offers

    engine = create_engine(config)
    offers = list(search_offers(engine, plan=PLAN, line_of_business=LOB))
    engine.close()
    zips = sorted({o["location"]["zip"] for o in offers})
    npis = sorted({o["npi"] for o in offers})
    rng = random.Random(seed)
    languages = ["", "", "", "es", "es", "es|en", "zh", "ko", "vi", "tl", "hy", "fa", "ru"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "member_id",
                "home",
                "plan",
                "line_of_business",
                "age",
                "sex",
                "languages",
                "gender_preference",
                "telehealth",
                "current_pcp",
            ]
        )
        for i in range(members):
            writer.writerow(
                [
                    f"M{i:07d}",
                    rng.choice(zips),
                    PLAN,
                    LOB,
                    rng.choice([1, 4, 8, 12, 16, 24, 33, 41, 52, 60, 67, 75, 84]),
                    rng.choice(["female", "male"]),
                    rng.choice(languages),
                    rng.choice(["", "", "", "female", "male"]),
                    rng.choice(["", "Y"]),
                    rng.choice(npis) if rng.random() < 0.1 else "",
                ]
            )


def step_assign(config: dict, members: Path, workdir: Path) -> dict:
    from app.engines import create_engine
    from app.jobs.runner import run_assignment_job
    from app.jobs.store import AssignmentJob, FileJobStore
    from app.match.rules import load_rules

    store = FileJobStore(workdir / "jobs", kind=AssignmentJob)
    job = AssignmentJob.new(members.name, workdir)
    job.upload_path = str(members)
    store.save(job)
    engine = create_engine(config)
    start, cpu = time.perf_counter(), cpu_seconds()
    run_assignment_job(engine, store, job.id, workdir / "out", load_rules())
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    done = store.get(job.id)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "state": done.state,
        "assigned": done.members_assigned,
        "unassigned": done.members_unassigned,
        "total_cost": done.total_cost,
        "peak_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--pcp-locations", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--step", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        config, members, workdir = json.loads(args.step[0]), Path(args.step[1]), Path(args.step[2])
        print(json.dumps(step_assign(config, members, workdir)))
        return

    print(f"# vm: {__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="pd-bench-assign-") as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        config, offers = build_directory(workdir, args.pcp_locations, args.seed)
        print(
            f"# directory: {offers:,} PCP practitioner-locations in {PLAN} "
            f"(built in {time.perf_counter() - start:.0f} s)"
        )
        members = workdir / "members.csv"
        write_members(members, config, args.members, args.seed)
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.assignments",
                "--step",
                json.dumps(config),
                str(members),
                str(workdir),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
    print()
    print(
        "| members | PCP locations | state | assigned | unassigned | seconds | CPU seconds "
        "| members/s | peak memory | total cost |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.members:,} | {offers:,} | {result['state']} | {result['assigned']:,} "
        f"| {result['unassigned']:,} | {result['seconds']:.1f} | {result['cpu_seconds']:.1f} "
        f"| {args.members / result['seconds']:,.0f} | {result['peak_mb']:.0f} MB "
        f"| {result['total_cost']:,} |"
    )


if __name__ == "__main__":
    main()
