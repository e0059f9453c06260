"""Dependencies of the routes: settings, a database session, the file store, the queues, and the
calling channel, authenticated by its API key and checked for its role.

Authentication errors are ``intake.errors.Unauthorized`` (401) and ``Forbidden`` (403), mapped to
responses by ``api.errors``; ``hash_key`` lives in ``intake.channels`` and is re-exported here."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from intake.channels import hash_key
from intake.db import session_factory
from intake.errors import Forbidden, Unauthorized
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


@dataclass(frozen=True)
class Caller:
    """The authenticated channel of a request: what the routes need of its ``Channel`` row."""

    id: str
    role: str


# Two ways to send the same key, declared as OpenAPI security schemes (the Authorize button of
# /docs). auto_error=False: get_channel raises our own errors, with messages that say what to send.
api_key_header = APIKeyHeader(
    name="X-API-Key",
    scheme_name="X-API-Key",
    description="The channel's API key, as made by `intake channel add` or `intake channel rotate`.",
    auto_error=False,
)
bearer_token = HTTPBearer(
    scheme_name="Bearer",
    bearerFormat="mtb_…",
    description="The same API key as `Authorization: Bearer <key>`; no other Authorization scheme is accepted.",
    auto_error=False,
)
ASK_FOR_A_KEY = "send it as `Authorization: Bearer <API key>` or as `X-API-Key: <API key>`"

# Every request authenticates. A key that worked is looked up in the database again only after
# CALLER_TTL seconds in this process, instead of on every upload (one round trip less per request).
# The database stays the authority: a key revoked or replaced (`intake channel revoke` / `rotate`,
# from any process) stops working in every API process within CALLER_TTL seconds, and at once in a
# process that had not used it in that time. Unknown and revoked keys are never cached, so a new key
# works at once. Entries older than CALLER_TTL are dropped whenever one is added.
CALLER_TTL = 5.0
_clock: Callable[[], float] = time.monotonic
_callers: dict[tuple[str, str], tuple[float, Caller]] = {}
_callers_lock = threading.Lock()


def _presented_key(x_api_key: str | None, authorization: str | None,
                   bearer: HTTPAuthorizationCredentials | None) -> str:
    """The API key a request carries, from X-API-Key or an ``Authorization: Bearer`` header."""
    if authorization and authorization.strip() and bearer is None:  # HTTPBearer: None for any other scheme
        raise Unauthorized(f"the Authorization header does not carry a Bearer token: {ASK_FOR_A_KEY}")
    token = bearer.credentials if bearer is not None else None
    if x_api_key and token and x_api_key != token:
        raise Unauthorized("X-API-Key and the Bearer token are two different API keys: send one of them")
    key = x_api_key or token
    if not key:
        raise Unauthorized(f"missing API key: {ASK_FOR_A_KEY}")
    return key


async def get_channel(
    session: SessionDep,
    settings: SettingsDep,
    x_api_key: Annotated[str | None, Depends(api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_token)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Caller:
    key = _presented_key(x_api_key, authorization, bearer)
    cache_key = (settings.db.url, hash_key(key))
    now = _clock()
    hit = _callers.get(cache_key)
    if hit is not None and now - hit[0] < CALLER_TTL:
        return hit[1]
    query = select(Channel.id, Channel.role, Channel.revoked_at).where(Channel.api_key_sha256 == cache_key[1])
    row = await run_in_threadpool(lambda: session.execute(query).first())
    if row is None:
        raise Unauthorized("unknown API key: check the key, or ask the service's operators for one")
    if row.revoked_at is not None:
        raise Unauthorized("this API key was revoked: ask the service's operators for a new one")
    caller = Caller(id=row.id, role=row.role)
    with _callers_lock:
        for stale in [k for k, (at, _) in _callers.items() if now - at >= CALLER_TTL]:
            del _callers[stale]
        _callers[cache_key] = (now, caller)
    return caller


def require(*roles: Role) -> Callable[[Caller], Awaitable[Caller]]:
    async def check(channel: Annotated[Caller, Depends(get_channel)]) -> Caller:
        if channel.role not in roles:
            wanted = " or ".join(roles)
            raise Forbidden(f"this endpoint is for {wanted} keys, not {channel.role}")
        return channel

    return check


AppChannel = Annotated[Caller, Depends(require(Role.APP))]
ReviewerChannel = Annotated[Caller, Depends(require(Role.REVIEWER, Role.OPERATOR))]
OperatorChannel = Annotated[Caller, Depends(require(Role.OPERATOR))]
