"""Claims: so that two reviewers never work one case.

One row per application (``CaseClaim``, keyed by the application): a second reviewer's claim is a
Conflict naming who holds it; the holder releases it, a supervisor releases or reassigns it. Work
on a case (an edit, a mark, a decision) claims it for its author when nobody holds it. Claims end
with the round's decision. The audit log keeps every claim, release and reassignment.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.audit import audit
from intake.errors import Conflict, InvalidInput, NotFound
from intake.models import Application, CaseClaim, User, UserRole
from intake.users import actor_of, get_user
from intake.workspace.access import is_supervisor, may_see, require_open, require_supervisor


def holder(session: Session, app: Application) -> tuple[CaseClaim, User] | None:
    claim = session.get(CaseClaim, app.id)
    if claim is None:
        return None
    return claim, session.get_one(User, claim.user_id)


def _held_by_other(user: User, who: User) -> Conflict:
    return Conflict(f"该案件已由{who.display_name}（{who.username}）认领")


def claim(session: Session, app: Application, user: User) -> CaseClaim:
    """Claim the case for ``user``; the same user again is a no-op, another holder a Conflict."""
    require_open(session, app)
    held = holder(session, app)
    if held is not None:
        if held[1].id != user.id:
            raise _held_by_other(user, held[1])
        return held[0]
    row = CaseClaim(application_id=app.id, user_id=user.id)
    try:
        with session.begin_nested():  # two claims at once: the primary key lets one in
            session.add(row)
    except IntegrityError:
        session.expire_all()
        other = holder(session, app)
        raise _held_by_other(user, other[1]) if other else Conflict("该案件刚被他人认领，请刷新") from None
    audit(session, actor=actor_of(user), action="case.claimed", application_id=app.id)
    return row


def ensure_working(session: Session, app: Application, user: User) -> None:
    """Before work on a case: ``user`` holds it (claimed now if nobody did) or supervises."""
    held = holder(session, app)
    if held is None:
        claim(session, app, user)
    elif held[1].id != user.id and not is_supervisor(user):
        raise _held_by_other(user, held[1])


def release(session: Session, app: Application, user: User, *, why: str = "released") -> None:
    """The holder (or a supervisor) gives the case back to the queue; nothing held is a no-op."""
    held = holder(session, app)
    if held is None:
        return
    row, who = held
    if who.id != user.id and not is_supervisor(user):
        raise _held_by_other(user, who)
    session.delete(row)
    session.flush()
    audit(session, actor=actor_of(user), action="case.released", application_id=app.id, holder=who.username,
          why=why)


def reassign(session: Session, app: Application, supervisor: User, to_username: str) -> CaseClaim:
    """A supervisor gives the case to another reviewer of its region."""
    require_supervisor(supervisor)
    require_open(session, app)
    try:
        target = get_user(session, to_username)
    except NotFound:
        raise InvalidInput(f"没有用户 {to_username}") from None
    if target.disabled_at is not None or not may_see(target, app):
        raise InvalidInput(f"{target.display_name}（{target.username}）已停用或不负责该统筹区")
    held = holder(session, app)
    previous = held[1].username if held else None
    if held is not None:
        session.delete(held[0])
        session.flush()
    row = CaseClaim(application_id=app.id, user_id=target.id)
    session.add(row)
    session.flush()
    audit(session, actor=actor_of(supervisor), action="case.reassigned", application_id=app.id,
          previous=previous, to=target.username)
    return row


def assignees(session: Session, regions: Iterable[str]) -> dict[str, list[User]]:
    """region -> the enabled reviewers and supervisors of it, by name: whom a supervisor may
    ``reassign`` a case of that region to. One query for any number of regions (a queue page)."""
    wanted = set(regions)
    found: dict[str, list[User]] = {r: [] for r in wanted}
    for user in session.scalars(select(User).where(User.disabled_at.is_(None), User.role != UserRole.ADMIN)
                                .order_by(User.display_name, User.username)):
        for region in wanted.intersection(user.regions or []):
            found[region].append(user)
    return found
