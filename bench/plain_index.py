"""Our Elasticsearch index beside a plain nested one, on the same providers and the same searches.

    make bench-index BENCH_ARGS="--locations 833000"

Imports a generated roster of N practitioner-locations into Elasticsearch the way the directory
does, then builds a *plain* index from the same documents: one document per provider, its locations
`nested` with a `geo_point`, and each location's plans `nested` inside it (plan, line of business,
accepting), the shape a competent first design takes. Both answer the same searches — within R
miles of a ZIP centre, one plan, accepting new patients, nearest first, 10 per page, exact total,
facet counts of specialty, language and gender — sent directly with the client, each search to both
indices back to back, taking turns to go first. Both are merged into one segment before the searches
(the directory merges each new generation before it goes live). The totals must agree (else it
stops: the two are not answering the same question); the table gives p50/p95 per index and radius.
"""

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from elasticsearch.helpers import scan, streaming_bulk

from app.config import DEFAULTS
from app.engines import create_engine, es_query
from app.engines.elastic import BULK_CHUNK, loading_settings
from app.search.query import GeoFilter, SearchQuery
from bench.search import write_roster
from indexer.pipeline import import_roster

ES_URL = os.environ.get("PD_BENCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
FACETS = ("specialty", "language", "gender")
RADII = (5.0, 10.0, 25.0)
PAGE = 10

PLAIN_MAPPING = {
    "properties": {
        "npi": {"type": "keyword"},
        "display_name": {"type": "keyword"},
        "gender": {"type": "keyword"},
        "specialty_codes": {"type": "keyword"},
        "languages": {"type": "keyword"},
        "locations": {
            "type": "nested",
            "properties": {
                "location_id": {"type": "keyword"},
                "city": {"type": "keyword"},
                "zip": {"type": "keyword"},
                "geo": {"type": "geo_point"},
                "plans": {
                    "type": "nested",
                    "properties": {
                        "plan": {"type": "keyword"},
                        "line_of_business": {"type": "keyword"},
                        "accepting": {"type": "keyword"},
                        "plan_provider_id": {"type": "keyword"},
                    },
                },
            },
        },
    }
}


def plain_document(source: dict) -> dict:
    """The plain index's document for one provider of ours."""
    return {
        "npi": source["npi"],
        "display_name": source.get("display_name"),
        "gender": source.get("gender"),
        "specialty_codes": source.get("specialty_codes", []),
        "languages": source.get("languages", []),
        "locations": [
            {
                "location_id": loc["location_id"],
                "city": loc.get("city"),
                "zip": loc.get("zip"),
                "geo": {"lat": loc["lat"], "lon": loc["lon"]},
                "plans": [
                    {
                        "plan": p["plan"],
                        "line_of_business": p["line_of_business"],
                        "accepting": p["accepting"],
                        "plan_provider_id": p.get("plan_provider_id"),
                    }
                    for p in loc.get("plans", [])
                ],
            }
            for loc in source["locations"]
        ],
    }


def build_plain_index(client, ours: str, plain: str) -> tuple[int, float]:
    """Copy every provider of our index into a plain one; (providers, seconds)."""
    client.indices.create(
        index=plain,
        settings=loading_settings(DEFAULTS["PD_ES_SHARDS"]),
        mappings=PLAIN_MAPPING,
    )
    keep = ["npi", "display_name", "gender", "specialty_codes", "languages", "locations"]

    def actions():
        for hit in scan(client, index=ours, _source=keep, size=1000):
            yield {"_index": plain, "_id": hit["_id"], "_source": plain_document(hit["_source"])}

    start = time.perf_counter()
    sent = sum(ok for ok, _ in streaming_bulk(client, actions(), chunk_size=BULK_CHUNK))
    # Back to the settings ours is served with (as the directory's writer does before its swap).
    client.indices.put_settings(
        index=plain, settings={"refresh_interval": "1s", "translog.durability": "request"}
    )
    client.indices.refresh(index=plain)
    # Merged into one segment as the directory merges its generations: the two compare as indices.
    client.options(request_timeout=3600).indices.forcemerge(index=plain, max_num_segments=1)
    return sent, time.perf_counter() - start


def plain_search(lat: float, lon: float, miles: float, plan: str) -> dict:
    """The plain index's request: nested within nested, a competent first design."""
    geo = {
        "geo_distance": {
            "distance": f"{miles}mi",
            "distance_type": "arc",
            "locations.geo": {"lat": lat, "lon": lon},
        }
    }
    plan_match = {
        "nested": {
            "path": "locations.plans",
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"locations.plans.plan": plan}},
                        {"term": {"locations.plans.accepting": "accepting"}},
                    ]
                }
            },
        }
    }
    location = {"bool": {"filter": [geo, plan_match]}}
    return {
        "query": {"nested": {"path": "locations", "query": location, "inner_hits": {"size": 100}}},
        "sort": [
            {
                "_geo_distance": {
                    "locations.geo": {"lat": lat, "lon": lon},
                    "order": "asc",
                    "unit": "mi",
                    "distance_type": "arc",
                    "mode": "min",
                    "nested": {"path": "locations", "filter": location},
                }
            },
            {"npi": "asc"},
        ],
        "size": PAGE,
        "track_total_hits": True,
        "aggs": {name: {"terms": {"field": field, "size": 1000}} for name, field in FACET_FIELDS},
    }


