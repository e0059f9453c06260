"""One real worker over both corpora of bad and hostile files: per file its outcome, code, seconds and
the worker's RSS after it; the worker's peak RSS over the run (target: under 1.5 GB) and the slowest file.

The files are ``tests/api/badinputs.py`` and ``tests/api/hostile.py`` (issue 10), built in code. Each is
checked as the upload would check it (``intake.upload.inspect_upload``, in this process): a refused
file is printed with its code and the seconds of that check. Every accepted file goes alone into an
application of a private deployment (own redis-server, a fresh SQLite or PostgreSQL database, a
temporary file store: ``bench/_service.py``), all submitted at once, then ONE
``intake worker --burst --no-supervise`` subprocess works through them in corpus order.

The worker's RSS (and that of the worker with its children, e.g. a PDF-parsing sandbox) is sampled
every 0.1 s; the database is polled every 0.25 s for documents that ended. A document still
``processing`` after ``--stall`` seconds, or the worker's processes past ``--max-rss-mb`` (the
machine's safety, not the target), gets the worker killed (SIGKILL to its process group): the file
is printed as ``hung`` or ``killed``, and a fresh worker takes the rest of the queue. A worker that
dies on its own is printed as ``died`` for the file it was on, and replaced too.

    .venv/bin/python bench/bench_hostile.py                      # both corpora, 64 files: ~1 min with
                                                                 # the issue-10 fixes, ~7 min before them
    .venv/bin/python bench/bench_hostile.py --only hostile --stall 120
    .venv/bin/python bench/bench_hostile.py --db postgres --cpu-threads 2

Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _service import REPO, AppSpec, Sampler, ServiceEnv, load_and_submit, machine_load, service_env

TARGET_PEAK_MB = 1536
APPLICATION = {"applicant_name": "张三", "id_number": "230102195703152419", "disease": "糖尿病",
               "region": "绥化市", "application_date": "2026-03-05"}


@dataclass
class Row:
    corpus: str
    name: str
    expected: str
    size: int
    upload: str = ""  # "accepted" or the refusal's code
    outcome: str = ""  # refused / done / failed / hung / killed / died / lost
    code: str = ""
    seconds: float = 0.0  # the worker's, from the database (or the upload check's, when refused)
    rss_after_mb: float = 0.0
    peak_mb: float = 0.0  # the worker's highest RSS since the document before it ended
    doc_id: str | None = None


@dataclass
class Watch:
    """What the sampler saw of the current worker: its RSS now and the peaks of the run."""

    pid: int = 0
    rss_mb: float = 0.0
    peak_mb: float = 0.0
    window_peak_mb: float = 0.0  # since the last document ended (reset by the poller)
    peak_tree_mb: float = 0.0
    tree_mb: float = 0.0
    peaks_by_worker: list[float] = field(default_factory=list)

    def sample(self) -> None:
        import psutil

        if not self.pid:
            return
        try:
            me = psutil.Process(self.pid)
            rss = me.memory_info().rss / 2**20
            tree = rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    tree += child.memory_info().rss / 2**20
        except psutil.Error:
            return
        self.rss_mb, self.tree_mb = rss, tree
        self.peak_mb, self.peak_tree_mb = max(self.peak_mb, rss), max(self.peak_tree_mb, tree)
        self.window_peak_mb = max(self.window_peak_mb, rss)
        if self.peaks_by_worker:
            self.peaks_by_worker[-1] = max(self.peaks_by_worker[-1], rss)


def corpus_rows(only: str | None) -> list[tuple[Row, bytes]]:
    from tests.api.badinputs import corpus as bad_corpus
    from tests.api.hostile import corpus as hostile_corpus

    rows = []
    for label, items in (("bad", bad_corpus()), ("hostile", hostile_corpus())):
        if only and only != label:
            continue
        for item in items:
            data = item.data
            rows.append((Row(label, item.name, "/".join(sorted(item.outcomes)), len(data)), data))
    return rows


def check_uploads(rows: list[tuple[Row, bytes]], env: ServiceEnv) -> None:
    from intake.errors import FileTooLarge
    from intake.upload import inspect_upload
    from ocr.errors import OcrError

    settings = env.settings()
    for row, data in rows:
        started = time.perf_counter()
        try:
            inspect_upload(data, settings)
            row.upload = "accepted"
        except FileTooLarge:
            row.upload = row.code = "file_too_large"
            row.outcome = "refused"
        except OcrError as exc:
            row.upload = row.code = exc.code
            row.outcome = "refused"
        row.seconds = time.perf_counter() - started


def _kill(proc) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL the worker's process group (it leads one: ``start_new_session``), then reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run(env: ServiceEnv, rows: list[Row], args: argparse.Namespace) -> tuple[Watch, int, float]:
    """Work the queue with one worker at a time; returns what was watched, workers started, wall time."""
    from sqlalchemy import select

    from intake.models import Document

    by_id = {row.doc_id: row for row in rows if row.doc_id}
    watch = Watch()
    sampler = Sampler(watch.sample, 0.1)
    sampler.start()
    workers = 0
    t0 = time.perf_counter()
    try:
        while True:
            open_ids = [doc_id for doc_id, row in by_id.items() if not row.outcome]
            if not open_ids:
                break
            if workers > len(by_id) + 2:  # workers that die before any document: stop, say so
                for doc_id in open_ids:
                    by_id[doc_id].outcome = "lost"
                break
            proc = env.worker(cpu_threads=args.cpu_threads, log=f"worker-{workers}.log")
            workers += 1
            watch.pid, watch.rss_mb, watch.window_peak_mb = proc.pid, 0.0, 0.0
            watch.peaks_by_worker.append(0.0)
            print(f"  worker {workers} (pid {proc.pid}) started for {len(open_ids)} documents", flush=True)
            while True:
                time.sleep(0.25)
                with env.sessions()() as session:
                    docs = session.execute(select(Document.id, Document.status, Document.error_code,
                                                  Document.started_at, Document.finished_at)
                                           .where(Document.id.in_(open_ids))).all()
                processing = None
                for doc in docs:
                    row = by_id[doc.id]
                    if doc.status in ("done", "failed", "dead") and not row.outcome:
                        row.outcome, row.code = doc.status, doc.error_code or ""
                        if doc.started_at and doc.finished_at:
                            row.seconds = (doc.finished_at - doc.started_at).total_seconds()
                        row.rss_after_mb, row.peak_mb = watch.rss_mb, watch.window_peak_mb
                        watch.window_peak_mb = watch.rss_mb
                        print(f"  {_cell(row.name, 40)} {row.outcome:7s} {row.code:16s} {row.seconds:7.1f} s  "
                              f"RSS {row.rss_after_mb:6.0f} MB (peak {row.peak_mb:6.0f})", flush=True)
                    elif doc.status == "processing":
                        processing = (row, doc.started_at)
                if processing is not None:
                    row, started_at = processing
                    busy = time.perf_counter() - t0 if started_at is None else _age(started_at)
                    reason = ("hung" if busy > args.stall else
                              "killed" if watch.tree_mb > args.max_rss_mb else "")
                    if reason:
                        _kill(proc)
                        row.outcome, row.seconds = reason, busy
                        row.rss_after_mb, row.peak_mb = watch.rss_mb, watch.window_peak_mb
                        row.code = (f"> {args.stall:.0f} s" if reason == "hung"
                                    else f"RSS > {args.max_rss_mb:.0f} MB")
                        print(f"  {_cell(row.name, 40)} {reason}: worker killed ({row.code})", flush=True)
                        break
                if proc.poll() is not None:
                    if processing is not None and not processing[0].outcome:
                        row = processing[0]
                        row.outcome, row.code = "died", f"exit {proc.returncode}"
                        row.rss_after_mb, row.peak_mb = watch.rss_mb, watch.window_peak_mb
                        print(f"  {_cell(row.name, 40)} died: worker exit code {proc.returncode}", flush=True)
                    break
            if proc.poll() is None:
                _kill(proc)
            if all(row.outcome for row in by_id.values()):
                break
            if proc.returncode == 0 and not any(r.outcome in ("hung", "killed", "died") for r in by_id.values()
                                                if r.doc_id in open_ids):
                for row in by_id.values():  # the worker emptied the queue but some documents never ended
                    row.outcome = row.outcome or "lost"
                break
    finally:
        sampler.stop()
    return watch, workers, time.perf_counter() - t0


def _age(started_at) -> float:  # type: ignore[no-untyped-def]
    import datetime as dt

    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=dt.UTC)
    return (dt.datetime.now(dt.UTC) - started_at).total_seconds()


def _cell(text: str, width: int) -> str:
    """``text`` in ``width`` terminal columns: control characters escaped, cut with … when longer."""
    shown = text if text.isprintable() else repr(text)[1:-1]
    if _width(shown) > width:
        while _width(shown) > width - 1:
            shown = shown[:-1]
        shown += "…"
    return shown + " " * (width - _width(shown))


def _width(text: str) -> int:
    return sum(2 if "\u2e80" <= ch <= "\uffff" else 1 for ch in text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["bad", "hostile"], help="one corpus only (default: both)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cpu-threads", type=int, default=1, help="onnxruntime intra-op threads (default 1)")
    parser.add_argument("--stall", type=float, default=180.0,
                        help="kill the worker when one document takes longer than this (default 180 s)")
    parser.add_argument("--max-rss-mb", type=float, default=6144.0,
                        help="kill the worker when it and its children pass this RSS (default 6144 MB)")
    args = parser.parse_args()

    import psutil

    entries = corpus_rows(args.only)
    print(f"{machine_load()} at start; {len(entries)} files; db={args.db}; cpu_threads={args.cpu_threads}; "
          f"{psutil.virtual_memory().available / 2**30:.1f} GB available; code from {REPO}\n", flush=True)
    with service_env(args.db) as env:
        check_uploads(entries, env)
        accepted = [(row, data) for row, data in entries if row.upload == "accepted"]
        app_ids = load_and_submit(env, [AppSpec(dict(APPLICATION), [(row.name, data)]) for row, data in accepted])
        from sqlalchemy import select

        from intake.models import Document

        with env.sessions()() as session:
            for (row, _), app_id in zip(accepted, app_ids, strict=True):
                row.doc_id = session.scalars(select(Document.id).where(Document.application_id == app_id)).one()
        print(f"{len(entries) - len(accepted)} refused at upload, {len(accepted)} accepted and queued\n", flush=True)
        watch, workers, wall = run(env, [row for row, _ in entries], args)

    rows = [row for row, _ in entries]
    print(f"\n{'corpus':8s} {_cell('file', 40)} {'expected':20s} {'KB':>6s} {'outcome':8s} {'code':18s} "
          f"{'seconds':>8s} {'RSS after':>10s} {'peak':>8s}")
    for row in rows:
        seconds = f"{row.seconds:.2f}" + (" u" if row.outcome == "refused" else "")
        rss = f"{row.rss_after_mb:.0f} MB" if row.doc_id and row.rss_after_mb else "-"
        peak = f"{row.peak_mb:.0f} MB" if row.doc_id and row.peak_mb else "-"
        print(f"{row.corpus:8s} {_cell(row.name, 40)} {row.expected:20s} {row.size / 1024:6.0f} {row.outcome:8s} "
              f"{row.code[:18]:18s} {seconds:>8s} {rss:>10s} {peak:>8s}")
    worked = [row for row in rows if row.doc_id]
    print("\n(seconds: the worker's on the document, from the database; 'u': the upload check's, in this process."
          "\n RSS after: the worker's when the document was seen ended; peak: its highest since the document"
          " before it ended, polled every 0.25 s)")
    if worked:
        slowest = max(worked, key=lambda r: r.seconds)
        print(f"slowest file: {slowest.name!r} ({slowest.corpus}) {slowest.outcome} in {slowest.seconds:.1f} s")
    print(f"peak RSS of the worker: {watch.peak_mb:.0f} MB (target < {TARGET_PEAK_MB} MB: "
          f"{'MET' if watch.peak_mb < TARGET_PEAK_MB else 'NOT MET'}); with its children: {watch.peak_tree_mb:.0f} MB")
    print(f"workers started: {workers} (peaks {', '.join(f'{p:.0f}' for p in watch.peaks_by_worker)} MB); "
          f"wall {wall:.0f} s; outcomes: "
          + ", ".join(f"{o} {sum(r.outcome == o for r in rows)}" for o in sorted({r.outcome for r in rows})))
    print(f"{machine_load()} at end")


if __name__ == "__main__":
    main()
