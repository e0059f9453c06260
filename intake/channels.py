"""Channels: the callers of the API (apps, reviewers' and operators' clients) and their API keys.

A key is shown once, when it is made; the database keeps only its SHA-256. Every function takes the
session of the caller's transaction and does not commit; each change writes an audit event.
The API (``api.deps``) refuses a revoked or replaced key within ``api.deps.CALLER_TTL`` seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import clock
from intake.audit import audit
from intake.errors import Conflict, InvalidInput, NotFound
from intake.models import Channel, Role

KEY_PREFIX = "mtb_"  # makes a leaked key recognisable (secret scanners, logs)


def hash_key(api_key: str) -> str:
    """What the database keeps of a key: keys are 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def make_callback_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class IssuedCredentials:
    """What a channel's client is given, once: its API key and, when new, its callback secret."""

    channel: str
    role: str
    api_key: str
    callback_secret: str | None  # None: the channel keeps the secret it had

    def shown(self) -> dict[str, str]:
        """What ``intake channel add`` / ``rotate`` print (as JSON)."""
        shown = {"channel": self.channel, "role": self.role, "api_key": self.api_key}
        if self.callback_secret is not None:
            shown["callback_secret"] = self.callback_secret
        return shown


def _get(session: Session, channel_id: str) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"no channel {channel_id!r}; `intake channel list` shows the channels there are")
    return channel


def add_channel(session: Session, *, channel_id: str, name: str, role: str, actor: str) -> IssuedCredentials:
    """A new channel with a new API key and callback secret."""
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(r.value for r in Role)}")
    if not channel_id.strip() or len(channel_id) > 64:
        raise InvalidInput(f"a channel id has 1 to 64 characters, not {len(channel_id)}")
    if len(name) > 200:
        raise InvalidInput(f"a channel name has at most 200 characters, not {len(name)}")
    if session.get(Channel, channel_id) is not None:
        raise Conflict(f"a channel {channel_id!r} exists already")
    key, secret = new_api_key(), make_callback_secret()
    session.add(Channel(id=channel_id, name=name or channel_id, role=role, api_key_sha256=hash_key(key),
                        callback_secret=secret, created_at=clock.now()))
    audit(session, actor=actor, action="channel.added", channel=channel_id, role=role)
    return IssuedCredentials(channel=channel_id, role=role, api_key=key, callback_secret=secret)


def list_channels(session: Session) -> list[Channel]:
    """Every channel, revoked ones included, oldest first."""
    return list(session.scalars(select(Channel).order_by(Channel.created_at, Channel.id)))


def _utc(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive datetimes (stored as UTC)
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def describe(channel: Channel) -> dict[str, Any]:
    """What may be shown of a channel (never its key hash or callback secret); times in UTC, ISO 8601."""
    return {"id": channel.id, "name": channel.name, "role": channel.role, "created_at": _utc(channel.created_at),
            "revoked_at": _utc(channel.revoked_at), "revoked": channel.revoked_at is not None}


def revoke_channel(session: Session, channel_id: str, *, actor: str) -> Channel:
    """Stop the channel's key for good; its applications stay. Revoking a revoked channel changes nothing."""
    channel = _get(session, channel_id)
    if channel.revoked_at is None:
        channel.revoked_at = clock.now()
        audit(session, actor=actor, action="channel.revoked", channel=channel_id)
    return channel


def rotate_channel(session: Session, channel_id: str, *, new_callback_secret: bool, actor: str) -> IssuedCredentials:
    """Replace the channel's API key (the old one stops working), and its callback secret if asked."""
    channel = _get(session, channel_id)
    if channel.revoked_at is not None:
        raise Conflict(f"channel {channel_id!r} was revoked at {_utc(channel.revoked_at)}; a revoked channel "
                       "gets no new key: add a new channel")
    key = new_api_key()
    channel.api_key_sha256 = hash_key(key)
    secret = None
    if new_callback_secret:
        secret = channel.callback_secret = make_callback_secret()
    audit(session, actor=actor, action="channel.rotated", channel=channel_id, callback_secret=new_callback_secret)
    return IssuedCredentials(channel=channel_id, role=channel.role, api_key=key, callback_secret=secret)
