"""Response bodies of the operators' API (``/v1/ops``)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class QueueCountsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    queued: int = Field(description="Jobs waiting for a worker")
    started: int = Field(description="Jobs a worker is running")
    failed: int = Field(description="Jobs in rq's failed registry (kept 7 days)")


class DeadLetterOut(BaseModel):
    """A document that failed every attempt on a fault of ours; re-queue it once the fault is fixed."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The document")
    application_id: str
    channel_id: str = Field(description="The app whose application it is")
    external_ref: str | None = Field(description="The app's own reference of the application")
    filename: str
    round: int
    sha256: str
    attempts: int
    last_fault: str | None = Field(description="Our last fault on it")
    error: str | None
    error_detail: str | None = Field(description="The technical cause, for operators only")
    worker: str | None = Field(description="The worker of the last attempt")
    created_at: dt.datetime = Field(description="When it was received")
    started_at: dt.datetime | None = Field(description="When its last attempt began")
    updated_at: dt.datetime = Field(description="When it became a dead letter")


class CallbackOut(BaseModel):
    """One callback delivery (its ``id`` is the ``X-Intake-Delivery`` the app receives)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: str
    channel_id: str
    external_ref: str | None
    round: int = Field(description="The submission round whose verdict it carries")
    url: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    next_attempt_at: dt.datetime = Field(description="A pending delivery is not tried again before this")
    last_error: str | None
    created_at: dt.datetime


class CallbackResentOut(CallbackOut):
    enqueued: bool = Field(
        description="False when Redis could not be reached: the delivery is pending and due, and the "
                    "reconciler sends it once Redis is back"
    )


class ReconcileOut(BaseModel):
    """What one reconciler run (re-)enqueued or declared dead."""

    model_config = ConfigDict(from_attributes=True)

    enqueued_received: list[str] = Field(description="Documents stored but never enqueued")
    requeued_lost: list[str] = Field(description="Queued documents whose message Redis no longer held")
    requeued_stuck: list[str] = Field(description="Documents whose worker died or timed out")
    dead: list[str] = Field(description="Documents out of attempts: now dead letters")
    assessments: list[str] = Field(description="Applications ready for a verdict that had none")
    callbacks: list[int] = Field(description="Callback deliveries due")
    total: int = Field(description="Jobs enqueued")
