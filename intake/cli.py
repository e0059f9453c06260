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
from rich.table import Table

from intake.errors import IntakeError
from intake.settings import REPO_ROOT, get_settings

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


@app.command()
def prescreen(
    directory: Annotated[Path, typer.Argument(help="Folder with application.json and the document files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report (the API contract).")] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Measure recency against this date (YYYY-MM-DD).")
    ] = None,
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Hospital registry CSV (name,aliases,grade,region).")
    ] = None,
    store: Annotated[bool, typer.Option(help="Store the report in the database.")] = True,
) -> None:
    """Pre-screen one application folder and print its report."""
    from intake.render import render_report

    when = _parse_date(as_of)
    try:
        report = _prescreener(registry).prescreen_dir(directory, as_of=when, store=store)
    except IntakeError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(report.contract(), ensure_ascii=False, indent=2) + "\n")
    else:
        render_report(report, Console())


@app.command()
def demo(
    samples: Annotated[Path, typer.Option(help="Folder of sample application folders.")] = SAMPLES_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON reports, one per line.")] = False,
) -> None:
    """Pre-screen every bundled sample application, print the reports and store them."""
    from intake.render import render_report

    folders = sorted(p for p in samples.iterdir() if (p / "application.json").is_file()) if samples.is_dir() else []
    if not folders:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] no sample applications under {samples}")
        raise typer.Exit(2)
    console = Console()
    prescreener = _prescreener(None)
    summary = Table(title="sample applications")
    for column in ("case", "verdict", "expected", "problems", "documents"):
        summary.add_column(column)
    agree = 0
    for folder in folders:
        try:
            report = prescreener.prescreen_dir(folder)
        except IntakeError as exc:
            console.print(f"[bold red]{folder.name}: {exc}[/]")
            continue
        if as_json:
            sys.stdout.write(json.dumps(report.contract(), ensure_ascii=False) + "\n")
        else:
            render_report(report, console)
        truth_path = folder / "truth.json"
        expected = json.loads(truth_path.read_text(encoding="utf-8"))["verdict"] if truth_path.is_file() else "—"
        agree += expected == report.verdict
        summary.add_row(
            report.case_id, str(report.verdict), expected, "\n".join(report.problems) or "—", str(len(report.documents))
        )
    if not as_json:
        console.print(summary)
        console.print(
            f"{agree}/{len(folders)} verdicts agree with the samples' truth; reports stored in "
            f"{get_settings().db.url}"
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="HTTP worker processes.")] = 1,
) -> None:
    """Run the HTTP API (apps, reviewers, operators). OpenAPI docs at /docs."""
    import uvicorn

    from intake.serving import fix_keepalive_nodelay

    fix_keepalive_nodelay()
    uvicorn.run("api.app:app", host=host, port=port, workers=workers, log_level="info")


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
) -> None:
    """Run a queue worker. Start as many as you like, on as many machines, against one Redis,
    one database and one shared file store."""
    from intake.worker import run_worker
    from intake.worker import supervise as run_supervised

    settings = get_settings()
    if supervise and not burst and max_jobs is None:
        args = [arg for q in queues or [] for arg in ("--queue", q)]
        args += ["--max-jobs", str(settings.queue.worker_max_jobs)]
        raise typer.Exit(run_supervised(args))
    run_worker(settings, queue_names=queues, burst=burst, max_jobs=max_jobs)


@app.command()
def reconcile(
    loop: Annotated[bool, typer.Option(help="Keep reconciling every --interval seconds.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between rounds with --loop.")] = 30.0,
) -> None:
    """Enqueue what the database says must run: documents Redis never got or lost, documents whose
    worker died, finished applications without a verdict, callbacks due."""
    import time

    from intake.db import session_factory
    from intake.queue import Queues
    from intake.reconcile import reconcile as run_reconcile

    settings = get_settings()
    sessions, queues = session_factory(settings.db.url), Queues(settings)
    while True:
        result = run_reconcile(sessions, queues, settings)
        if result.redis_down:
            Console(stderr=True, soft_wrap=True).print("[yellow]Redis is unreachable; will try again[/]")
        elif result.total or result.dead:
            Console().print(
                f"enqueued {len(result.enqueued_received)} received, re-queued {len(result.requeued_lost)} lost and "
                f"{len(result.requeued_stuck)} stuck documents, {len(result.assessments)} assessments, "
                f"{len(result.callbacks)} callbacks; {len(result.dead)} dead letters"
            )
        if not loop:
            break
        time.sleep(interval)


channel_app = typer.Typer(help="API keys of the calling apps, reviewers and operators.", no_args_is_help=True)
app.add_typer(channel_app, name="channel")


@channel_app.command("add")
def channel_add(
    channel_id: Annotated[str, typer.Argument(help="Short id, e.g. longjiang-app.")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 龙江医保 app.")] = "",
    role: Annotated[str, typer.Option(help="app, reviewer or operator.")] = "app",
) -> None:
    """Create a channel and print its API key and callback secret (shown once; only a hash is kept)."""
    import secrets

    from sqlalchemy.exc import IntegrityError

    from api.deps import hash_key
    from intake.db import session_factory
    from intake.models import Channel, Role

    if role not in {r.value for r in Role}:
        raise typer.BadParameter(f"role must be one of {[r.value for r in Role]}")
    key, secret = "mtb_" + secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    try:
        with session_factory(get_settings().db.url).begin() as session:
            session.add(Channel(id=channel_id, name=name or channel_id, role=role, api_key_sha256=hash_key(key),
                                callback_secret=secret))
    except IntegrityError:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] a channel {channel_id!r} exists already")
        raise typer.Exit(2) from None
    sys.stdout.write(json.dumps({"channel": channel_id, "role": role, "api_key": key, "callback_secret": secret})
                     + "\n")


if __name__ == "__main__":
    app()
