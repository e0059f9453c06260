"""Dependencies of the routes: settings, a database session, the file store, the queues, and the
calling channel, authenticated by its API key and checked for its role."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from intake.db import session_factory
from intake.files import LocalFileStore
from intake.models import Channel, Role
from intake.queue import Queues
from intake.settings import Settings, get_settings

# Every dependency here is ``async def``: FastAPI calls a plain ``def`` dependency through its
# threadpool, and a thread hop per dependency was a measurable share of an upload's CPU. Whatever
# may block on the database runs in the threadpool explicitly.


async def current_settings() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]
_factories: dict[str, sessionmaker[Session]] = {}


async def get_db(settings: SettingsDep) -> AsyncIterator[Session]:
    url = settings.db.url
    factory = _factories.get(url)
    if factory is None:  # the first use creates the engine and checks the schema: database I/O
        factory = _factories[url] = await run_in_threadpool(session_factory, url)
    session = factory()  # connects lazily, at its first query (in the route's thread)
    try:
        yield session
    finally:
        if session.in_transaction():  # closing rolls back on the database
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_db)]


async def get_files(settings: SettingsDep) -> LocalFileStore:
    return LocalFileStore(settings.storage.root)


FilesDep = Annotated[LocalFileStore, Depends(get_files)]


async def get_queues(settings: SettingsDep) -> Queues:
    return Queues(settings)


QueuesDep = Annotated[Queues, Depends(get_queues)]


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """The authenticated channel of a request: what the routes need of its ``Channel`` row."""

    id: str
    role: str


# Every request authenticates; a known key is looked up in the database once per CALLER_TTL seconds
# per process instead of on every upload (one round trip less per request). Keys are only ever added
# (``intake channel add``), never changed, so a cached answer is the database's answer; an unknown
# key is never cached, so a new key works at once.
CALLER_TTL = 30.0
_callers: dict[tuple[str, str], tuple[float, Caller]] = {}
_callers_lock = threading.Lock()


async def get_channel(
    session: SessionDep,
    settings: SettingsDep,
    x_api_key: Annotated[str | None, Header(description="The channel's API key.")] = None,
    authorization: Annotated[str | None, Header(description="Or: Bearer <API key>.")] = None,
) -> Caller:
    key = x_api_key or (authorization.removeprefix("Bearer ").strip() if authorization else None)
    if not key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing API key: send it as X-API-Key or Bearer token")
    cache_key = (settings.db.url, hash_key(key))
    now = time.monotonic()
    hit = _callers.get(cache_key)
    if hit is not None and now - hit[0] < CALLER_TTL:
        return hit[1]
    query = select(Channel.id, Channel.role).where(Channel.api_key_sha256 == cache_key[1])
    row = await run_in_threadpool(lambda: session.execute(query).first())
    if row is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key")
    caller = Caller(id=row.id, role=row.role)
    with _callers_lock:
        _callers[cache_key] = (now, caller)
    return caller


def require(*roles: Role) -> Callable[[Caller], Awaitable[Caller]]:
    async def check(channel: Annotated[Caller, Depends(get_channel)]) -> Caller:
        if channel.role not in roles:
            wanted = " or ".join(roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this endpoint is for {wanted} keys, not {channel.role}")
        return channel

    return check


AppChannel = Annotated[Caller, Depends(require(Role.APP))]
ReviewerChannel = Annotated[Caller, Depends(require(Role.REVIEWER, Role.OPERATOR))]
OperatorChannel = Annotated[Caller, Depends(require(Role.OPERATOR))]
