"""Dependencies of the routes: settings, a database session, the file store, the queues, and the
calling channel, authenticated by its API key and checked for its role."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.db import session_factory
from intake.files import LocalFileStore
from intake.models import Channel, Role
from intake.queue import Queues
from intake.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_db(settings: SettingsDep) -> Iterator[Session]:
    with session_factory(settings.db.url)() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


def get_files(settings: SettingsDep) -> LocalFileStore:
    return LocalFileStore(settings.storage.root)


FilesDep = Annotated[LocalFileStore, Depends(get_files)]


def get_queues(settings: SettingsDep) -> Queues:
    return Queues(settings)


QueuesDep = Annotated[Queues, Depends(get_queues)]


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def get_channel(
    session: SessionDep,
    x_api_key: Annotated[str | None, Header(description="The channel's API key.")] = None,
    authorization: Annotated[str | None, Header(description="Or: Bearer <API key>.")] = None,
) -> Channel:
    key = x_api_key or (authorization.removeprefix("Bearer ").strip() if authorization else None)
    if not key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing API key: send it as X-API-Key or Bearer token")
    channel = session.scalars(select(Channel).where(Channel.api_key_sha256 == hash_key(key))).first()
    if channel is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key")
    return channel


def require(*roles: Role) -> Callable[[Channel], Channel]:
    def check(channel: Annotated[Channel, Depends(get_channel)]) -> Channel:
        if channel.role not in roles:
            wanted = " or ".join(roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this endpoint is for {wanted} keys, not {channel.role}")
        return channel

    return check


AppChannel = Annotated[Channel, Depends(require(Role.APP))]
ReviewerChannel = Annotated[Channel, Depends(require(Role.REVIEWER, Role.OPERATOR))]
OperatorChannel = Annotated[Channel, Depends(require(Role.OPERATOR))]
