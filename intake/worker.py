"""``intake worker``: rq workers that run the jobs of ``intake.jobs``.

Each worker process loads the OCR models once, before its first job, and runs jobs in-process
(rq's SimpleWorker: no fork per job, so the models are not reloaded). To keep memory flat over
thousands of jobs the supervisor recycles the process after ``worker_max_jobs`` jobs: it exits and
a fresh one takes its place.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from types import FrameType

from rq import SimpleWorker

from intake.jobs import WorkerContext, set_context
from intake.queue import BACKLOG_QUEUE, Queues
from intake.service import worker_name
from intake.settings import Settings
from ocr import sandbox

log = logging.getLogger(__name__)


def run_worker(settings: Settings, *, queue_names: list[str] | None = None, burst: bool = False,
               max_jobs: int | None = None, context: WorkerContext | None = None,
               logging_level: str = "INFO") -> int:
    """Run one worker process until it is told to stop (or, in burst mode, the queues are empty).

    rq logs each job started and finished at INFO: an operator sees the worker is alive. Its records
    go to the handlers of the root logger (``intake.startup.configure_logging``) when there are any.
    """
    context = context or WorkerContext(settings)
    set_context(context)
    queues = Queues(settings)
    chosen = [q for q in queues.all if queue_names is None or q.name in queue_names]
    if not chosen:
        raise SystemExit(f"no such queue: {queue_names}; the queues are {[q.name for q in queues.all]}")
    if any(q.name in (settings.queue.ocr_queue, BACKLOG_QUEUE) for q in chosen):  # both read documents
        # Load models, registry and catalogue now: once per process, not inside the first job.
        prescreener = context.prescreener
        prescreener.engine.warm_up()
        prescreener.registry, prescreener.catalogue  # noqa: B018
        sandbox.warm_up(sandbox.ParseBudget.of(settings.ocr))  # the PDF reader's child process
    worker = SimpleWorker(chosen, connection=queues.connection, name=worker_name())
    worker.work(burst=burst, max_jobs=max_jobs, logging_level=logging_level)
    return worker.successful_job_count


def supervise(argv: list[str]) -> int:
    """Run worker processes one after another, each for at most ``worker_max_jobs`` jobs."""
    child: subprocess.Popen[bytes] | None = None
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signal.SIGTERM)  # rq finishes the current job, then exits

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        child = subprocess.Popen([sys.executable, "-m", "intake.cli", "worker", "--no-supervise", *argv])
        code = child.wait()
        if stopping:
            break
        if code != 0:
            log.warning("worker process exited with %s; starting a new one in 5 s", code)
            time.sleep(5)
    return 0
