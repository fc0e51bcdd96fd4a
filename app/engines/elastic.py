"""Elasticsearch engine: one index per generation behind an alias swapped in one call."""

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import streaming_bulk
from elasticsearch.serializer import OrjsonSerializer

from app.engines import es_query
from app.engines.base import (
    Engine,
    EngineUnavailable,
    GenerationFailed,
    GenerationWriter,
    Hit,
    SearchResult,
    new_generation_name,
    plan_names_of,
)
from app.engines.es_bulk import BulkSenders
from app.search.query import SearchQuery, plan_keys
from app.search.suggest import DirectoryNames, provider_keys

log = logging.getLogger(__name__)
# At DEBUG the client logs whole request and response bodies, and a matching query carries the
# member's home: keep the transport at INFO (method, URL, status, time) whatever the root level.
logging.getLogger("elastic_transport").setLevel(logging.INFO)
logging.getLogger("elasticsearch").setLevel(logging.INFO)

MAPPINGS_FILE = Path(__file__).resolve().parents[2] / "mappings" / "providers.json"
BULK_CHUNK = 500
BULK_RETRIES = 5
# Bulk requests in flight at once while a generation loads (app.engines.es_bulk).
BULK_SENDERS = 2
# How long a new generation's merge into one segment per shard may take (minutes at millions).
FORCE_MERGE_SECONDS = 3600
MAX_REPORTED_FAILURES = 20
PLAN_NAMES_TTL_SECONDS = 30.0
# How often the names for suggestions check that the live generation is still the one read.
NAMES_CHECK_SECONDS = 5.0
NAMES_SIZE = 10000
OFFICES_PAGE = 5000
DOCUMENTS_PAGE = 1000
# How long a new generation may take to get its replicas in place before its import fails.
COPIES_WAIT_SECONDS = 300


def load_index_definition() -> dict:
    with open(MAPPINGS_FILE, encoding="utf-8") as fh:
        definition = json.load(fh)
    definition.pop("_meta", None)
    return definition


def loading_settings(shards: int) -> dict:
    """A new generation's index settings while it loads: the mapping file's, `shards` shards, no
    copies, no refreshes and no fsync of the translog on every bulk request (faster; the writer
    sets all three back before the swap: a load cut short is discarded anyway)."""
    settings = dict(load_index_definition()["settings"])
    settings.update(
        number_of_shards=shards,
        number_of_replicas=0,
        refresh_interval="-1",
        **{"translog.durability": "async"},
    )
    return settings


def to_source(doc: dict) -> dict:
    """Provider document -> the indexed form (a geo_point and plan keys on each location)."""
    source = dict(doc)
    source["locations"] = [
        {
            **loc,
            "geo": {"lat": loc["lat"], "lon": loc["lon"]},
            "plan_keys": list(dict.fromkeys(k for p in loc["plans"] for k in plan_keys(p))),
        }
        for loc in doc["locations"]
    ]
    source["suggest_keys"] = provider_keys(doc)
    source["location_count"] = len(doc["locations"])
    return source


def node_urls(urls: str) -> list[str]:
    """ELASTICSEARCH_URL: one node's URL, or several separated by commas."""
    return [url.strip() for url in urls.split(",") if url.strip()]


def connect(urls: str, timeout: float = 10.0) -> Elasticsearch:
    """A client that knows every node given and tries the next one when a node fails.

    No sniffing: the nodes given are the ones used (a cluster's nodes may publish addresses that
    the app cannot reach). A request is retried on another node after a connection error, a
    timeout or a 429/502/503/504, so a node that dies costs a retry, not a failed search.
    """
    hosts = node_urls(urls)
    return Elasticsearch(
        hosts,
        # orjson: bulk bodies and answers encoded and decoded several times faster.
        serializer=OrjsonSerializer(),
        request_timeout=timeout,
        retry_on_timeout=True,
        max_retries=max(2, len(hosts)),
        sniff_on_start=False,
        sniff_on_node_failure=False,
    )


