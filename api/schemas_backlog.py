"""Request and response bodies of the operators' backlog API (``/v1/ops/rescans``, ``/v1/ops/imports``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class RescanIn(BaseModel):
    """Which applications to re-scan (an empty criterion selects all) and how."""

    regions: list[str] = Field(default_factory=list, description="Regions (统筹区) as the policies name them")
    statuses: list[str] = Field(default_factory=list, description="Application statuses")
    verdicts: list[str] = Field(default_factory=list, description="Current verdicts")
    diseases: list[str] = Field(default_factory=list, description="Claimed 病种")
    submitted_from: dt.date | None = Field(None, description="Submitted on or after (China date)")
    submitted_to: dt.date | None = Field(None, description="Submitted on or before (China date)")
    ids: list[str] = Field(default_factory=list, max_length=100_000, description="Application ids or case ids")
    dry_run: bool = Field(True, description="Compute every diff and change nothing")
    force_ocr: bool = Field(False, description="Read every document again, whatever changed")
    batch_size: int = Field(50, ge=1, le=1000, description="Applications per queue job")


class RescanProgressOut(BaseModel):
    run_id: str
    status: str = Field(description="running or done")
    dry_run: bool
    total: int
    done: int = Field(description="Applications finished (failed ones included)")
    failed: int
    rate_per_minute: float | None = Field(description="Applications a minute since the run started")
    eta_seconds: float | None = Field(description="Time left at that rate")
    enqueued: int | None = Field(None, description="Batches sent to the backlog queue by this request")
    result: dict[str, Any] | None = Field(
        None, description='When finished: {"selected", "unchanged", "changed": [{"application_id", "case_id", '
                          '"old_verdict", "new_verdict", "problems_added", "problems_removed", "decided", '
                          '"redone"}], "versions": {"before", "after"}, "totals", ...}')


class ImportIn(BaseModel):
    root: str = Field(description="A folder of application folders, or a CSV manifest, on the server's file system")


class ImportOut(BaseModel):
    applications: int
    status: dict[str, int] = Field(description="imported, queued, already, resumed, bad")
    verdicts: dict[str, int]
    problems: dict[str, int]
    documents: int
    pages: int
    bad: list[dict[str, Any]] = Field(description="One line per bad folder or row, with its reason")
    rows: list[dict[str, Any]]
