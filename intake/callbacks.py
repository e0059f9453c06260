"""Calling an app back when its application has a verdict.

The body is the JSON below; the app verifies it with the channel's callback secret:

    X-Intake-Timestamp: 1790000000
    X-Intake-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

Deliveries live in the database (``callbacks`` table): a failed one is tried again with growing
delays (by the reconciler) until ``callback_max_attempts``, then marked failed for operators.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from intake.models import Application, CallbackDelivery, Case, Channel, utcnow
from intake.settings import Settings


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, max_age_seconds: int = 300) -> bool:
    """What an app does with a callback (also used by our tests): signature and freshness."""
    if abs(time.time() - int(timestamp)) > max_age_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(app: Application, case: Case) -> dict[str, Any]:
    return {
        "event": "application.assessed",
        "application_id": app.id,
        "external_ref": app.external_ref,
        "round": case.round,
        "verdict": case.verdict,
        "problems": case.problems,
        "notice": case.notice,
    }


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 3600))


def deliver(sessions: sessionmaker[Session], delivery_id: int, *, settings: Settings) -> str:
    """Try one delivery now; record the outcome. Idempotent: a delivered callback is not re-sent."""
    with sessions.begin() as session:
        delivery = session.get(CallbackDelivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return "skipped"
        app = session.get(Application, delivery.application_id)
        case = session.get(Case, delivery.case_id)
        channel = session.get(Channel, app.channel_id) if app else None
        if app is None or case is None or channel is None:
            delivery.status, delivery.last_error = "failed", "application, case or channel is gone"
            return "failed"
        body = json.dumps(payload(app, case), ensure_ascii=False, separators=(",", ":")).encode()
        url, secret = delivery.url, channel.callback_secret
    timestamp = str(int(time.time()))
    error: str | None = None
    try:
        response = httpx.post(
            url, content=body, timeout=settings.queue.callback_timeout_seconds,
            headers={"Content-Type": "application/json", "X-Intake-Timestamp": timestamp,
                     "X-Intake-Signature": sign(secret, timestamp, body)},
        )
        if response.status_code >= 300:
            error = f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    with sessions.begin() as session:
        delivery = session.get(CallbackDelivery, delivery_id)
        assert delivery is not None
        delivery.attempts += 1
        if error is None:
            delivery.status, delivery.last_error = "delivered", None
            return "delivered"
        delivery.last_error = error
        if delivery.attempts >= settings.queue.callback_max_attempts:
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)
        return "retry later"
