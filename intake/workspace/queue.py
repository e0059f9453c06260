"""The reviewers' queue: the current cases of my regions, soonest SLA deadline first.

One query of a few columns (never the reports) over the current case of each application (its
current round, not superseded), the application, and its claim. Filters: application status
(default ``ready_for_review``, the cases that wait for a decision; ``all`` for every status),
pre-screen verdict, disease, problem code, reviewer flag, channel, my claims; search by name (whole
or its beginning), ID number or external reference. Names and ID numbers come masked.

Indexed for 100,000 cases on PostgreSQL (bench/bench_review.py): each application carries its current
case's deadline (``Application.review_due``, kept by ``intake.models._current_deadlines``), so a page is
read in the order of ``ix_applications_queue`` (region, status, review_due, id) and costs its 50 rows:
decided cases of other statuses and regions are never passed over, however many pile up. The total
of a status that always has a current case is counted from that index alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Select, Text, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from intake import clock
from intake.models import Application, ApplicationStatus, Case, CaseClaim, User
from intake.workspace.access import region_filter
from intake.workspace.masking import mask_id_number, mask_name

ALL = "all"
NO_DEADLINE = dt.date.max  # sorts cases without a deadline last, in SQLite and PostgreSQL alike
ANY_FLAG = "any"
COUNT_CAP = 1000  # matches counted exactly up to this; beyond, the total is "more than 1000"
# Statuses in which an application always has a current case (its round assessed).
ASSESSED = frozenset({ApplicationStatus.READY_FOR_REVIEW.value, ApplicationStatus.NEEDS_SUPPLEMENT.value,
                      ApplicationStatus.APPROVED.value, ApplicationStatus.REJECTED.value})


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = ApplicationStatus.READY_FOR_REVIEW.value  # None or "all": every status
    verdict: str | None = None
    disease: str | None = None
    problem: str | None = None  # a problem code's kind ("stale") or a whole code with an ASCII name
    flag: str | None = None  # a reviewer flag's kind, or "any"
    channel: str | None = None
    search: str | None = None
    mine: bool = False  # only the cases I hold


@dataclass(frozen=True)
class QueueItem:
    application_id: str
    external_ref: str | None
    applicant_name: str  # masked
    id_number: str  # masked
    disease: str
    region: str
    channel: str
    status: str
    round: int
    verdict: str
    problems: list[str]
    review_flags: list[str]
    submitted_at: dt.datetime | None
    review_due: dt.date | None
    overdue: bool
    due_today: bool
    claimed_by: str | None  # username
    claimed_by_name: str | None
    # The deadline counted a day of a year without a holiday schedule (intake.workdays): an estimate.
    review_due_estimated: bool = False


@dataclass(frozen=True)
class QueuePage:
    total: int  # cap + 1 means "more than cap"
    limit: int
    offset: int
    today: dt.date
    items: list[QueueItem]
    cap: int = COUNT_CAP  # the count stopped here (see ``queue``)


def _like_code(column: Any, code: str) -> Any:
    # JSON lists of codes, as stored text: ["stale:a.jpg", ...]; a kind matches the start of a code.
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, Text).like(f'%"{escaped}%', escape="\\")


def _has_tag(tag: str) -> Any:
    escaped = tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Application.queue_tags.like(f"%|{escaped}|%", escape="\\")


_Ts = TypeVarTuple("_Ts")


def _where(stmt: Select[*_Ts], user: User, f: QueueFilter, *, applications_only: bool = False) -> Select[*_Ts]:
    stmt = stmt.where(region_filter(user))
    if f.status and f.status != ALL:
        stmt = stmt.where(Application.status == f.status)
    if f.verdict and not applications_only:
        stmt = stmt.where(Case.verdict == f.verdict)
    if f.disease:
        stmt = stmt.where(Application.disease == f.disease)
    if f.channel:
        stmt = stmt.where(Application.channel_id == f.channel)
    # A kind ("stale") is a tag on the application's row; a whole code (with its file) is searched in
    # the case's stored codes.
    if f.problem and ":" not in f.problem:
        stmt = stmt.where(_has_tag(f"p:{f.problem}"))
    elif f.problem:
        stmt = stmt.where(_like_code(Case.problems, f.problem))
    if f.flag == ANY_FLAG:
        stmt = stmt.where(Application.queue_tags.like("%|f:%"))
    elif f.flag and ":" not in f.flag:
        stmt = stmt.where(_has_tag(f"f:{f.flag}"))
    elif f.flag:
        stmt = stmt.where(_like_code(Case.flag_codes, f.flag))
    if f.search and (q := f.search.strip()):
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(or_(Application.applicant_name == q,
                              Application.applicant_name.like(f"{escaped}%", escape="\\"),
                              Application.id_number == q.upper(), Application.external_ref == q,
                              Application.id == q))
    if f.mine:
        stmt = stmt.where(CaseClaim.user_id == user.id)
    return stmt


def _waits(row: Any) -> bool:
    # The SLA runs while a case waits for a reviewer's decision.
    return row.review_due is not None and row.status == ApplicationStatus.READY_FOR_REVIEW


def _case_filtered(f: QueueFilter) -> bool:
    # Whether a filter reads the case's columns (not only the application's).
    return bool(f.verdict or (f.problem and ":" in f.problem) or (f.flag and ":" in f.flag))


def queue(session: Session, user: User, f: QueueFilter | None = None, *, limit: int = 50,
          offset: int = 0) -> QueuePage:
    """One page of the queue, with the total that match (for paging)."""
    f = f or QueueFilter()
    today = clock.local_date()
    current = and_(Case.application_id == Application.id, Case.round == Application.round,
                   Case.superseded_by.is_(None))
    joined = (Application.__table__.join(Case.__table__, current)
              .outerjoin(CaseClaim.__table__, CaseClaim.application_id == Application.id))
    # Read in the order of ix_applications_queue (region, status, review_due, id): a page costs its
    # 50 rows, not a sort of every case of the region.
    deadline_order = (Application.review_due.asc().nulls_last(), Application.id)
    rows = session.execute(
        _where(select(Application.id, Application.external_ref, Application.applicant_name,
                      Application.id_number, Application.disease, Application.region, Application.channel_id,
                      Application.status, Case.round, Case.verdict, Case.problems, Case.flag_codes,
                      Case.submitted_at, Case.review_due,
                      Case.report["review_due_estimated"].as_boolean().label("due_estimated"),
                      User.username, User.display_name)
               .select_from(joined.outerjoin(User.__table__, User.id == CaseClaim.user_id)), user, f)
        .order_by(*deadline_order).limit(limit).offset(offset)
    ).all()
    # Counted up to COUNT_CAP + 1 only: past that the page says "more than COUNT_CAP", and a count
    # never costs more than reading that many rows (a filter over a region's whole history would).
    if _case_filtered(f) or f.mine or f.status not in ASSESSED:
        matches = _where(select(Application.id).select_from(joined), user, f)
    else:  # an application in these states has exactly one current case: counted from the index alone
        matches = _where(select(Application.id), user, f, applications_only=True)
    total = session.scalar(select(func.count()).select_from(matches.limit(COUNT_CAP + 1).subquery())) or 0
    items = [
        QueueItem(
            application_id=r.id, external_ref=r.external_ref, applicant_name=mask_name(r.applicant_name),
            id_number=mask_id_number(r.id_number), disease=r.disease, region=r.region, channel=r.channel_id,
            status=r.status, round=r.round, verdict=r.verdict, problems=list(r.problems or []),
            review_flags=list(r.flag_codes or []), submitted_at=r.submitted_at, review_due=r.review_due,
            overdue=_waits(r) and r.review_due < today, due_today=_waits(r) and r.review_due == today,
            claimed_by=r.username, claimed_by_name=r.display_name, review_due_estimated=bool(r.due_estimated),
        )
        for r in rows
    ]
    return QueuePage(total=total, limit=limit, offset=offset, today=today, items=items, cap=COUNT_CAP)
