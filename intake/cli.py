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
    from intake.startup import startup_settings, warn_about_calendar

    try:
        settings = startup_settings()
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    warn_about_calendar(settings)  # next year's holiday schedule, from November on
    return settings


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


calendar_app = typer.Typer(help="The holiday and 调休 schedule review deadlines are counted on.", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("check")
def calendar_check(
    today: Annotated[str | None, typer.Option(help="Check as of this day (YYYY-MM-DD; default: today in China).")]
    = None,
) -> None:
    """List the years whose schedule file is present and those missing. Exit code 1 when this year's
    file is missing, or next year's from November on (deadlines there are only estimates); 2 when a
    file is wrong."""
    from intake import clock
    from intake.workdays import CalendarError, WorkCalendar

    day = _parse_date(today) or clock.local_date()
    directory = get_settings().workdays_dir
    try:
        calendar = WorkCalendar.load(directory)
    except CalendarError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    console = Console(highlight=False)
    table = Table("year", "days off", "weekends worked", title=f"working-day files in {directory}")
    table.add_column("notice", overflow="fold")
    for year, schedule in calendar.schedules.items():
        table.add_row(str(year), str(len(schedule.holidays)), str(len(schedule.workdays)), schedule.notice)
    console.print(table)
    missing = calendar.missing(day)
    for warning in calendar.warnings(day):
        console.print(Text(f"missing: {warning}", style="bold red"))
    if not missing:
        console.print(f"complete as of {day}: the files cover {day.year}"
                      + (f" and {day.year + 1}" if day.year + 1 in calendar.schedules else ""))
    raise typer.Exit(1 if missing else 0)



@app.command("review-due-list")
def review_due_list(
    start: Annotated[str, typer.Option("--from", help="First valid-until date of the range (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last valid-until date of the range (YYYY-MM-DD).")],
    region: Annotated[str | None, typer.Option("--region", help="Only this region (统筹区), e.g. 六盘水市.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
) -> None:
    """复审: approved qualifications whose validity ends between --from and --to (inclusive), the
    soonest first: whom to remind to apply again."""
    from intake.db import session_factory
    from intake.service import qualifications_due

    first, last = _parse_date(start), _parse_date(end)
    assert first is not None and last is not None
    if last < first:
        raise typer.BadParameter(f"--to {last} is before --from {first}")
    with session_factory(get_settings().db.url)() as session:
        rows = [{"application_id": a.id, "external_ref": a.external_ref, "channel_id": a.channel_id,
                 "applicant_name": a.applicant_name, "id_number": a.id_number, "disease": a.disease,
                 "region": a.region, "round": c.round, "valid_until": str(c.qualification_valid_until)}
                for a, c in qualifications_due(session, start=first, end=last, region=region, limit=10**9)]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"qualifications due for 复审, valid until {first} … {last}")
    for column in ("valid_until", "region", "disease", "applicant_name", "application_id", "external_ref"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text(str(row[k] or "—")) for k in ("valid_until", "region", "disease", "applicant_name",
                                                            "application_id", "external_ref")))
    Console().print(table)
    Console(stderr=True).print(f"{len(rows)} qualification(s)")


# --- reviewers' workspace users (intake.users) ------------------------------------------------------------

user_app = typer.Typer(help="People who sign in to the reviewers' workspace: reviewers, supervisors, admins.",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")


def _read_password(password_stdin: bool, *, confirm: bool = True) -> str:
    """From stdin's first line (scripts), or asked twice without echo."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def _user_command(action):  # type: ignore[no-untyped-def]
    """Run ``action(session)`` in one transaction; errors print as `error: …` (exit 2)."""
    from sqlalchemy.exc import IntegrityError

    from intake.db import session_factory

    try:
        with session_factory(get_settings().db.url).begin() as session:
            return action(session)
    except IntakeError as exc:
        raise _channel_error(exc) from None
    except IntegrityError:
        raise _channel_error("changed by someone else meanwhile; try again") from None


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name: lower-case letters, digits, . _ -")],
    role: Annotated[str, typer.Option(help="reviewer, supervisor or admin.")] = "reviewer",
    region: Annotated[list[str] | None, typer.Option("--region", help="A 统筹区 the user works (repeat).")] = None,
    name: Annotated[str, typer.Option(help="Display name, e.g. 王丽.")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a workspace user; the password is asked for (or read from stdin), only its argon2 hash kept."""
    from intake.policy import load_policies
    from intake.users import add_user, describe

    password = _read_password(password_stdin)
    known = [r for r in load_policies(get_settings().policies_dir).policies if r != "default"]
    shown = _user_command(lambda s: describe(add_user(
        s, username=username, display_name=name, role=role, regions=region or [], password=password, actor="cli",
        known_regions=known)))
    sys.stdout.write(json.dumps(shown, ensure_ascii=False) + "\n")


@user_app.command("passwd")
def user_passwd(
    username: Annotated[str, typer.Argument()],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Set a user's password (their open sessions end)."""
    from intake.users import set_password

    password = _read_password(password_stdin)
    _user_command(lambda s: set_password(s, username, password, actor="cli"))
    sys.stdout.write(json.dumps({"username": username, "password": "changed"}) + "\n")


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument()]) -> None:
    """Stop a user signing in (sessions and tokens stop at once; their claims are released)."""
    from intake.users import describe, disable_user

    shown = _user_command(lambda s: describe(disable_user(s, username, actor="cli")))
    sys.stdout.write(json.dumps({"username": username, "disabled_at": shown["disabled_at"]}) + "\n")


@user_app.command("list")
def user_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
) -> None:
    """List the users: role, regions, when created, disabled and last signed in (never hashes)."""
    from intake.users import describe, list_users

    users = _user_command(lambda s: [describe(u) for u in list_users(s)])
    if as_json:
        sys.stdout.write(json.dumps(users, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="workspace users (times in UTC)")
    for column in ("username", "name", "role", "regions", "created", "disabled", "last sign-in"):
        table.add_column(column)
    for u in users:
        table.add_row(*(Text(v) for v in (u["username"], u["display_name"], u["role"], "、".join(u["regions"]) or "—",
                                           (u["created_at"] or "—")[:16], (u["disabled_at"] or "—")[:16],
                                           (u["last_login_at"] or "—")[:16])))
    Console().print(table)


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option(help="What the token is for, e.g. 省平台前端.")] = "",
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke every token of the user instead.")] = False,
) -> None:
    """Issue a personal API token for the workspace JSON API (printed once), or revoke them all."""
    from intake.users import issue_token, revoke_tokens

    if revoke:
        count = _user_command(lambda s: revoke_tokens(s, username, actor="cli"))
        sys.stdout.write(json.dumps({"username": username, "revoked": count}) + "\n")
        return
    shown = _user_command(lambda s: issue_token(s, username, label=label, actor="cli").shown())
    sys.stdout.write(json.dumps(shown, ensure_ascii=False) + "\n")



