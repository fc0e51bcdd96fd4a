"""`provider-directory` commands: import, reindex, publish, indices, serve, openapi, the audit
log, new staff keys, doctor. Never interactive; the commands that change or read the directory's
data are recorded in the audit log."""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.audit.log import Filter, parse_moment
from app.audit.record import audit_log, audited_command, command_user, note
from app.auth import ROLES, new_key
from app.doctor import DEFAULT_MIN_FREE_GIB, DEFAULT_TIMEOUT_SECONDS, run_checks
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
from indexer.progress import FHIR_VIEW, INDEXING, PUBLISHING, READING
from indexer.records import ImportSummary
from indexer.sources.csv_roster import RosterFormatError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def sources_dir() -> Path:
    return runner.sources_dir(current_app.config)


def _owner() -> str:
    return f"cli-{os.getpid()}"


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
@audited_command("import")
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
            requested_by=command_user(),
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    label = ", ".join(str(r) for r in rosters)
    note(files=list(request.files), source=source, layout=layout_name, mode=mode)
    engine = get_engine()
    try:
        progress = _progress(rosters)
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
    note(
        rows_read=summary.rows_read,
        rows_imported=summary.rows_imported,
        rows_with_warnings=summary.rows_with_warnings,
        rows_rejected=summary.rows_rejected,
        rows_skipped=summary.rows_skipped,
        providers=summary.providers,
        generation=summary.generation,
        changes=summary.changes,
    )
    _report(label, summary, engine, rejects)


def _of(done: int, total: int | None, what: str) -> str:
    """`450,000 of 1,000,000 rows (45%)`, or `450,000 rows` with no total known."""
    if total is None:
        return f"{done:,} {what}"
    share = f" ({100 * done // total}%)" if total else ""
    return f"{done:,} of {total:,} {what}{share}"


def describe_progress(summary: ImportSummary, rows_total: int | None = None) -> str:
    """One line saying how far an import has got: its phase and that phase's counts
    (indexer.progress), with a percentage where the total is known."""
    s = summary
    if s.phase == READING:
        # A CSV roster's line count includes the rows a layout skips.
        read = _of(s.rows_read + s.rows_skipped, rows_total, "rows read")
        return f"reading: {read}, {s.rows_validated:,} validated, {s.rows_rejected:,} rejected"
    if s.phase == INDEXING:
        return (
            f"indexing: {_of(s.records_indexed, s.records_to_index, 'records')}, "
            f"{s.providers_indexed:,} providers written, {s.rows_imported:,} rows imported"
        )
    if s.phase == PUBLISHING:
        return f"publishing the new generation of {s.providers_indexed:,} providers"
    if s.phase == FHIR_VIEW:
        return "building the FHIR view"
    return s.phase


class _ImportProgress:
    """An import's progress on standard error: in place on a terminal, otherwise a line at each
    change of phase and every few seconds. A CSV roster's rows are counted up front, so its
    reading shows a percentage."""

    EVERY_SECONDS = 5.0

    def __init__(self, rows_total: int | None):
        self.rows_total = rows_total
        self.stream = sys.stderr
        self.in_place = self.stream.isatty()
        self.shown_at = 0.0
        self.phase: str | None = None
        self.width = 0

    def __call__(self, summary: ImportSummary, final: bool = False) -> None:
        text = f"importing — {describe_progress(summary, self.rows_total)}"
        changed, self.phase = summary.phase != self.phase, summary.phase
        if self.in_place:
            # Blanks wipe what a longer line before left on the terminal.
            click.echo(f"\r{text.ljust(self.width)}", file=self.stream, nl=final)
            self.width = len(text)
        elif final or changed or time.monotonic() - self.shown_at >= self.EVERY_SECONDS:
            self.shown_at = time.monotonic()
            click.echo(text, file=self.stream)

    def finish(self, summary: ImportSummary) -> None:
        self(summary, final=True)


def _progress(rosters: tuple[Path, ...]) -> _ImportProgress:
    """Progress for these files: a CSV roster's data lines are counted first, for a percentage
    (Excel and Plan-Net files show running counts)."""
    (first, *others) = rosters
    if others or first.is_dir() or first.suffix.lower() in (".xlsx", *PLANNET_SUFFIXES):
        return _ImportProgress(None)
    with open(first, "rb") as fh:
        return _ImportProgress(max(0, sum(1 for _ in fh) - 1))


@click.command("reindex")
@with_appcontext
@audited_command("reindex")
def reindex_command() -> None:
    """Rebuild the live directory from every source's kept records (after a mapping change)."""
    if not any(sources_dir().glob("*.jsonl")):
        raise click.ClickException("nothing imported yet: run `provider-directory import` first")
    engine = get_engine()
    with import_lock().hold(_owner()):
        summary = rebuild(engine, sources_dir())
        build_view(engine, current_app.config["PD_DATA_DIR"])
    note(providers=summary.providers, locations=summary.locations, generation=summary.generation)
    click.echo(
        f"{summary.providers:,} providers at {summary.locations:,} locations; generation "
        f"{summary.generation} is live on {engine.name}"
    )


@click.command("expire")
@with_appcontext
@audited_command("expire")
def expire_command() -> None:
    """Take out of search the records whose termination date has come (run daily)."""
    changed = runner.run_expiry(
        get_engine(), config=current_app.config, lock=import_lock(), owner=_owner()
    )
    note(providers=changed)
    click.echo(f"{changed} provider(s) updated for terminations due by today")


@click.command("publish")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
@audited_command("publish")
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
    note(
        folder=str(folder),
        resources={item["type"]: item["count"] for item in manifest["output"]},
    )
    click.echo(summary(folder, manifest))


