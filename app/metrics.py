"""Prometheus metrics at GET /metrics (prometheus-flask-exporter): request latency by endpoint and
engine, error answers by status, background jobs by kind and state.

Under gunicorn every worker writes its counts to PROMETHEUS_MULTIPROC_DIR (set and emptied by
`provider-directory serve`), and a scrape of any worker adds up all of them. Jobs are read from
the job store at scrape time, since they run in other processes (Celery workers, threads).

/metrics needs a staff key of the role `monitoring` (or `admin`): it tells request rates, error
rates and job counts, which are not public. It is not rate-limited: one scrape every few seconds
from a known caller is not the load the public limit guards against.
"""

import os

from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_flask_exporter import PrometheusMetrics

from app.auth import require_role
from app.jobs.store import JobStore

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
PATH = "/metrics"
# Job kind -> where app.jobs.executors keeps its store.
JOB_STORES = {
    "import": "pd_job_store",
    "assignment": "pd_assignment_store",
    "export": "pd_export_store",
}


class JobsCollector:
    """pd_jobs{kind, state}: how many jobs of each kind are in each state, counted from the job
    store at each scrape."""

    def __init__(self, stores: dict[str, JobStore]):
        self.stores = stores

    def collect(self):
        family = GaugeMetricFamily(
            "pd_jobs", "Background jobs by kind and state", labels=("kind", "state")
        )
        for kind, store in self.stores.items():
            for state, count in store.count_by_state().items():
                family.add_metric((kind, state), count)
        yield family


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR))


def init_app(app: Flask) -> None:
    """Count every request of this app and serve /metrics (after the engine and the job stores)."""
    engine = app.extensions["engine"].name
    # One registry per app: a second app in the same process (tests) counts on its own.
    registry = CollectorRegistry()
    exporter = PrometheusMetrics(
        app,
        path=None,
        registry=registry,
        group_by="endpoint",
        default_labels={"engine": engine},
    )
    errors = Counter(
        "pd_http_errors_total",
        "Error answers (status 400 and above) by status and endpoint",
        ("status", "endpoint", "engine"),
        registry=registry,
    )
    jobs = JobsCollector({kind: app.extensions[key] for kind, key in JOB_STORES.items()})
    registry.register(jobs)

    @app.after_request
    def count_error(response: Response) -> Response:
        if response.status_code >= 400:
            errors.labels(str(response.status_code), str(request.endpoint), engine).inc()
        return response

    @app.get(PATH)
    @exporter.do_not_track()
    @require_role("monitoring", action="metrics.read", every_outcome=False)
    def metrics():
        return Response(generate_latest(_scraped(registry, jobs)), content_type=CONTENT_TYPE_LATEST)


def _scraped(registry: CollectorRegistry, jobs: JobsCollector) -> CollectorRegistry:
    """This process's registry, or under gunicorn every worker's counts and the jobs."""
    if not multiprocess():
        return registry
    combined = CollectorRegistry()
    MultiProcessCollector(combined)
    combined.register(jobs)
    return combined
