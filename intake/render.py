"""The human-readable form of a report, for the terminal."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from classifiers.types import Outcome
from intake.names import display_name
from intake.report import DocumentReport, Report, Verdict

OUTCOME_STYLE = {
    Outcome.PASS: "green",
    Outcome.FAIL: "bold red",
    Outcome.UNKNOWN: "yellow",
    Outcome.NOT_APPLICABLE: "dim",
}
OUTCOME_MARK = {Outcome.PASS: "✓", Outcome.FAIL: "✗", Outcome.UNKNOWN: "?", Outcome.NOT_APPLICABLE: "–"}


def _check_cell(doc: DocumentReport) -> Text:
    text = Text()
    if doc.error:
        return Text(doc.error, style="bold red")
    c = doc.checks
    details = {
        "seal": c.seal.text or ("red seal" if c.seal.present else "none"),
        "hospital": " ".join(filter(None, [c.hospital.canonical_name, c.hospital.grade])) or "not found",
        "recency": f"{c.recency.age_days} d / {c.recency.limit_days} d"
        if c.recency.age_days is not None and c.recency.limit_days
        else (c.recency.date or "no date"),
        "identity": "",
        "quality": ",".join(c.quality.problems),
        "diagnosis": c.diagnosis.matched_term or "",
    }
    for name, check in (
        ("seal", c.seal),
        ("hospital", c.hospital),
        ("recency", c.recency),
        ("identity", c.identity),
        ("quality", c.quality),
        ("diagnosis", c.diagnosis),
    ):
        outcome = Outcome(check.outcome)
        text.append(f"{OUTCOME_MARK[outcome]} {name}", style=OUTCOME_STYLE[outcome])
        if details[name] and outcome != Outcome.NOT_APPLICABLE:
            text.append(f" ({details[name]})", style="dim")
        text.append("\n")
    text.rstrip()
    return text


def render_report(report: Report, console: Console) -> None:
    ready = report.verdict == Verdict.READY_FOR_REVIEW
    title = Text.assemble(
        (f"{report.case_id}  ", "bold"),
        f"{report.applicant_name}  {report.disease}  {report.region}",
        # 代办: the agent applying for the applicant
        (f"  代办人 {report.agent['name']}（{report.agent['relationship']}）" if report.agent else ""),
        ("  policy " + report.policy, "dim"),
    )
    header = Text.assemble(
        ("READY FOR REVIEW" if ready else "NEEDS SUPPLEMENT", "bold green" if ready else "bold red"),
        f"   applied {report.application_date}   checked as of {report.as_of}   review due {report.review_due}",
    )
    table = Table(expand=True, show_lines=True)
    table.add_column("file", overflow="fold", ratio=2)
    table.add_column("type", ratio=2)
    table.add_column("fields", overflow="fold", ratio=4)
    table.add_column("checks", ratio=4)
    for doc in report.documents:
        kind = Text(str(doc.doc_type or "—"))
        if doc.doc_type:
            kind.append(f"\n{doc.confidence:.2f}", style="dim")
        if doc.ocr_cached:
            kind.append("\ncached OCR", style="dim")
        fields = Text("\n".join(f"{k}: {v}" for k, v in doc.fields.items() if v))
        # Text, never markup: a name or an OCR field holding "[...]" is shown as it is.
        table.add_row(Text(display_name(doc.file)), kind, fields, _check_cell(doc))
    problems = Text("\n".join(report.problems) if report.problems else "none", style="red" if report.problems else "")
    flags = Text("\n".join(f"{flag.code} ({flag.confidence:.2f}): {flag.reason or flag.read or ''}"
                           for flag in report.review_flags) or "none", style="yellow" if report.review_flags else "")
    console.print(
        Panel(
            Group(header, table, Text("problems:", style="bold"), problems,
                  Text("review flags (for reviewers, not sent to the applicant):", style="bold"), flags,
                  Text("notice:", style="bold"), Text(report.notice)),
            title=title,
            title_align="left",
        )
    )