@click.command("unverified")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3650))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this CSV file instead of standard output.",
)
@with_appcontext
@audited_command("report.unverified")
def unverified_command(days: int, out: Path | None) -> None:
    """Records not verified in the last DAYS days (No Surprises Act: every 90 days)."""
    stream = open(out, "w", newline="", encoding="utf-8") if out else sys.stdout  # noqa: SIM115
    try:
        count = write_unverified(stream, sources_dir(), days)
    finally:
        if out:
            stream.close()
    note(days=days, records=count, out=str(out) if out else None)
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
@audited_command("assignment")
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
    refused_rows = len({e["line"] for e in refused})
    # Counts only: the member file's rows stay out of the audit log.
    note(
        file=members.name,
        rules_version=rules.version,
        members_assigned=assigned,
        members_unassigned=len(results) - assigned,
        rows_rejected=refused_rows,
        total_cost=cost,
    )
    click.echo(
        f"{members}: {len(valid) + len({e['line'] for e in refused}):,} rows, "
        f"{assigned:,} assigned, {len(results) - assigned:,} unassigned, "
        f"{len({e['line'] for e in refused}):,} refused; total cost {cost:,} "
        f"(rules {rules.version}); "
        f"assignments in {out}, refused rows in {errors}"
    )


@click.command("audit")
@click.option("--since", help="From this UTC date or time (ISO 8601), inclusive.")
@click.option("--until", help="Up to this UTC date or time (ISO 8601), exclusive.")
@click.option("--action", help="An action (import.submit) or a family of them (import).")
@click.option("--actor", help="A key's name, or 'command line (<user>)'.")
@click.option("--before", type=click.IntRange(1), help="Entries older than this id (next page).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@with_appcontext
@audited_command("audit.read")
def audit_command(
    since: str | None,
    until: str | None,
    action: str | None,
    actor: str | None,
    before: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """Staff actions from the audit log, newest first: who, what, when (UTC), how it ended."""
    moments = {}
    for name, value in (("since", since), ("until", until)):
        try:
            moments[name] = parse_moment(value) if value else None
        except ValueError as exc:
            raise click.BadParameter("an ISO 8601 date or time", param_hint=f"--{name}") from exc
    where = Filter(action=action, actor=actor, before=before, **moments)
    entries = audit_log().read(where, limit)
    for entry in entries:
        if as_json:
            click.echo(json.dumps(entry.as_dict(), sort_keys=True))
            continue
        who = f"{entry.actor} ({entry.role})" if entry.role else entry.actor
        outcome = f"{entry.outcome} {entry.status}" if entry.status else entry.outcome
        details = json.dumps(entry.details, sort_keys=True)
        fields = (str(entry.id), entry.at, who, entry.door, entry.action, outcome)
        click.echo("\t".join((*fields, entry.job_id or "-", details)))
    note(entries=len(entries))


@click.command("new-key")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def new_key_command(name: str, role: str) -> None:
    """Make a random staff key for NAME with ROLE. Prints the key, once, and the PD_API_KEYS
    entry to add, which holds only the key's SHA-256: the server never needs the key itself."""
    try:
        key, entry = new_key(name, role)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from exc
    click.echo(f"key: {key}")
    click.echo(f"PD_API_KEYS entry: {entry}")
    click.echo("The key is shown only this once; give it to its holder.", err=True)


@click.command("doctor")
@click.option(
    "--timeout",
    default=DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    type=click.FloatRange(0.1, 60),
    help="Seconds to wait for each server (Elasticsearch, Redis, the workers' answers).",
)
@click.option(
    "--min-free-gib",
    default=DEFAULT_MIN_FREE_GIB,
    show_default=True,
    type=click.FloatRange(0),
    help="Warn when the data folder's disk has less free space than this.",
)
def doctor_command(timeout: float, min_free_gib: float) -> None:
    """Check the configuration, the data folder, the engine and its live generation, Redis, the
    Celery workers and free disk, one line each; exit 1 when any check fails."""
    checks = run_checks(timeout=timeout, min_free_gib=min_free_gib)
    for check in checks:
        click.echo(check.line())
    if any(check.status == "FAIL" for check in checks):
        raise SystemExit(1)


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
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="threads per worker (above 1, gunicorn's threaded workers)",
)
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the API and the page with gunicorn (settings in app/gunicorn_config.py)."""
    from app import config
    from app.url_limit import request_line_limit

    settings = config.from_environment()
    try:
        request_line_limit(int(settings["PD_MAX_URL_BYTES"]))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    _fresh_metrics_dir(Path(settings["PD_DATA_DIR"]))
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
    args = [
        gunicorn,
        "--chdir",
        str(PROJECT_ROOT),
        "-c",
        "python:app.gunicorn_config",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"{host}:{port}",
        "wsgi:app",
    ]
    # Gunicorn reads its settings module before it moves to --chdir: from there too.
    os.chdir(PROJECT_ROOT)
    os.execv(gunicorn, args)


def _fresh_metrics_dir(data_dir: Path) -> None:
    """Where the workers keep their metrics (PROMETHEUS_MULTIPROC_DIR, by default
    <PD_DATA_DIR>/metrics), emptied of an earlier run's files, whose counts would add up with
    this one's."""
    from app.metrics import MULTIPROCESS_DIR

    folder = Path(os.environ.get(MULTIPROCESS_DIR) or (PROJECT_ROOT / data_dir / "metrics"))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    os.environ[MULTIPROCESS_DIR] = str(folder)


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
        audit_command,
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
# Built in, so that they work when the app cannot be made (a bad PD_API_KEYS, say).
main.add_command(new_key_command)
main.add_command(doctor_command)
