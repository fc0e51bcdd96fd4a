"""`provider-directory` commands: import, reindex, indices, serve, openapi. Never interactive."""

import json
import os
import shutil
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.engines import get_engine
from indexer.geocode import street_geocoder
from indexer.layout import LayoutError, load_layout
from indexer.pipeline import import_roster, write_rejects
from indexer.sources.csv_roster import RosterFormatError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _sources_dir() -> Path:
    return Path(current_app.config["PD_DATA_DIR"]) / "sources"


def _run_import(
    path: Path, rejects: Path | None, keep_source: bool, layout_name: str | None = None
) -> None:
    engine = get_engine()

    def progress(summary):
        click.echo(
            f"  {summary.rows_read:>9,} rows read, {summary.rows_rejected:,} rejected", err=True
        )

    config = current_app.config
    options = {"user_agent": config["PD_GEOCODER_USER_AGENT"]}
    if config["PD_GEOCODER_DOMAIN"]:
        options["domain"] = config["PD_GEOCODER_DOMAIN"]
    locate = street_geocoder(config["PD_GEOCODER"], **options)
    try:
        layout = load_layout(layout_name) if layout_name else None
        summary = import_roster(engine, path, progress=progress, locate=locate, layout=layout)
    except (RosterFormatError, LayoutError) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    click.echo(
        f"{path}: {summary.rows_read:,} rows read, {summary.rows_imported:,} imported, "
        f"{summary.rows_rejected:,} rejected; {summary.providers:,} providers at "
        f"{summary.locations:,} locations; generation {summary.generation} is live "
        f"on {engine.name}"
    )
    for error in summary.errors[:20]:
        click.echo(f"  line {error.line}: {error.field}={error.value!r}: {error.reason}")
    if len(summary.errors) > 20:
        click.echo(f"  … and {len(summary.errors) - 20} more (write them all with --rejects)")
    if rejects is not None:
        count = write_rejects(summary.errors, rejects)
        click.echo(f"rejected rows: {count} error(s) written to {rejects}")
    if keep_source:
        target = _sources_dir() / "roster.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.resolve() != path.resolve():
            tmp = target.with_suffix(".csv.tmp")
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)


@click.command("import")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every rejected row (line, field, value, reason) to this CSV file.",
)
@click.option(
    "--layout",
    "layout_name",
    help="A shipped roster layout (e.g. pacific-crest, sunrise-medi-cal) or a layout JSON file.",
)
@with_appcontext
def import_command(roster: Path, rejects: Path | None, layout_name: str | None) -> None:
    """Import a roster CSV as the new directory; the old one serves until it is complete."""
    _run_import(roster, rejects, keep_source=layout_name is None, layout_name=layout_name)


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the live directory from the last imported roster (after a mapping change)."""
    source = _sources_dir() / "roster.csv"
    if not source.exists():
        raise click.ClickException("nothing imported yet: run `provider-directory import` first")
    _run_import(source, None, keep_source=False)


@click.command("indices")
@with_appcontext
def indices_command() -> None:
    """List directory generations and which one is live."""
    engine = get_engine()
    for generation in engine.generations():
        marker = "live" if generation.get("live") else ""
        click.echo(f"{engine.name}\t{generation['name']}\t{marker}".rstrip())


@click.command("openapi")
def openapi_command() -> None:
    """Print the OpenAPI document of the HTTP API."""
    from app import OPENAPI_FILE

    click.echo(json.dumps(json.loads(OPENAPI_FILE.read_text(encoding="utf-8")), indent=2))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the API and the page with gunicorn."""
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
    args = [
        gunicorn,
        "--chdir",
        str(PROJECT_ROOT),
        "-w",
        str(workers),
        "-b",
        f"{host}:{port}",
        "--access-logfile",
        "-",
        "wsgi:app",
    ]
    os.execv(gunicorn, args)


def register(app: Flask) -> None:
    for command in (
        import_command,
        reindex_command,
        indices_command,
        openapi_command,
        serve_command,
    ):
        app.cli.add_command(command)


def _create_app():
    from app import create_app

    return create_app()


main = FlaskGroup(
    name="provider-directory",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    help="Provider Directory: import rosters and serve provider search.",
)
