"""People who sign in to the reviewers' workspace: reviewers, supervisors and administrators.

Apps and system integrations call the API with a channel's key (``intake.channels``); people sign
in with a username and password (a session cookie, ``api.pages_auth``) or, for a province's own
front end, with a personal API token. Each user is assigned the regions (统筹区, named as the
policies name them) whose cases they see; an administrator sees every region.

Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher``, its current parameters); a
hash made with older parameters is replaced at the next successful sign-in. Tokens are random, so
the database keeps only their SHA-256, as for channel keys. Every function takes the session of
the caller's transaction and does not commit; each change writes an audit event (never a password,
token or hash).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake import clock
from intake.audit import audit
from intake.errors import Conflict, InvalidInput, NotFound
from intake.models import AuditEvent, User, UserRole, UserToken

TOKEN_PREFIX = "mtu_"  # a leaked personal token is recognisable, and told apart from a channel key (mtb_)
MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")

# Sign-in attempts: after this many refusals of one username within the window, every attempt on
# it is refused unheard until the window has passed (a password cannot be guessed at speed).
MAX_REFUSALS = 5
REFUSAL_WINDOW = dt.timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def _check_regions(role: str, regions: Sequence[str], known: Iterable[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(r.strip() for r in regions if r.strip()))
    if known is not None:
        known = set(known)
        unknown = [r for r in chosen if r not in known]
        if unknown:
            raise InvalidInput(f"unknown region(s) {', '.join(unknown)}; the policies name: {', '.join(sorted(known))}")
    if role != UserRole.ADMIN and not chosen:
        raise InvalidInput("a reviewer or supervisor needs at least one region (--region 绥化市 …)")
    return chosen


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}; `intake user list` shows the users there are")
    return user


def add_user(session: Session, *, username: str, display_name: str, role: str, regions: Sequence[str],
             password: str, actor: str, known_regions: Iterable[str] | None = None) -> User:
    """Create a user. ``known_regions``: the regions that have a policy (refuses a misspelt one)."""
    if not USERNAME.fullmatch(username):
        raise InvalidInput("a username is 2–64 lower-case letters, digits, '.', '_' or '-'")
    if role not in {r.value for r in UserRole}:
        raise InvalidInput(f"role must be one of {', '.join(r.value for r in UserRole)}, not {role!r}")
    _check_password(password)
    chosen = _check_regions(role, regions, known_regions)
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise Conflict(f"a user {username!r} exists already")
    user = User(username=username, display_name=display_name or username, role=role, regions=chosen,
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    audit(session, actor=actor, action="user.created", username=username, role=role, regions=chosen)
    return user


def set_password(session: Session, username: str, password: str, *, actor: str) -> User:
    """A new password; it also ends the user's open sessions (they carry a digest of the old hash)."""
    _check_password(password)
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    audit(session, actor=actor, action="user.password_changed", username=username)
    return user


def disable_user(session: Session, username: str, *, actor: str) -> User:
    """The user can no longer sign in; open sessions and tokens stop working at their next request;
    their claims are released so their cases go back to the queue."""
    from intake.models import CaseClaim

    user = get_user(session, username)
    if user.disabled_at is None:
        user.disabled_at = clock.now()
        for claim in session.scalars(select(CaseClaim).where(CaseClaim.user_id == user.id)):
            audit(session, actor=actor, action="case.released", application_id=claim.application_id,
                  username=username, why="user disabled")
            session.delete(claim)
        audit(session, actor=actor, action="user.disabled", username=username)
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


def describe(user: User) -> dict[str, Any]:
    """What ``intake user list`` shows (never the hash)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "regions": list(user.regions or []), "created_at": user.created_at.isoformat(),
            "disabled_at": user.disabled_at.isoformat() if user.disabled_at else None,
            "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None}


@dataclass(frozen=True)
class IssuedToken:
    username: str
    token: str  # shown once; the database keeps its SHA-256

    def shown(self) -> dict[str, str]:
        return {"username": self.username, "token": self.token}


def issue_token(session: Session, username: str, *, label: str = "", actor: str) -> IssuedToken:
    user = get_user(session, username)
    if user.disabled_at is not None:
        raise Conflict(f"user {username!r} is disabled")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(UserToken(user_id=user.id, token_sha256=hash_token(token), label=label))
    audit(session, actor=actor, action="user.token_issued", username=username, label=label)
    return IssuedToken(username, token)


def revoke_tokens(session: Session, username: str, *, actor: str) -> int:
    user = get_user(session, username)
    tokens = session.scalars(select(UserToken).where(UserToken.user_id == user.id,
                                                     UserToken.revoked_at.is_(None))).all()
    for token in tokens:
        token.revoked_at = clock.now()
    audit(session, actor=actor, action="user.tokens_revoked", username=username, count=len(tokens))
    return len(tokens)


def user_by_token(session: Session, token: str) -> User | None:
    """The active user a personal token belongs to; None for an unknown, revoked or disabled one."""
    row = session.execute(
        select(User, UserToken.revoked_at).join(UserToken, UserToken.user_id == User.id)
        .where(UserToken.token_sha256 == hash_token(token))
    ).first()
    if row is None or row[1] is not None or row[0].disabled_at is not None:
        return None
    return row[0]


class SignInThrottled(Exception):
    """Too many refused sign-ins of one username lately: refused without checking the password."""

    def __init__(self, minutes: int) -> None:
        super().__init__(f"登录失败次数过多，请 {minutes} 分钟后再试。")
        self.minutes = minutes


def recent_refusals(session: Session, username: str) -> int:
    """Refused sign-ins of ``username`` within ``REFUSAL_WINDOW`` (from the audit log)."""
    since = clock.now() - REFUSAL_WINDOW
    return session.scalar(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "user.sign_in_refused", AuditEvent.at >= since,
            AuditEvent.detail["username"].as_string() == username[:64])
    ) or 0


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password is theirs and they are not disabled, else None (the caller shows
    one generic message). An unknown username costs one argon2 verification too, so the answer's
    timing does not tell which usernames exist. A hash of older parameters is replaced. Raises
    ``SignInThrottled`` after ``MAX_REFUSALS`` refusals of the username within ``REFUSAL_WINDOW``."""
    if recent_refusals(session, username) >= MAX_REFUSALS:
        audit(session, actor="web", action="user.sign_in_throttled", username=username[:64])
        raise SignInThrottled(int(REFUSAL_WINDOW.total_seconds() // 60))
    user = session.scalars(select(User).where(User.username == username)).first()
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
        verified = user is not None
    except (VerificationError, InvalidHashError):
        verified = False
    if not verified or user is None or user.disabled_at is not None:
        audit(session, actor="web", action="user.sign_in_refused", username=username[:64],
              why="disabled" if verified and user is not None else "wrong username or password")
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = clock.now()
    audit(session, actor=f"user:{user.username}", action="user.signed_in")
    return user


def password_stamp(user: User) -> str:
    """A short digest of the user's password hash, kept in their session: a changed password ends
    every session made with the old one."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def actor_of(user: User) -> str:
    """How a user is named in the audit log."""
    return f"user:{user.username}"
