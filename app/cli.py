"""`provider-directory` commands: import, reindex, indices, serve, openapi. Never interactive."""

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.config import street_geocoder_from
from app.engines import get_engine
from indexer.delta import expire_terminations, write_unverified
from indexer.import_jobs import DirectoryBusy
from indexer.layout import LayoutError, load_layout
from indexer.pipeline import DEFAULT_SOURCE, import_roster, rebuild, write_rejects
from indexer.sources.csv_roster import RosterFormatError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def sources_dir() -> Path:
    return Path(current_app.config["PD_DATA_DIR"]) / "sources"


def _locate():
    return street_geocoder_from(current_app.config)


def _report(path, summary, engine, rejects: Path | None) -> None:
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
@click.option(
    "--source",
    default=DEFAULT_SOURCE,
    show_default=True,
    help="Which source this roster replaces; the directory merges every source.",
)
@click.option(
    "--mode",
    type=click.Choice(["full", "delta"]),
    default="full",
    show_default=True,
    help="full: the roster is the whole source; delta: rows add, change or terminate records.",
)
@with_appcontext
def import_command(
    roster: Path, rejects: Path | None, layout_name: str | None, source: str, mode: str
) -> None:
    """Import a roster (.csv, .xlsx, Plan-Net .json/.ndjson) as the whole of its source.

    The directory of all sources is rebuilt beside the live one and swapped in when complete.
    """
    engine = get_engine()
    lock = current_app.extensions["pd_import_lock"]
    try:
        layout = load_layout(layout_name) if layout_name else None
        with lock.hold(f"cli-{os.getpid()}"), _progress_bar(roster) as progress:
            summary = import_roster(
                engine,
                roster,
                progress=progress,
                locate=_locate(),
                layout=layout,
                source=source,
                sources_dir=sources_dir(),
            )
    except (RosterFormatError, LayoutError, DirectoryBusy) as exc:
        raise click.ClickException(f"{roster}: {exc}") from exc
    _report(roster, summary, engine, rejects)
    if summary.changes:
        click.echo(
            "changes: " + ", ".join(f"{name} {count}" for name, count in summary.changes.items())
        )


@contextlib.contextmanager
def _progress_bar(roster: Path):
    """A progress bar over the roster's rows (counted up front for CSV), on standard error."""
    total = None
    if roster.suffix.lower() == ".csv":
        with open(roster, "rb") as fh:
            total = max(0, sum(1 for _ in fh) - 1)
    with click.progressbar(
        length=total, label="importing", file=sys.stderr, show_pos=True, item_show_func=None
    ) as bar:
        done = 0

        def progress(summary) -> None:
            nonlocal done
            bar.update(summary.rows_read - done)
            done = summary.rows_read

        yield progress
        if total is not None:
            bar.update(max(0, total - done))


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the live directory from every source's kept records (after a mapping change)."""
    if not any(sources_dir().glob("*.jsonl")):
        raise click.ClickException("nothing imported yet: run `provider-directory import` first")
    engine = get_engine()
    with current_app.extensions["pd_import_lock"].hold(f"cli-{os.getpid()}"):
        summary = rebuild(engine, sources_dir())
    click.echo(
        f"{summary.providers:,} providers at {summary.locations:,} locations; generation "
        f"{summary.generation} is live on {engine.name}"
    )


@click.command("expire")
@with_appcontext
def expire_command() -> None:
    """Take out of search the records whose termination date has come (run daily)."""
    with current_app.extensions["pd_import_lock"].hold(f"cli-{os.getpid()}"):
        changed = expire_terminations(get_engine(), sources_dir())
    click.echo(f"{changed} provider(s) updated for terminations due by today")


@click.command("unverified")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3650))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this CSV file instead of standard output.",
)
@with_appcontext
def unverified_command(days: int, out: Path | None) -> None:
    """Records not verified in the last DAYS days (No Surprises Act: every 90 days)."""
    stream = open(out, "w", newline="", encoding="utf-8") if out else sys.stdout  # noqa: SIM115
    try:
        count = write_unverified(stream, sources_dir(), days)
    finally:
        if out:
            stream.close()
    click.echo(f"{count} record(s) not verified in {days} days", err=True)


@click.command("assign")
@click.argument("members", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the assignments (one row per valid member) to this CSV file.",
)
@click.option(
    "--errors",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write refused rows (line, member_id, field, reason) here; default: beside --out.",
)
@with_appcontext
def assign_command(members: Path, out: Path, errors: Path | None) -> None:
    """Auto-assign PCPs to a member CSV, as POST /v1/assignments does."""
    from app.match.batch import MemberFileError, assign_all, read_member_file, write_results
    from app.match.rules import load_rules

    try:
        valid, lines, refused = read_member_file(members)
    except MemberFileError as exc:
        raise click.ClickException(f"{members}: {exc}") from exc
    rules = load_rules(current_app.config.get("PD_MATCH_RULES"))
    with click.progressbar(length=len(valid), label="assigning", file=sys.stderr) as bar:
        done = 0

        def progress(scored: int) -> None:
            nonlocal done
            bar.update(scored - done)
            done = scored

        results, cost = assign_all(get_engine(), rules, valid, lines, progress)
    errors = errors or out.with_name(f"{out.stem}-errors.csv")
    write_results(out, errors, results, refused)
    assigned = sum(1 for r in results if r["status"] == "assigned")
    click.echo(
        f"{members}: {len(valid) + len({e['line'] for e in refused}):,} rows, "
        f"{assigned:,} assigned, {len(results) - assigned:,} unassigned, "
        f"{len({e['line'] for e in refused}):,} refused; total cost {cost:,} "
        f"(rules {rules.version}); "
        f"assignments in {out}, refused rows in {errors}"
    )


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
        expire_command,
        unverified_command,
        assign_command,
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
    help="Provider Directory: import rosters, serve provider search, match members to PCPs.",
)
