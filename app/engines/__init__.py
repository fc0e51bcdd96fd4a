"""Engine selection: Elasticsearch when ELASTICSEARCH_URL is set, the embedded engine otherwise."""

from flask import Flask, current_app

from app.config import DEFAULTS
from app.engines.base import Engine


def create_engine(config: dict) -> Engine:
    if config.get("ELASTICSEARCH_URL"):
        from app.engines.elastic import ElasticEngine, connect

        client = connect(config["ELASTICSEARCH_URL"], timeout=float(config["PD_ES_TIMEOUT"]))
        return ElasticEngine(
            client,
            prefix=config["PD_INDEX_PREFIX"],
            shards=int(config.get("PD_ES_SHARDS", DEFAULTS["PD_ES_SHARDS"])),
            replicas=int(config.get("PD_ES_REPLICAS", DEFAULTS["PD_ES_REPLICAS"])),
        )
    from app.engines.embedded import EmbeddedEngine

    return EmbeddedEngine(config["PD_DATA_DIR"])


def init_app(app: Flask) -> None:
    """One engine (and so one client) per process, kept in app.extensions."""
    app.extensions["engine"] = create_engine(app.config)


def get_engine() -> Engine:
    return current_app.extensions["engine"]
