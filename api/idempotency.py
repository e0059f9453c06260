"""``Idempotency-Key``: a retried request (same key, same content) gets the first answer again and
changes nothing; the same key with different content is refused.

The record is written in the same transaction as the request's effect, so either both exist or
neither does; two racing copies of one request collide on the primary key and the loser replays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from intake.errors import IdempotencyKeyReused, IntakeError
from intake.models import ChannelRef, IdempotencyRecord


def replay(session: Session, channel: ChannelRef, key: str | None, request_sha256: str,
           legacy_sha256: Callable[[], str] | None = None,
           mismatch: Callable[[IdempotencyRecord], IntakeError | None] | None = None) -> JSONResponse | None:
    """The stored answer to a retry of this request, or None for a first try.

    ``legacy_sha256``: the request's digest as an earlier version of this service computed it, so a
    retry that spans an upgrade is still recognised (computed only when a record exists).
    ``mismatch``: a more precise error for a key reused for another request, if the caller has one."""
    if not key:
        return None
    if len(key) > 200:
        raise IdempotencyKeyReused("Idempotency-Key is longer than 200 characters")
    record = session.get(IdempotencyRecord, (channel.id, key))
    if record is None:
        return None
    if record.request_sha256 != request_sha256 and (legacy_sha256 is None or record.request_sha256 != legacy_sha256()):
        raise (mismatch and mismatch(record)) or IdempotencyKeyReused(
            "this Idempotency-Key was already used for a different request; use a new key for a new request"
        )
    return JSONResponse(record.response, status_code=record.status_code, headers={"Idempotent-Replayed": "true"})


def remember(session: Session, channel: ChannelRef, key: str | None, request_sha256: str, status_code: int,
             body: dict[str, Any]) -> None:
    if key:
        session.add(IdempotencyRecord(channel_id=channel.id, key=key, request_sha256=request_sha256,
                                      status_code=status_code, response=body))
