"""Configuration from the environment; every variable is listed in the README."""

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.geocode import Locate

DEFAULTS = {
    "ELASTICSEARCH_URL": None,
    "PD_INDEX_PREFIX": "pd-",
    "PD_DATA_DIR": "var",
    "PD_ES_TIMEOUT": 10.0,
    # Read when an import creates a generation's index: one shard and no copies suit one node.
    "PD_ES_SHARDS": 1,
    "PD_ES_REPLICAS": 0,
    "PD_RATE_LIMIT": "120/minute",
    "PD_RATE_LIMIT_STORAGE": "local://",
    "PD_MAX_PAGE_SIZE": 50,
    "PD_BROKER_URL": None,
    "PD_REDIS_URL": None,
    "PD_VISIBILITY_TIMEOUT": 7200,
    "PD_QUEUE": "imports",
    "PD_REDELIVERY_CHECK_SECONDS": 30.0,
    "PD_API_KEYS": None,
    "PD_MAX_UPLOAD_BYTES": 200 * 1024 * 1024,
    "PD_GEOCODER": None,
    "PD_GEOCODER_USER_AGENT": "provider-directory",
    "PD_GEOCODER_DOMAIN": None,
    "PD_MATCH_RULES": None,
    # Where `provider-directory publish` and the daily job publish the bulk files;
    # None: <PD_DATA_DIR>/bulk.
    "PD_BULK_DIR": None,
    # How long a $export's files are kept after it finishes.
    "PD_EXPORT_RETENTION_SECONDS": 86400,
    # The longest request target (path and query string, as sent) answered; longer is a 414.
    # `provider-directory serve` lets gunicorn read request lines a little longer than this.
    "PD_MAX_URL_BYTES": 8000,
    # Level of the JSON log lines on standard error (DEBUG, INFO, WARNING, ERROR).
    "PD_LOG_LEVEL": "INFO",
}


def from_environment(environ=os.environ) -> dict:
    """Defaults overridden by environment variables of the same name."""
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = environ.get(key)
        if raw in (None, ""):
            continue
        config[key] = type(default)(raw) if isinstance(default, int | float) else raw
    return config


def street_geocoder_from(config) -> "Locate | None":
    """The optional street geocoder the configuration names (PD_GEOCODER…), or None."""
    from indexer.geocode import street_geocoder

    options = {"user_agent": config["PD_GEOCODER_USER_AGENT"]}
    if config["PD_GEOCODER_DOMAIN"]:
        options["domain"] = config["PD_GEOCODER_DOMAIN"]
    return street_geocoder(config["PD_GEOCODER"], **options)
