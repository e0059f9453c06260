"""The operators' backlog API: re-scan runs with their progress and diffs, and backlog imports."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, status

from api.deps import OperatorChannel, QueuesDep, SessionDep, SettingsDep
from api.schemas_backlog import ImportIn, ImportOut, RescanIn, RescanProgressOut
from intake import rescan
from intake.errors import InvalidInput, NotFound
from intake.models import RescanRun, utcnow

router = APIRouter(prefix="/v1/ops", tags=["operators"])


def _progress(session: SessionDep, run_id: str, *, enqueued: int | None = None) -> RescanProgressOut:
    run = session.get(RescanRun, run_id)
    if run is None:
        raise NotFound(f"no re-scan run {run_id}")
    now = rescan.progress(session, run_id)
    started = now.started_at if now.started_at.tzinfo else now.started_at.replace(tzinfo=utcnow().tzinfo)
    minutes = max((utcnow() - started).total_seconds() / 60, 1e-6)
    finished = now.done + now.failed
    rate = finished / minutes if finished else None
    eta = (now.total - finished) / rate * 60 if rate else None
    result = rescan.run_result(session, run_id) if now.finished else None
    return RescanProgressOut(run_id=run_id, status=run.status, dry_run=run.dry_run, total=now.total, done=finished,
                             failed=now.failed, rate_per_minute=round(rate, 2) if rate else None,
                             eta_seconds=round(eta, 1) if eta is not None else None, enqueued=enqueued,
                             result=result)


@router.post("/rescans", response_model=RescanProgressOut, status_code=status.HTTP_202_ACCEPTED)
def start_rescan(body: RescanIn, channel: OperatorChannel, session: SessionDep,
                 queues: QueuesDep) -> RescanProgressOut:
    """Start a re-scan of the selected applications on the low-priority backlog queue. With
    ``dry_run`` (the default) nothing changes: the diffs show what would. Follow it with GET."""
    selection = rescan.Selection(regions=tuple(body.regions), statuses=tuple(body.statuses),
                                 verdicts=tuple(body.verdicts), diseases=tuple(body.diseases),
                                 submitted_from=body.submitted_from, submitted_to=body.submitted_to,
                                 ids=tuple(body.ids))
    run = rescan.start_run(session, selection, dry_run=body.dry_run, force_ocr=body.force_ocr, actor=channel.id,
                           batch_size=body.batch_size)
    session.commit()
    enqueued = rescan.enqueue_run(session, queues, run.id)
    return _progress(session, run.id, enqueued=enqueued)


@router.get("/rescans/{run_id}", response_model=RescanProgressOut)
def rescan_progress(run_id: str, channel: OperatorChannel, session: SessionDep) -> RescanProgressOut:
    """A run's progress (done/total, rate, time left) and, once finished, its report of diffs."""
    return _progress(session, run_id)


@router.post("/rescans/{run_id}/resume", response_model=RescanProgressOut)
def resume_rescan(run_id: str, channel: OperatorChannel, session: SessionDep, queues: QueuesDep) -> RescanProgressOut:
    """Send a run's unfinished batches to the queue again (after Redis lost them or a worker died);
    finished applications are not redone."""
    if session.get(RescanRun, run_id) is None:
        raise NotFound(f"no re-scan run {run_id}")
    return _progress(session, run_id, enqueued=rescan.enqueue_run(session, queues, run_id))


@router.post("/imports", response_model=ImportOut)
def import_backlog(body: ImportIn, channel: OperatorChannel, settings: SettingsDep, queues: QueuesDep) -> ImportOut:
    """Import a backlog tree or CSV manifest on the server: each application stored and submitted,
    its documents sent to the low-priority backlog queue. Importing it again creates nothing."""
    from intake import backlog
    from intake.jobs import WorkerContext

    root = Path(body.root)
    if not root.exists():
        raise InvalidInput(f"{body.root} does not exist on the server")
    ctx = WorkerContext(settings)
    ctx.queues = queues  # type: ignore[misc]
    return ImportOut(**backlog.summary(backlog.import_tree(ctx, root, local=False)))
