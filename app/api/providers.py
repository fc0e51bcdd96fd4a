"""GET /v1/providers, /v1/providers/<npi>, /v1/health."""

from dataclasses import replace

from flask import Blueprint, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from app.api.args import load_search_args
from app.engines import get_engine
from app.errors import APIError
from app.search import spelling
from app.search.relax import relaxations
from app.search.results import present_provider, present_search
from app.vocab.npi import NPI_PATTERN
from app.web.interpretation import present_did_you_mean, present_reading, present_relaxations

bp = Blueprint("providers", __name__, url_prefix="/v1")


@bp.get("/providers")
def search_providers():
    engine = get_engine()
    plans = engine.plan_names() if request.args.get("q") else {}
    query = load_search_args(request.args, current_app.config["PD_MAX_PAGE_SIZE"], plans)
    result = engine.search(query)
    plan_names = plans or (engine.plan_names() if result.facets.get("plan") else {})
    body = present_search(result, query, plan_names)
    body["interpretation"] = present_reading(query.reading)
    # Nobody found is never a dead end: the nearest searches that find someone.
    body["relaxations"] = (
        present_relaxations(relaxations(engine, query)) if not result.total else []
    )
    found = spelling.offer(request.args.get("q", ""), query, result.hits, _counter(engine))
    body["did_you_mean"] = present_did_you_mean(found)
    return jsonify(body)


def _counter(engine):
    """How many a search with another q (and the same other parameters) finds."""

    def count(q: str) -> int:
        args = MultiDict(request.args)
        args.setlist("q", [q])
        args.pop("cursor", None)
        query = load_search_args(args, current_app.config["PD_MAX_PAGE_SIZE"])
        return engine.search(replace(query, limit=1, facets=())).total

    return count


@bp.get("/providers/<npi>")
def get_provider(npi: str):
    if not NPI_PATTERN.match(npi):
        raise APIError(400, "invalid_parameter", "an NPI is 10 digits", {"npi": ["10 digits"]})
    doc = get_engine().get(npi)
    if doc is None:
        raise APIError(404, "not_found", f"no provider with NPI {npi} in the directory")
    return jsonify(present_provider(doc))


@bp.get("/health")
def health():
    return jsonify({"status": "ok", **get_engine().health()})
