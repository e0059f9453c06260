"""Who may see and work which application.

A reviewer and a supervisor see the applications of their regions, an administrator every region;
an application of another region is simply not found (the same 404 as an unknown id), so its
existence is not told either. A case is open to a reviewer's work (edits, marks, a decision) while
its current round is assessed, has no decision yet, and the application is not final.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from intake.errors import Conflict, Forbidden, NotFound
from intake.models import Application, ApplicationStatus, Case, ReviewDecision, User, UserRole

# Statuses in which a case waits for (or may take) a reviewer's decision.
REVIEWABLE = (ApplicationStatus.READY_FOR_REVIEW, ApplicationStatus.NEEDS_SUPPLEMENT)
FINAL = (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)


def is_admin(user: User) -> bool:
    return user.role == UserRole.ADMIN


def is_supervisor(user: User) -> bool:
    """Supervisors and administrators: they may reassign and release others' claims."""
    return user.role in (UserRole.SUPERVISOR, UserRole.ADMIN)


def region_filter(user: User) -> ColumnElement[bool]:
    """The SQL condition on ``Application.region`` for what ``user`` may see."""
    if is_admin(user):
        return true()
    return Application.region.in_(list(user.regions or []))


def may_see(user: User, app: Application) -> bool:
    return is_admin(user) or app.region in (user.regions or [])


def require_supervisor(user: User) -> None:
    if not is_supervisor(user):
        raise Forbidden("只有科室负责人或管理员可以执行此操作")


def visible_application(session: Session, user: User, application_id: str) -> Application:
    """The application, if ``user`` may see it; NotFound otherwise (another region's too)."""
    app = session.get(Application, application_id)
    if app is None or not may_see(user, app):
        raise NotFound(f"没有找到申请 {application_id}")
    return app


def current_case(session: Session, app: Application) -> Case:
    """The current case of the application: its current round's, latest revision."""
    case = session.scalars(
        select(Case).where(Case.application_id == app.id, Case.round == app.round, Case.superseded_by.is_(None))
        .order_by(Case.revision.desc())
    ).first()
    if case is None:
        raise NotFound(f"申请 {app.id} 的本轮材料尚未完成预审（{app.status}）")
    return case


def decision_of_round(session: Session, app: Application) -> ReviewDecision | None:
    return session.scalars(
        select(ReviewDecision).where(ReviewDecision.application_id == app.id, ReviewDecision.round == app.round)
    ).first()


def require_open(session: Session, app: Application) -> Case:
    """The current case, if a reviewer may still work it; Conflict once decided (approve and reject
    are final; after a supplement request the next round is a new case)."""
    if app.status in FINAL:
        raise Conflict(f"申请 {app.id} 已作出最终决定（{app.status}），不能再修改")
    if app.status not in REVIEWABLE:
        raise Conflict(f"申请 {app.id} 当前状态为 {app.status}，预审完成后才能审核")
    case = current_case(session, app)
    if decision_of_round(session, app) is not None:
        raise Conflict(f"申请 {app.id} 本轮已作出决定，等待申请人补正后重新提交")
    return case