class ElasticWriter(GenerationWriter):
    def __init__(self, engine: "ElasticEngine"):
        self.engine = engine
        self.client = engine.client
        self.name = new_generation_name()
        self.index = f"{engine.alias}-{self.name}"
        try:
            self.client.indices.create(
                index=self.index,
                settings=loading_settings(engine.shards),
                mappings=load_index_definition()["mappings"],
            )
        except TransportError as exc:
            raise EngineUnavailable("Elasticsearch is unreachable") from exc
        self.failures: list[dict] = []
        self.plan_names: dict[str, str] = {}

    def _actions(self, documents: Iterable[dict]) -> Iterator[dict]:
        for doc in documents:
            yield {"_index": self.index, "_id": doc["npi"], "_source": to_source(doc)}

    def write(
        self, documents: Iterable[dict], acknowledged: Callable[[int], None] | None = None
    ) -> int:
        senders = BulkSenders(
            self.client, senders=BULK_SENDERS, chunk_size=BULK_CHUNK, max_retries=BULK_RETRIES
        )
        try:
            for action in self._actions(plan_names_of(documents, self.plan_names)):
                senders.put(action)
                if acknowledged is not None:
                    acknowledged(senders.written)
            senders.finish(acknowledged)
        except BaseException:
            senders.give_up()
            raise
        if acknowledged is not None:
            acknowledged(senders.written)
        for item in senders.failed:
            # Every failed item is reported: which provider, the status and Elasticsearch's reason.
            result = next(iter(item.values()))
            error = result.get("error")
            failure = {
                "npi": result.get("_id"),
                "status": result.get("status"),
                "reason": error.get("reason") if isinstance(error, dict) else str(error),
            }
            log.warning("document failed to index: %s", failure)
            self.failures.append(failure)
        if self.failures:
            raise GenerationFailed(
                f"{len(self.failures)} document(s) failed to index (after retries on 429); "
                f"first: {json.dumps(self.failures[:MAX_REPORTED_FAILURES])}"
            )
        return senders.written

    def publish(self, expected: int) -> None:
        client = self.client
        try:
            # Once live a generation is only read (deltas aside): one segment per shard answers
            # nested geo searches about twice as fast as the dozen a bulk load leaves (make
            # bench-index), and merged before any copy is made, copies are made of it.
            client.indices.refresh(index=self.index)
            client.options(request_timeout=FORCE_MERGE_SECONDS).indices.forcemerge(
                index=self.index, max_num_segments=1
            )
            client.indices.put_settings(
                index=self.index,
                settings={
                    "refresh_interval": "1s",
                    "number_of_replicas": self.engine.replicas,
                    "translog.durability": "request",
                },
            )
            client.indices.put_mapping(index=self.index, meta={"plan_names": self.plan_names})
            client.indices.refresh(index=self.index)
            self._wait_for_copies()
            count = client.count(index=self.index)["count"]
            if count != expected:
                raise GenerationFailed(f"index holds {count} providers, expected {expected}")
            old = self.engine.live_indices()
            actions = [{"remove": {"index": name, "alias": self.engine.alias}} for name in old]
            actions.append({"add": {"index": self.index, "alias": self.engine.alias}})
            client.indices.update_aliases(actions=actions)
        except BaseException:
            self.discard()
            raise
        for name in self.engine.all_generations():
            if name != self.index:
                client.indices.delete(index=name, ignore_unavailable=True)

    def _wait_for_copies(self) -> None:
        """Go live only with every copy of every shard in place: a node lost just after the
        swap then costs no search."""
        health = self.client.options(request_timeout=COPIES_WAIT_SECONDS + 30).cluster.health(
            index=self.index, wait_for_status="green", timeout=f"{COPIES_WAIT_SECONDS}s"
        )
        if health["timed_out"]:
            raise GenerationFailed(
                f"{self.engine.replicas} replica(s) of each shard were not in place within "
                f"{COPIES_WAIT_SECONDS} s (status {health['status']}, "
                f"{health['number_of_nodes']} node(s)): PD_ES_REPLICAS must be below the number "
                "of data nodes"
            )

    def discard(self) -> None:
        try:
            self.client.indices.delete(index=self.index, ignore_unavailable=True)
        except TransportError:
            log.warning("could not delete half-built index %s", self.index)