# --- backlog import and re-scan (intake.backlog, intake.rescan) ----------------------------------------

def _write_out(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.write_text(text, encoding="utf-8")


def _backlog_context(local: bool):  # type: ignore[no-untyped-def]
    """In-process (``--local``: no Redis) or a context whose jobs go to the rq queues."""
    if local:
        return _local_context(None)
    from intake.jobs import WorkerContext

    return WorkerContext(_settings_checked_at_start())


@app.command("import")
def import_backlog(
    root: Annotated[Path | None, typer.Argument(help="A tree of application folders, or a CSV manifest.")] = None,
    local: Annotated[bool, typer.Option("--local", help="Pre-screen in this process (no Redis, no workers).")] = False,
    watch_dir: Annotated[
        Path | None, typer.Option("--watch", help="Import application folders dropped into DIR until Ctrl-C.")
    ] = None,
    settle: Annotated[float, typer.Option(help="--watch: seconds a folder must stay unchanged.")] = 5.0,
    fmt: Annotated[str, typer.Option("--format", help="Summary as table, csv or json.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write the summary to FILE.")] = None,
) -> None:
    """Import a backlog (scanned paper applications, an old system's export) through the same flow
    as uploads. Importing the same tree again creates nothing twice; an interrupted import resumes."""
    from tqdm import tqdm

    from intake import backlog

    if (root is None) == (watch_dir is None):
        raise _channel_error("give ROOT or --watch DIR")
    if fmt not in ("table", "csv", "json"):
        raise _channel_error("--format is table, csv or json")
    ctx = _backlog_context(local)
    outcomes: list[backlog.ImportOutcome] = []

    def report_bad(outcome: backlog.ImportOutcome) -> None:
        if outcome.status == "bad":
            tqdm.write(f"bad {display_name(outcome.source)}: {outcome.error}", file=sys.stderr)

    try:
        if watch_dir is not None:
            typer.echo(f"watching {watch_dir} (Ctrl-C to stop)", err=True)
            outcomes = backlog.watch(ctx, watch_dir, local=local, settle_seconds=settle, on_outcome=report_bad)
        else:
            candidates = backlog.discover(root)  # type: ignore[arg-type]
            with tqdm(total=len(candidates), unit="app", file=sys.stderr, desc="import") as bar:
                for candidate in candidates:
                    outcome = backlog.import_one(ctx, candidate, local=local)
                    outcomes.append(outcome)
                    report_bad(outcome)
                    bar.update()
    except KeyboardInterrupt:
        typer.echo("interrupted: run the same command again to resume (nothing is imported twice)", err=True)
    _print_import_summary(backlog, outcomes, fmt, out)


def _print_import_summary(backlog, outcomes, fmt: str, out: Path | None) -> None:  # type: ignore[no-untyped-def]
    if fmt == "csv":
        _write_out(backlog.summary_csv(outcomes), out)
        return
    if fmt == "json":
        _write_out(backlog.summary_json(outcomes), out)
        return
    totals = backlog.summary(outcomes)
    table = Table(title=f"import: {totals['applications']} applications, {totals['documents']} documents, "
                        f"{totals['pages']} pages")
    for column in ("count", "what"):
        table.add_column(column)
    for group in ("status", "verdicts", "problems"):
        for key, count in sorted(totals[group].items()):
            table.add_row(str(count), Text(f"{group}: {key}"))
    Console(file=out.open("w", encoding="utf-8") if out else None).print(table)


@app.command()
def rescan(
    region: Annotated[list[str] | None, typer.Option(help="Select a region (repeatable).")] = None,
    status: Annotated[list[str] | None, typer.Option(help="Select an application status (repeatable).")] = None,
    verdict: Annotated[list[str] | None, typer.Option(help="Select a current verdict (repeatable).")] = None,
    disease: Annotated[list[str] | None, typer.Option(help="Select a disease (repeatable).")] = None,
    submitted_from: Annotated[str | None, typer.Option(help="Submitted on or after (YYYY-MM-DD).")] = None,
    submitted_to: Annotated[str | None, typer.Option(help="Submitted on or before (YYYY-MM-DD).")] = None,
    ids: Annotated[Path | None, typer.Option(help="File of application ids or case ids, one a line.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute every diff, change nothing.")] = False,
    force_ocr: Annotated[bool, typer.Option("--force-ocr", help="Read every document again.")] = False,
    local: Annotated[bool, typer.Option("--local", help="Run in this process (no Redis, no workers).")] = False,
    resume: Annotated[str | None, typer.Option(help="Resume the run with this id.")] = None,
    batch_size: Annotated[int, typer.Option(help="Applications per queue job.")] = 50,
    fmt: Annotated[str, typer.Option("--format", help="Report as table, csv or json.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write the report to FILE.")] = None,
) -> None:
    """Re-assess the selected applications after a policy, registry, catalogue, classifier or OCR
    change and show what changes for each (with --dry-run, before anything changes)."""
    from intake import rescan as rs

    if fmt not in ("table", "csv", "json"):
        raise _channel_error("--format is table, csv or json")
    ctx = _backlog_context(local)
    if resume is None:
        wanted = tuple(line.strip() for line in ids.read_text("utf-8").splitlines() if line.strip()) if ids else ()
        selection = rs.Selection(regions=tuple(region or ()), statuses=tuple(status or ()),
                                 verdicts=tuple(verdict or ()), diseases=tuple(disease or ()),
                                 submitted_from=_parse_date(submitted_from), submitted_to=_parse_date(submitted_to),
                                 ids=wanted)
        with ctx.sessions.begin() as session:
            run_id = rs.start_run(session, selection, dry_run=dry_run, force_ocr=force_ocr, actor="cli",
                                  batch_size=batch_size).id
    else:
        run_id = resume
    typer.echo(f"re-scan run {run_id} (resume with --resume {run_id})", err=True)
    try:
        result = _run_rescan(ctx, rs, run_id, local=local)
    except KeyboardInterrupt:
        if local:
            rs.release_claims(ctx, run_id)
        typer.echo(f"interrupted: resume with `intake rescan --resume {run_id}`", err=True)
        raise typer.Exit(130) from None
    _print_rescan(result, fmt, out)


def _run_rescan(ctx, rs, run_id: str, *, local: bool) -> dict:  # type: ignore[no-untyped-def]
    """Run in-process, or send the batches to the workers and follow the progress in the database
    (sending unfinished batches again when Redis lost them)."""
    import time

    from tqdm import tqdm

    with ctx.sessions() as session:
        first = rs.progress(session, run_id)
    with tqdm(total=first.total, initial=first.done + first.failed, unit="app", file=sys.stderr,
              desc="re-scan") as bar:
        def advance(progress) -> None:  # type: ignore[no-untyped-def]
            bar.update(progress.done + progress.failed - bar.n)

        if local:
            return rs.run_local(ctx, run_id, on_item=advance)
        with ctx.sessions() as session:
            rs.enqueue_run(session, ctx.queues, run_id)
        quiet_since = time.monotonic()
        while True:
            with ctx.sessions() as session:
                now = rs.progress(session, run_id)
            if now.done + now.failed != bar.n:
                quiet_since = time.monotonic()
            advance(now)
            if now.finished:
                break
            if time.monotonic() - quiet_since > 60 and not ctx.queues.backlog.count:
                with ctx.sessions() as session:  # Redis restarted, or a worker died with its batch
                    rs.enqueue_run(session, ctx.queues, run_id)
                quiet_since = time.monotonic()
            time.sleep(1)
    with ctx.sessions() as session:
        return rs.run_result(session, run_id)


def _print_rescan(result: dict, fmt: str, out: Path | None) -> None:  # type: ignore[type-arg]
    if fmt == "json":
        _write_out(json.dumps(result, ensure_ascii=False, indent=2), out)
        return
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["application_id", "case_id", "old_verdict", "new_verdict", "problems_added",
                         "problems_removed", "flags_added", "flags_removed", "fields_changed", "decided", "redone",
                         "applied"])
        for e in result["changed"]:
            writer.writerow([e["application_id"], e["case_id"], e["old_verdict"], e["new_verdict"],
                             " ".join(e["problems_added"]), " ".join(e["problems_removed"]),
                             " ".join(e["flags_added"]), " ".join(e["flags_removed"]),
                             " ".join(f"{f['file']}:{f['field']}" for f in e["fields_changed"]), e["decided"],
                             e["redone"], e["applied"]])
        _write_out(buffer.getvalue(), out)
        return
    table = Table(title=f"re-scan {result['run_id']}{' (dry run)' if result['dry_run'] else ''}: "
                        f"{result['selected']} selected, {result['unchanged']} unchanged, "
                        f"{len(result['changed'])} changed")
    for column in ("case", "verdict", "problems +", "problems −", "flags ±", "fields", "redone", "decided"):
        table.add_column(column)
    for e in result["changed"]:
        table.add_row(Text(str(e["case_id"])), f"{e['old_verdict']} → {e['new_verdict']}",
                      Text("\n".join(e["problems_added"]) or "—"), Text("\n".join(e["problems_removed"]) or "—"),
                      Text("\n".join([*(f"+{c}" for c in e["flags_added"]), *(f"-{c}" for c in e["flags_removed"])])
                           or "—"),
                      Text("\n".join(f"{f['file']} {f['field']}" for f in e["fields_changed"]) or "—"),
                      e["redone"], e["decision"] or "—")
    console = Console(file=out.open("w", encoding="utf-8") if out else None)
    console.print(table)
    console.print(f"totals by kind of change: {result['totals']}; redone: {result['redone']}; "
                  f"failed: {len(result['failed'])}")


if __name__ == "__main__":
    app()
