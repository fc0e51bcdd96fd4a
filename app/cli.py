"""`provider-directory` commands: import, reindex, publish, indices, serve, openapi. Never
interactive."""

import contextlib
import getpass
import json
import os
import shutil
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.engines import get_engine
from app.engines.base import EngineUnavailable
from app.fhir.bulk import publish
from app.fhir.live import live_view
from app.fhir.publish import summary
from app.fhir.view import build_view
from app.jobs import runner
from app.jobs.lock import DirectoryBusy, import_lock
from app.jobs.request import MODES, ImportRequest
from indexer.delta import write_unverified
from indexer.layout import LayoutError
from indexer.pipeline import DEFAULT_SOURCE, PLANNET_SUFFIXES, rebuild, write_rejects
from indexer.records import ImportSummary
from indexer.sources.csv_roster import RosterFormatError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def sources_dir() -> Path:
    return runner.sources_dir(current_app.config)


def _owner() -> str:
    return f"cli-{os.getpid()}"


def _who() -> str:
    try:
        return f"command line ({getpass.getuser()})"
    except (KeyError, OSError):  # no user name for this uid
        return "command line"


def _report(label: str, summary: ImportSummary, engine, rejects: Path | None) -> None:
    if summary.changes is not None:
        click.echo(
            f"{label}: {summary.rows_read:,} rows read, {summary.rows_imported:,} applied, "
            f"{summary.rows_rejected:,} rejected; {summary.providers:,} providers rewritten in "
            f"generation {summary.generation} on {engine.name}"
        )
    else:
        click.echo(
            f"{label}: {summary.rows_read:,} rows read, {summary.rows_imported:,} imported "
            f"({summary.rows_with_warnings:,} with warnings), {summary.rows_rejected:,} rejected"
            + (f", {summary.rows_skipped:,} skipped by the layout" if summary.rows_skipped else "")
            + f"; {summary.providers:,} providers at "
            f"{summary.locations:,} locations; generation {summary.generation} is live "
            f"on {engine.name}"
        )
    for error in summary.errors[:20]:
        click.echo(
            f"  line {error.line} ({error.severity}): {error.field}={error.value!r}: {error.reason}"
        )
    if len(summary.errors) > 20:
        click.echo(f"  … and {len(summary.errors) - 20} more (write them all with --rejects)")
    if rejects is not None:
        count = write_rejects(summary.errors, rejects)
        click.echo(f"row problems: {count} error(s) and warning(s) written to {rejects}")
    if summary.changes:
        click.echo(
            "changes: " + ", ".join(f"{name} {count}" for name, count in summary.changes.items())
        )


