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
        Console(stderr=True).print(f"[bold red]error:[/] {exc}")
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
        Console(stderr=True).print(f"[bold red]error:[/] no sample applications under {samples}")
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


if __name__ == "__main__":
    app()
