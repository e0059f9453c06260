"""The ``intake`` command."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from intake.errors import IntakeError
from intake.names import display_name
from intake.settings import REPO_ROOT, Settings, get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="门诊慢特病 application intake and pre-screening.")
SAMPLES_DIR = REPO_ROOT / "fixtures" / "samples"


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


def _prescreener(registry: Path | None):  # type: ignore[no-untyped-def]
    from intake.prescreen import Prescreener

    return Prescreener(get_settings(), registry_path=registry)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)


def _local_context(registry: Path | None):  # type: ignore[no-untyped-def]
    from intake.local import local_context

    return local_context(_prescreener(registry))


@app.command()
def prescreen(
    directory: Annotated[Path, typer.Argument(help="Folder with application.json and the document files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report (the API contract).")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Assess as if submitted on this date (YYYY-MM-DD); default: the folder's "
                                     "application_date."),
    ] = None,
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Hospital registry CSV (name,aliases,grade,region).")
    ] = None,
) -> None:
    """Pre-screen one application folder, store it as an upload would be (channel `cli`) and print
    its report: the same report the API serves for the same files."""
    from intake.local import prescreen_folder
    from intake.render import render_report

    when = _parse_date(as_of)
    try:
        result = prescreen_folder(_local_context(registry), directory, as_of=when)
    except IntakeError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    shown = result.cli_report()
    _print_skipped(shown["skipped"])
    if as_json:
        sys.stdout.write(json.dumps(shown, ensure_ascii=False, indent=2) + "\n")
    else:
        render_report(result.model, Console())


def _print_skipped(skipped: list[dict[str, str]], folder: str = "") -> None:
    """One line on stderr for each entry of a folder that was not read as a document, and why."""
    for entry in skipped:
        typer.echo(f"skipped {folder}{entry['file']}: {entry['reason']}", err=True)


@app.command()
def demo(
    samples: Annotated[Path, typer.Option(help="Folder of sample application folders.")] = SAMPLES_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON reports, one per line.")] = False,
) -> None:
    """Pre-screen every bundled sample application as of its own date, print the reports and store
    them (`intake serve` then shows them to reviewers)."""
    from intake.local import prescreen_folder
    from intake.render import render_report

    folders = sorted(p for p in samples.iterdir() if (p / "application.json").is_file()) if samples.is_dir() else []
    if not folders:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] no sample applications under "
                                                   f"{escape(str(samples))}", highlight=False)
        raise typer.Exit(2)
    console = Console()
    ctx = _local_context(None)
    summary = Table(title="sample applications")
    for column in ("case", "verdict", "expected", "problems", "documents"):
        summary.add_column(column)
    agree = 0
    for folder in folders:
        try:
            result = prescreen_folder(ctx, folder)
        except IntakeError as exc:
            console.print(Text(f"{display_name(folder.name)}: {exc}", style="bold red"))
            continue
        report = result.model
        shown = result.cli_report()
        _print_skipped(shown["skipped"], f"{display_name(folder.name)}/")
        if as_json:
            sys.stdout.write(json.dumps(shown, ensure_ascii=False) + "\n")
        else:
            render_report(report, console)
        truth_path = folder / "truth.json"
        expected = json.loads(truth_path.read_text(encoding="utf-8"))["verdict"] if truth_path.is_file() else "—"
        agree += expected == report.verdict
        summary.add_row(  # Text, not markup: problem codes hold file names, which may hold "[...]"
            Text(report.case_id), str(report.verdict), Text(expected),
            Text("\n".join(report.problems) or "—"), str(len(report.documents)),
        )
    if not as_json:
        console.print(summary)
        console.print(
            f"{agree}/{len(folders)} verdicts agree with the samples' truth; stored as applications of channel "
            f"`cli` in {get_settings().db.url} (`intake serve` shows them to reviewers)"
        )


def _settings_checked_at_start() -> Settings:
    """The settings and the files they name, checked before a long-running command starts anything:
    on a wrong one, ``error: <what to fix>`` on stderr and exit code 2."""
    from intake.errors import ConfigurationError
    from intake.startup import startup_settings

    try:
        return startup_settings()
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="HTTP worker processes.")] = 1,
) -> None:
    """Run the HTTP API (apps, reviewers, operators). OpenAPI docs at /docs."""
    _settings_checked_at_start()
    import uvicorn

    from intake.serving import fix_keepalive_nodelay
    from intake.startup import uvicorn_log_config

    fix_keepalive_nodelay()
    uvicorn.run("api.app:app", host=host, port=port, workers=workers, log_level="info",
                log_config=uvicorn_log_config("info"))


@app.command()
def worker(
    queues: Annotated[
        list[str] | None, typer.Option("--queue", "-q", help="Queues to work on (default: all).")
    ] = None,
    burst: Annotated[bool, typer.Option(help="Exit when the queues are empty.")] = False,
    max_jobs: Annotated[int | None, typer.Option(help="Exit after this many jobs.")] = None,
    supervise: Annotated[
        bool, typer.Option(help="Recycle the worker process every INTAKE_QUEUE__WORKER_MAX_JOBS jobs.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", help="Log warnings and errors only (default: INFO).")] = False,
) -> None:
    """Run a queue worker. Start as many as you like, on as many machines, against one Redis,
    one database and one shared file store."""
    from intake.startup import configure_logging

    level = "WARNING" if quiet else "INFO"
    configure_logging(level)
    # Before Redis is reached or a model loaded: a wrong setting is named at once, not in a job.
    settings = _settings_checked_at_start()
    from intake.worker import run_worker
    from intake.worker import supervise as run_supervised

    if supervise and not burst and max_jobs is None:
        args = [arg for q in queues or [] for arg in ("--queue", q)]
        args += ["--max-jobs", str(settings.queue.worker_max_jobs)] + (["--quiet"] if quiet else [])
        raise typer.Exit(run_supervised(args))
    run_worker(settings, queue_names=queues, burst=burst, max_jobs=max_jobs, logging_level=level)


@app.command()
def reconcile(
    loop: Annotated[bool, typer.Option(help="Keep reconciling every --interval seconds.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between rounds with --loop.")] = 30.0,
    quiet: Annotated[bool, typer.Option("--quiet", help="Log warnings and errors only (default: INFO).")] = False,
) -> None:
    """Enqueue what the database says must run: documents Redis never got or lost, documents whose
    worker died, finished applications without a verdict, callbacks due."""
    import time

    from intake.startup import configure_logging

    configure_logging("WARNING" if quiet else "INFO")
    settings = _settings_checked_at_start()
    from intake.db import session_factory
    from intake.queue import Queues
    from intake.reconcile import reconcile as run_reconcile

    log = logging.getLogger("intake.reconcile")
    sessions, queues = session_factory(settings.db.url), Queues(settings)
    while True:
        result = run_reconcile(sessions, queues, settings)
        if result.redis_down:
            if loop:  # intake.reconcile has said why
                log.warning("will try again in %g s", interval)
        elif result.total or result.dead:
            log.info(
                "enqueued %d received, re-queued %d lost and %d stuck documents, %d assessments, %d callbacks; "
                "%d dead letters",
                len(result.enqueued_received), len(result.requeued_lost), len(result.requeued_stuck),
                len(result.assessments), len(result.callbacks), len(result.dead),
            )
        else:
            log.info("nothing to enqueue")
        if not loop:
            break
        time.sleep(interval)


channel_app = typer.Typer(help="API keys of the calling apps, reviewers and operators.", no_args_is_help=True)
app.add_typer(channel_app, name="channel")


def _channel_error(message: object) -> typer.Exit:
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(message))}", highlight=False)
    return typer.Exit(2)


@channel_app.command("add")
def channel_add(
    channel_id: Annotated[str, typer.Argument(help="Short id, e.g. longjiang-app.")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 龙江医保 app.")] = "",
    role: Annotated[str, typer.Option(help="app, reviewer or operator.")] = "app",
) -> None:
    """Create a channel and print its API key and callback secret (shown once; only a hash is kept)."""
    from sqlalchemy.exc import IntegrityError

    from intake.channels import add_channel
    from intake.db import session_factory

    try:
        with session_factory(get_settings().db.url).begin() as session:
            issued = add_channel(session, channel_id=channel_id, name=name, role=role, actor="cli")
    except IntakeError as exc:
        raise _channel_error(exc) from None
    except IntegrityError:  # added by someone else between our check and our commit
        raise _channel_error(f"a channel {channel_id!r} exists already") from None
    sys.stdout.write(json.dumps(issued.shown(), ensure_ascii=False) + "\n")


@channel_app.command("list")
def channel_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
) -> None:
    """List the channels: id, name, role, when created and when revoked (never keys or secrets)."""
    from intake.channels import describe, list_channels
    from intake.db import session_factory

    with session_factory(get_settings().db.url)() as session:
        channels = [describe(channel) for channel in list_channels(session)]
    if as_json:
        sys.stdout.write(json.dumps(channels, ensure_ascii=False, indent=2) + "\n")
        return
    def minute(iso: str | None) -> str:  # "2026-11-30T09:56:33+00:00" -> "2026-11-30 09:56"
        return iso[:16].replace("T", " ") if iso else "—"

    table = Table(title="channels (times in UTC)")
    for column in ("id", "name", "role", "created", "revoked"):
        table.add_column(column, no_wrap=column != "name")  # ids and times readable whole
    for channel in channels:
        table.add_row(channel["id"], channel["name"], channel["role"], minute(channel["created_at"]),
                      minute(channel["revoked_at"]))
    Console().print(table)


@channel_app.command("revoke")
def channel_revoke(channel_id: Annotated[str, typer.Argument(help="The channel whose key stops working.")]) -> None:
    """Revoke a channel's API key for good (within seconds on every API process); its applications stay."""
    from intake.channels import describe, revoke_channel
    from intake.db import session_factory

    try:
        with session_factory(get_settings().db.url).begin() as session:
            shown = describe(revoke_channel(session, channel_id, actor="cli"))
    except IntakeError as exc:
        raise _channel_error(exc) from None
    sys.stdout.write(json.dumps({"channel": shown["id"], "revoked_at": shown["revoked_at"]}) + "\n")


@channel_app.command("rotate")
def channel_rotate(
    channel_id: Annotated[str, typer.Argument(help="The channel that gets a new API key.")],
    callback_secret: Annotated[
        bool, typer.Option("--callback-secret", help="Replace its callback secret (HMAC of callbacks) too.")
    ] = False,
) -> None:
    """Give a channel a new API key (the old one stops working) and print it, shown once."""
    from intake.channels import rotate_channel
    from intake.db import session_factory

    try:
        with session_factory(get_settings().db.url).begin() as session:
            issued = rotate_channel(session, channel_id, new_callback_secret=callback_secret, actor="cli")
    except IntakeError as exc:
        raise _channel_error(exc) from None
    sys.stdout.write(json.dumps(issued.shown(), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    app()