@click.command("import")
@click.argument("rosters", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every row problem (line, field, value, reason, severity) to this CSV file.",
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
    type=click.Choice(MODES),
    default="full",
    show_default=True,
    help="full: the roster is the whole source; delta: rows add, change or terminate records.",
)
@with_appcontext
def import_command(
    rosters: tuple[Path, ...],
    rejects: Path | None,
    layout_name: str | None,
    source: str,
    mode: str,
) -> None:
    """Import a roster as the whole of its source (or, with --mode delta, apply its changes).

    ROSTERS: one .csv or .xlsx roster, or FHIR Plan-Net: .json Bundles and .ndjson files, read
    together (a folder stands for its .ndjson and .json files). The directory of all sources is
    rebuilt beside the live one and swapped in when complete; POST /v1/imports runs the same
    import.
    """
    try:
        request = ImportRequest(
            files=tuple(str(r) for r in rosters),
            source=source,
            layout=layout_name,
            mode=mode,
            requested_by=_who(),
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    label = ", ".join(str(r) for r in rosters)
    engine = get_engine()
    try:
        with _progress(rosters) as progress:
            summary = runner.run_import(
                engine,
                request,
                config=current_app.config,
                lock=import_lock(),
                owner=_owner(),
                progress=progress,
            )
            progress.finish(summary)
    except (RosterFormatError, LayoutError, DirectoryBusy) as exc:
        raise click.ClickException(f"{label}: {exc}") from exc
    _report(label, summary, engine, rejects)


class _Bar:
    """Progress over a known number of rows (a CSV roster's lines), on standard error."""

    def __init__(self, bar):
        self.bar, self.done = bar, 0

    def __call__(self, summary: ImportSummary) -> None:
        self.bar.update(summary.rows_read - self.done)
        self.done = summary.rows_read

    def finish(self, summary: ImportSummary) -> None:
        self.bar.update(max(0, self.bar.length - self.done))


class _RunningCount:
    """Progress with no total known up front (Excel, Plan-Net): the rows read so far, on
    standard error — in place on a terminal, a line every few seconds otherwise."""

    EVERY_SECONDS = 5.0

    def __init__(self):
        self.stream = sys.stderr
        self.in_place = self.stream.isatty()
        self.shown = 0.0

    def _show(self, rows: int, final: bool = False) -> None:
        text = f"importing: {rows:,} rows read"
        if self.in_place:
            click.echo(f"\r{text}", file=self.stream, nl=final)
        elif final or time.monotonic() - self.shown >= self.EVERY_SECONDS:
            self.shown = time.monotonic()
            click.echo(text, file=self.stream)

    def __call__(self, summary: ImportSummary) -> None:
        self._show(summary.rows_read)

    def finish(self, summary: ImportSummary) -> None:
        self._show(summary.rows_read, final=True)


@contextlib.contextmanager
def _progress(rosters: tuple[Path, ...]):
    """A bar for a CSV roster, whose rows are counted up front; a running count otherwise."""
    (first, *others) = rosters
    if others or first.is_dir() or first.suffix.lower() in (".xlsx", *PLANNET_SUFFIXES):
        yield _RunningCount()
        return
    with open(first, "rb") as fh:
        total = max(0, sum(1 for _ in fh) - 1)
    with click.progressbar(
        length=total, label="importing", file=sys.stderr, show_pos=True, item_show_func=None
    ) as bar:
        yield _Bar(bar)


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the live directory from every source's kept records (after a mapping change)."""
    if not any(sources_dir().glob("*.jsonl")):
        raise click.ClickException("nothing imported yet: run `provider-directory import` first")
    engine = get_engine()
    with import_lock().hold(_owner()):
        summary = rebuild(engine, sources_dir())
        build_view(engine, current_app.config["PD_DATA_DIR"])
    click.echo(
        f"{summary.providers:,} providers at {summary.locations:,} locations; generation "
        f"{summary.generation} is live on {engine.name}"
    )


@click.command("expire")
@with_appcontext
def expire_command() -> None:
    """Take out of search the records whose termination date has come (run daily)."""
    changed = runner.run_expiry(
        get_engine(), config=current_app.config, lock=import_lock(), owner=_owner()
    )
    click.echo(f"{changed} provider(s) updated for terminations due by today")


@click.command("publish")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def publish_command(target: Path) -> None:
    """Write the directory's FHIR Plan-Net bulk files into TARGET (one NDJSON file per resource
    type, a gzip copy of each, manifest.json) as a new set under TARGET/sets, and point
    TARGET/current at it once complete; the previous set is kept, older ones removed. The
    daily job does the same into PD_BULK_DIR, which /fhir/bulk/ serves."""
    try:
        view = live_view()
    except EngineUnavailable as exc:
        raise click.ClickException(f"no directory to publish: {exc}") from exc
    folder, manifest = publish(view, target)
    click.echo(summary(folder, manifest))


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
@with_appcontext
def openapi_command() -> None:
    """Print the OpenAPI document of the HTTP API."""
    from app.openapi import served_document

    click.echo(json.dumps(served_document(current_app), indent=2))


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
        publish_command,
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