FACET_FIELDS = (("specialty", "specialty_codes"), ("language", "languages"), ("gender", "gender"))


def our_search(lat: float, lon: float, miles: float, plan: str) -> dict:
    """Our request for the same search, as the directory builds it."""
    query = SearchQuery(
        geo=GeoFilter(lat=lat, lon=lon, radius_miles=miles),
        plans=(plan,),
        accepting=("accepting",),
        sort="distance",
        limit=PAGE,
        facets=FACETS,
    )
    body = es_query.search_body(query)
    body["source"] = body.pop("_source")
    return body


def searches(client, index: str, count: int, seed: int) -> list[tuple[float, float, float, str]]:
    """(lat, lon, miles, plan): centres where providers practise, plans they take."""
    rng = random.Random(seed)
    sample = client.search(
        index=index,
        size=500,
        query={"function_score": {"random_score": {"seed": seed, "field": "_seq_no"}}},
        source=["locations.lat", "locations.lon", "locations.plans.plan"],
    )["hits"]["hits"]
    places, plans = [], set()
    for hit in sample:
        for loc in hit["_source"]["locations"]:
            places.append((loc["lat"], loc["lon"]))
            plans.update(p["plan"] for p in loc.get("plans", []))
    plans = sorted(plans)
    return [(*rng.choice(places), RADII[i % len(RADII)], rng.choice(plans)) for i in range(count)]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[round(0.95 * (len(ordered) - 1))]


def run(locations: int, queries: int, seed: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pd-bench-index-"))
    roster = workdir / "roster.csv"
    rows = write_roster(roster, locations, seed)
    print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# roster: {locations:,} practitioner-locations, {rows:,} rows (seed {seed})")
    prefix = f"pd-bench-{uuid.uuid4().hex[:6]}-"
    engine = create_engine(
        {
            "PD_DATA_DIR": str(workdir / "data"),
            "PD_INDEX_PREFIX": prefix,
            "ELASTICSEARCH_URL": ES_URL,
            "PD_ES_TIMEOUT": 300.0,
        }
    )
    client = engine.client
    plain = f"{prefix}plain"
    try:
        start = time.perf_counter()
        summary = import_roster(engine, roster)
        print(
            f"ours: {summary.providers:,} providers imported in {time.perf_counter() - start:.0f}s"
        )
        ours = engine.alias
        sent, seconds = build_plain_index(client, ours, plain)
        print(f"plain: {sent:,} providers copied in {seconds:.0f}s")
        counts = client.count(index=ours)["count"], client.count(index=plain)["count"]
        assert counts[0] == counts[1], counts
        sizes = {
            name: client.indices.stats(index=name, metric="store")["_all"]["primaries"]["store"][
                "size_in_bytes"
            ]
            for name in (ours, plain)
        }
        mix = searches(client, ours, queries, seed)
        times: dict[tuple[str, float], list[float]] = {}
        bodies = {"ours": (ours, our_search), "plain": (plain, plain_search)}
        for warm in (True, False):
            for i, (lat, lon, miles, plan) in enumerate(mix[: queries // 5] if warm else mix):
                totals = {}
                order = ("ours", "plain") if i % 2 else ("plain", "ours")
                for name in order:
                    index, build = bodies[name]
                    body = build(lat, lon, miles, plan)
                    begin = time.perf_counter()
                    answer = client.search(index=index, **body)
                    elapsed = (time.perf_counter() - begin) * 1000
                    totals[name] = answer["hits"]["total"]["value"]
                    if not warm:
                        times.setdefault((name, miles), []).append(elapsed)
                        times.setdefault((name, 0.0), []).append(elapsed)
                assert totals["ours"] == totals["plain"], (lat, lon, miles, plan, totals)
        print()
        print("| index | radius | searches | p50 ms | p95 ms |")
        print("|---|---|---:|---:|---:|")
        for name in ("plain", "ours"):
            for miles in (*RADII, 0.0):
                p50, p95 = percentiles(times[(name, miles)])
                label = f"{miles:g} mi" if miles else "all"
                print(f"| {name} | {label} | {len(times[(name, miles)])} | {p50:.1f} | {p95:.1f} |")
        print()
        mb = {name: size / 2**20 for name, size in sizes.items()}
        print(f"size on disk: ours {mb[ours]:,.0f} MB, plain {mb[plain]:,.0f} MB")
    finally:
        client.indices.delete(index=f"{prefix}*")
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=833_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    run(args.locations, args.queries, args.seed)


if __name__ == "__main__":
    main()
