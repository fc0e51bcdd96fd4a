"""Publishing the live directory's bulk files into the configured folder (PD_BULK_DIR), as the
daily job does."""

from collections.abc import Mapping
from pathlib import Path

from flask import current_app

from app.fhir.bulk import publish
from app.fhir.export import exports_dir, remove_expired, retention_seconds
from app.fhir.live import live_view
from app.jobs.store import export_store


def bulk_dir(config: Mapping) -> Path:
    """PD_BULK_DIR, or <PD_DATA_DIR>/bulk."""
    return Path(config["PD_BULK_DIR"] or Path(config["PD_DATA_DIR"]) / "bulk")


def summary(folder: Path, manifest: dict) -> str:
    """One line about a written set: where, as of when, how many of each type."""
    counts = ", ".join(f"{item['type']} {item['count']:,}" for item in manifest["output"])
    return f"{folder}: transactionTime {manifest['transactionTime']}; {counts or 'no resources'}"


def publish_live() -> str:
    """Publish the live directory into PD_BULK_DIR and remove expired exports (daily)."""
    folder, manifest = publish(live_view(), bulk_dir(current_app.config))
    remove_expired(export_store(), exports_dir(), retention_seconds())
    return summary(folder, manifest)