class ElasticEngine(Engine):
    name = "elasticsearch"

    def __init__(
        self, client: Elasticsearch, prefix: str = "pd-", shards: int = 1, replicas: int = 0
    ):
        self.client = client
        self.alias = f"{prefix}providers"
        # Of each new generation's index (PD_ES_SHARDS, PD_ES_REPLICAS).
        self.shards, self.replicas = shards, replicas
        self._plan_names: tuple[float, dict[str, str]] | None = None
        # (checked at, live index, names): read again only when another generation is live.
        self._names: tuple[float, str, DirectoryNames] | None = None

    def new_generation(self) -> ElasticWriter:
        return ElasticWriter(self)

    def live_indices(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    def all_generations(self) -> list[str]:
        found = self.client.indices.get(index=f"{self.alias}-*", expand_wildcards="open").body
        return sorted(found, reverse=True)

    def apply_changes(self, upserts: Iterable[dict], deletions: Iterable[str]) -> dict:
        live = self._call(self.live_indices)
        if not live:
            raise EngineUnavailable("the directory has not been built yet")
        index = live[0]
        names: dict[str, str] = {}
        actions = [
            {"_op_type": "index", "_index": index, "_id": doc["npi"], "_source": to_source(doc)}
            for doc in plan_names_of(upserts, names)
        ]
        actions += [{"_op_type": "delete", "_index": index, "_id": npi} for npi in deletions]
        upserted = deleted = 0
        failures = []
        for ok, item in streaming_bulk(
            self.client,
            actions,
            max_retries=BULK_RETRIES,
            initial_backoff=0.5,
            raise_on_error=False,
            raise_on_exception=True,
        ):
            op, result = next(iter(item.items()))
            if ok:
                upserted += op == "index"
                deleted += op == "delete" and result.get("result") == "deleted"
            elif not (op == "delete" and result.get("status") == 404):
                failures.append(item)
        self.client.indices.refresh(index=index)
        if names:
            mapping = self.client.indices.get_mapping(index=index)
            known = mapping[index]["mappings"].get("_meta", {}).get("plan_names", {})
            self.client.indices.put_mapping(index=index, meta={"plan_names": {**names, **known}})
            self._plan_names = None
        self._names = None
        if failures:
            raise GenerationFailed(f"{len(failures)} change(s) failed: {json.dumps(failures[:3])}")
        return {"upserted": upserted, "deleted": deleted}

    def remove_unpublished(self) -> int:
        try:
            live = set(self.live_indices())
            leftovers = [name for name in self.all_generations() if name not in live]
            for name in leftovers:
                self.client.indices.delete(index=name, ignore_unavailable=True)
        except TransportError as exc:
            raise EngineUnavailable("Elasticsearch is unreachable") from exc
        return len(leftovers)

    def generations(self) -> list[dict]:
        try:
            live = set(self.live_indices())
            return [{"name": n, "live": n in live} for n in self.all_generations()]
        except TransportError as exc:
            raise EngineUnavailable("Elasticsearch is unreachable") from exc

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except NotFoundError as exc:
            raise EngineUnavailable(
                "the directory has not been built yet: run `provider-directory import`"
            ) from exc
        except ApiError:
            raise
        except TransportError as exc:
            raise EngineUnavailable("Elasticsearch is unreachable") from exc

    def health(self) -> dict:
        live = self._call(self.live_indices)
        if not live:
            raise EngineUnavailable(
                "the directory has not been built yet: run `provider-directory import`"
            )
        count = self._call(self.client.count, index=self.alias)["count"]
        locations = self._call(
            self.client.search,
            index=self.alias,
            size=0,
            aggs={"locations": {"nested": {"path": "locations"}}},
        )["aggregations"]["locations"]["doc_count"]
        return {
            "engine": self.name,
            "generation": live[0].removeprefix(f"{self.alias}-"),
            "providers": count,
            "locations": locations,
        }

    def plan_names(self) -> dict[str, str]:
        """Read from the live index's mapping metadata; kept for a short while between reads."""
        now = time.monotonic()
        if self._plan_names is None or now - self._plan_names[0] > PLAN_NAMES_TTL_SECONDS:
            mapping = self._call(self.client.indices.get_mapping, index=self.alias)
            meta = next(iter(mapping.body.values()))["mappings"].get("_meta", {})
            self._plan_names = (now, meta.get("plan_names", {}))
        return self._plan_names[1]

    def suggest(self, prefix_words: tuple[str, ...], limit: int) -> list[dict]:
        body = es_query.suggest_body(prefix_words, limit)
        body["source"] = body.pop("_source")
        response = self._call(self.client.search, index=self.alias, **body)
        found = []
        for hit in response["hits"]["hits"]:
            source = hit["_source"]
            locations = source.get("locations") or []
            codes = source.get("specialty_codes") or []
            found.append(
                {
                    "kind": "provider",
                    "npi": source["npi"],
                    "label": source["display_name"],
                    "sort_name": source["sort_name"],
                    "popularity": hit["sort"][1],
                    "exact": hit["sort"][0] >= 1,
                    "specialty": codes[0] if codes else None,
                    "city": locations[0].get("city") if locations else None,
                }
            )
        return found

    def directory_names(self) -> DirectoryNames:
        now = time.monotonic()
        cached = self._names
        if cached is not None and now - cached[0] < NAMES_CHECK_SECONDS:
            return cached[2]
        live = self._call(self.live_indices)
        if not live:
            raise EngineUnavailable(
                "the directory has not been built yet: run `provider-directory import`"
            )
        names = cached[2] if cached is not None and cached[1] == live[0] else None
        if names is None:
            names = self._read_names(live[0])
        self._names = (now, live[0], names)
        return names

    def _read_names(self, index: str) -> DirectoryNames:
        aggs = self._call(
            self.client.search, index=index, **es_query.directory_names_body(NAMES_SIZE)
        )["aggregations"]

        def counts(buckets) -> dict[str, int]:
            return {b["key"]: b["doc_count"] for b in buckets if b["key"]}

        offices: dict[tuple[str, str], int] = {}
        after = None
        while True:
            page = self._call(
                self.client.search, index=index, **es_query.offices_body(OFFICES_PAGE, after)
            )["aggregations"]["locations"]["offices"]
            for bucket in page["buckets"]:
                if bucket["key"]["name"]:
                    offices[bucket["key"]["name"], bucket["key"]["city"]] = bucket["doc_count"]
            after = page.get("after_key")
            if not page["buckets"] or after is None:
                break
        return DirectoryNames(
            groups={
                b["key"]: int(b["locations"]["value"])
                for b in aggs["groups"]["buckets"]
                if b["key"]
            },
            offices=offices,
            cities=counts(aggs["locations"]["cities"]["buckets"]),
            specialties=counts(aggs["specialties"]["buckets"]),
            languages=counts(aggs["languages"]["buckets"]),
        )

    def documents(self) -> Iterator[dict]:
        live = self._call(self.live_indices)
        if not live:
            raise EngineUnavailable("the directory has not been built yet")
        after = None
        while True:
            page = self._call(
                self.client.search,
                index=live[0],
                size=DOCUMENTS_PAGE,
                sort=[{"npi": "asc"}],
                search_after=after,
                source_excludes=es_query.SOURCE_EXCLUDES,
                track_total_hits=False,
            )["hits"]["hits"]
            if not page:
                return
            for hit in page:
                yield hit["_source"]
            after = page[-1]["sort"]

    def live_generation(self) -> str:
        live = self._call(self.live_indices)
        if not live:
            raise EngineUnavailable("the directory has not been built yet")
        return live[0]

    def get(self, npi: str) -> dict | None:
        try:
            found = self.client.get(
                index=self.alias, id=npi, source_excludes=es_query.SOURCE_EXCLUDES
            )
        except NotFoundError as exc:
            if exc.body and exc.body.get("found") is False:
                return None
            raise EngineUnavailable("the directory has not been built yet") from exc
        except TransportError as exc:
            raise EngineUnavailable("Elasticsearch is unreachable") from exc
        return found["_source"]

    def search(self, query: SearchQuery) -> SearchResult:
        body = es_query.search_body(query)
        body["source"] = body.pop("_source")
        response = self._call(self.client.search, index=self.alias, **body)
        hits = response["hits"]["hits"]
        more = len(hits) > query.limit
        results = []
        for hit in hits[: query.limit]:
            matched = None
            if query.has_location_filter:
                inner = hit["inner_hits"]["locations"]["hits"]["hits"]
                matched = sorted(h["_nested"]["offset"] for h in inner)
            results.append(Hit(doc=hit["_source"], matched_locations=matched, sort=hit["sort"]))
        facets = es_query.parse_facets(query, response.get("aggregations", {}))
        return SearchResult(
            total=response["hits"]["total"]["value"], hits=results, facets=facets, more=more
        )

    def close(self) -> None:
        self.client.close()
