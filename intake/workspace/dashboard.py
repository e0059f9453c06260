"""What supervisors chart, per region and ISO week (e.g. "2026-W10"):

- received: rounds submitted that week (their first assessment, revision 0), and of those the
  pre-screen verdicts (ready_for_review / needs_supplement);
- decisions made that week, per decision (approved / rejected / needs_supplement);
- agreement: the share of those decisions that agree with the round's pre-screen verdict (approved
  after ready_for_review; rejected or a supplement after needs_supplement);
- median hours from the round's submission to its decision;
- SLA compliance: the share of decisions made (China time) on or before the round's review_due.

Scoped like the queue: a supervisor's regions, an administrator's every region. Rows are read
with only the columns needed and folded here, so one call covers many weeks at 100,000 cases.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import clock
from intake.models import Application, Case, ReviewDecision, User
from intake.workspace.access import region_filter

AGREES = {"approved": "ready_for_review", "rejected": "needs_supplement", "needs_supplement": "needs_supplement"}


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class WeekRow:
    region: str
    week: str
    received: int = 0
    prescreen: dict[str, int] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    agreement: float | None = None  # share of decisions agreeing with the pre-screen
    median_hours_to_decision: float | None = None
    sla_met: float | None = None  # share of decisions on or before review_due


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def dashboard(session: Session, user: User, *, weeks: int = 12, today: dt.date | None = None) -> list[WeekRow]:
    """The last ``weeks`` ISO weeks up to ``today`` (China time), by region then week."""
    today = today or clock.local_date()
    first_day = today - dt.timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = clock.start_of_day(first_day)
    rows: dict[tuple[str, str], WeekRow] = {}

    def row(region: str, day: dt.date) -> WeekRow:
        key = (region, iso_week(day))
        if key not in rows:
            rows[key] = WeekRow(region=region, week=key[1])
        return rows[key]

    received = session.execute(
        select(Application.region, Case.submitted_at, Case.created_at, Case.verdict)
        .join(Application, Application.id == Case.application_id)
        .where(Case.revision == 0, Case.created_at >= since, region_filter(user))
    )
    for region, submitted_at, created_at, verdict in received:
        r = row(region, clock.local_date(_aware(submitted_at or created_at)))
        r.received += 1
        r.prescreen[verdict] = r.prescreen.get(verdict, 0) + 1

    agree: dict[tuple[str, str], list[bool]] = defaultdict(list)
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    met: dict[tuple[str, str], list[bool]] = defaultdict(list)
    decided = session.execute(
        select(Application.region, ReviewDecision.decision, ReviewDecision.prescreen_verdict,
               ReviewDecision.created_at, Case.submitted_at, Case.review_due)
        .join(Application, Application.id == ReviewDecision.application_id)
        .join(Case, Case.id == ReviewDecision.case_id)
        .where(ReviewDecision.created_at >= since, region_filter(user))
    )
    for region, decision, prescreen, decided_at, submitted_at, review_due in decided:
        decided_at = _aware(decided_at)
        day = clock.local_date(decided_at)
        r = row(region, day)
        key = (r.region, r.week)
        r.decisions[decision] = r.decisions.get(decision, 0) + 1
        agree[key].append(AGREES.get(decision) == prescreen)
        if submitted_at is not None:
            hours[key].append((decided_at - _aware(submitted_at)).total_seconds() / 3600)
        if review_due is not None:
            met[key].append(day <= review_due)
    for key, r in rows.items():
        if agree[key]:
            r.agreement = round(sum(agree[key]) / len(agree[key]), 3)
        if hours[key]:
            r.median_hours_to_decision = round(median(hours[key]), 1)
        if met[key]:
            r.sla_met = round(sum(met[key]) / len(met[key]), 3)
    return sorted(rows.values(), key=lambda r: (r.region, r.week))
