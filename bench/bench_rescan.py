"""Backlog import and re-scan throughput on this machine, and the memory of the process.

1. Import (``intake.backlog``, queue mode): the bundled sample applications (distinct files, so no
   OCR cache hit) imported into a fresh private deployment (own redis-server, a fresh database),
   their documents read by ``intake worker --burst -q backlog -q assess`` processes: one worker,
   then two. Applications and pages per minute over the database's own timestamps (first document
   claimed to last case written; model loading excluded).
2. Re-scan (``intake.rescan``, in-process, one process) of a backlog of ``--documents`` documents
   (5,000 by default): the samples pre-screened once (OCR cached in ``--cache``), then their
   application, document and case rows cloned until the backlog holds that many documents. Then,
   each a timed dry run:
   - assessment only: the registry changed (a hospital's grade) for every application;
   - classification from cached OCR and seal findings: the classifier version bumped, on
     ``--classification-docs`` of them;
   - OCR: ``force_ocr`` on ``--ocr-docs`` documents, side by side with the worker's own reading of
     the same files (``Prescreener.analyse_file`` on an empty cache): the ratio is the figure.
   Targets: assessment ≥ 500 documents/s, classification ≥ 30 documents/s per core, OCR equal to
   the workers' own throughput. Each depth is printed with both rates: documents per second of
   wall time and per second of this process's CPU time (per core: what a shared, noisy machine
   does not move), with the resident memory after it.

    .venv/bin/python bench/bench_rescan.py                           # 5,000 documents, PostgreSQL import
    .venv/bin/python bench/bench_rescan.py --documents 300 --skip-import   # a quick run (a few minutes)
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _service import REPO, machine_load, processing_window, progress, service_env

SAMPLES = REPO / "fixtures" / "samples"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_folders(n: int | None = None) -> list[Path]:
    folders = sorted(p for p in SAMPLES.iterdir() if (p / "application.json").is_file())
    return folders[:n] if n else folders


# --- 1. import with one and two workers -----------------------------------------------------------

def bench_import(apps: int, workers_list: list[int], db: str, timeout: float) -> None:
    from intake import backlog
    from intake.jobs import WorkerContext
    from intake.queue import Queues

    tree = Path(tempfile.mkdtemp(prefix="bench-import-"))
    for folder in sample_folders(apps):
        shutil.copytree(folder, tree / folder.name, ignore=shutil.ignore_patterns("truth.json"))
    print(f"import: {apps} sample applications, {db}, workers {workers_list} ({machine_load()})")
    rows = []
    try:
        for workers in workers_list:
            with service_env(db) as env:
                ctx = WorkerContext(env.settings())
                ctx.queues = Queues(env.settings())  # type: ignore[misc]
                t0 = time.perf_counter()
                outcomes = backlog.import_tree(ctx, tree, local=False)
                stored = time.perf_counter() - t0
                procs = [env.worker(cpu_threads=1, queues=["backlog", "assess"], log=f"w{i}.log")
                         for i in range(workers)]
                while any(p.poll() is None for p in procs) and time.perf_counter() - t0 < timeout:
                    time.sleep(0.5)
                state = progress(env)
                window, _ = processing_window(env)
                env.stop_all()
            queued = sum(o.status == "queued" for o in outcomes)
            rows.append((workers, queued, state, window, stored))
            print(f"  {workers} worker(s): {state.apps_with_case}/{state.apps_total} applications assessed, "
                  f"{state.pages_done} pages in {window:.1f} s (storing and enqueueing took {stored:.1f} s)",
                  flush=True)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    print(f"\n{'workers':>7s} {'apps':>5s} {'pages':>5s} {'window s':>8s} {'apps/min':>8s} {'pages/min':>9s}")
    for workers, _queued, state, window, _stored in rows:
        print(f"{workers:7d} {state.apps_with_case:5d} {state.pages_done:5d} {window:8.1f} "
              f"{60 * state.apps_with_case / window:8.1f} {60 * state.pages_done / window:9.1f}")
    if len(rows) == 2:
        print(f"two workers / one: {(rows[1][2].pages_done / rows[1][3]) / (rows[0][2].pages_done / rows[0][3]):.2f}x")


# --- 2. re-scan at each depth ------------------------------------------------------------------------

def seeded_backlog(root: Path, cache: Path, docs: int):  # type: ignore[no-untyped-def]
    """A context over a backlog of ``docs`` documents: the samples pre-screened, then cloned."""
    from sqlalchemy import select

    from intake.jobs import WorkerContext
    from intake.local import InlineDispatch, prescreen_folder
    from intake.models import Application, Case, Document, new_id
    from intake.prescreen import Prescreener
    from intake.settings import Settings

    prescreener = Prescreener(Settings(db={"url": f"sqlite:///{cache}"}))
    ctx = WorkerContext(Settings(db={"url": f"sqlite:///{root / 'backlog.db'}"}, storage={"root": root / "files"}))
    ctx.prescreener = prescreener  # type: ignore[misc]
    ctx.dispatch = InlineDispatch(ctx)  # type: ignore[misc]
    t0 = time.perf_counter()
    for folder in sample_folders():
        prescreen_folder(ctx, folder)
    print(f"  seeded {len(sample_folders())} samples in {time.perf_counter() - t0:.0f} s "
          f"(OCR cache {cache}: the second run reads nothing)", flush=True)
    with ctx.sessions.begin() as session:
        originals = session.scalars(select(Application)).all()
        count = sum(len(a.documents) for a in originals)
        n = 0
        while count < docs:
            source = originals[n % len(originals)]
            n += 1
            app = Application(**{c: getattr(source, c) for c in ("channel_id", "applicant_name", "id_number",
                                                                 "disease", "region", "application_date", "status",
                                                                 "round", "submitted_at")},
                              id=new_id(), external_ref=f"{source.external_ref}-copy{n}")
            session.add(app)
            ids = {}
            for doc in source.documents:
                ids[doc.id] = new_id()
                session.add(Document(**{c: getattr(doc, c) for c in ("sha256", "filename", "media_type", "size_bytes",
                                                                     "round", "status", "report")},
                                     id=ids[doc.id], application_id=app.id))
            case = session.scalars(select(Case).where(Case.application_id == source.id)).one()
            report = json.loads(json.dumps(case.report).replace(source.id, app.id))
            for old, new in ids.items():
                report = json.loads(json.dumps(report).replace(old, new))
            session.add(Case(application_id=app.id, round=case.round, verdict=case.verdict, problems=case.problems,
                             notice=case.notice, report=report, submitted_at=case.submitted_at,
                             review_due=case.review_due, versions=case.versions))
            count += len(source.documents)
            if n % 200 == 0:
                session.flush()
    return ctx, count


def timed_run(ctx, selection, *, force_ocr: bool = False):  # type: ignore[no-untyped-def]
    """A dry run over ``selection``: its result, documents, wall seconds and this process's CPU seconds."""
    from sqlalchemy import func, select

    from intake import rescan
    from intake.models import RescanItem

    with ctx.sessions.begin() as session:
        run_id = rescan.start_run(session, selection, dry_run=True, force_ocr=force_ocr, actor="bench").id
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = rescan.run_local(ctx, run_id)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    with ctx.sessions() as session:
        docs = session.scalar(select(func.sum(RescanItem.documents)).where(RescanItem.run_id == run_id)) or 0
    return result, docs, seconds, cpu


@dataclass
class Row:
    depth: str
    documents: int
    seconds: float
    cpu: float
    target: str
    met: str
    rss: float
    redone: dict[str, int]

    @property
    def rate(self) -> float:
        return self.documents / self.seconds if self.seconds else float("nan")

    @property
    def cpu_rate(self) -> float:
        return self.documents / self.cpu if self.cpu else float("nan")


def _met(rate: float, cpu_rate: float, target: float) -> str:
    return f"wall {'yes' if rate >= target else 'NO'}, CPU {'yes' if cpu_rate >= target else 'NO'}"


def bench_rescan(docs: int, classification_docs: int, ocr_docs: int, cache: Path) -> list[Row]:
    from intake import rescan, versions
    from intake.prescreen import Prescreener
    from intake.settings import REPO_ROOT

    root = Path(tempfile.mkdtemp(prefix="bench-rescan-"))
    rows: list[Row] = []
    try:
        print(f"\nre-scan: a backlog of {docs} documents, in-process, one process ({machine_load()})")
        ctx, count = seeded_backlog(root, cache, docs)
        print(f"  backlog: {count} documents; RSS {rss_mb():.0f} MB", flush=True)
        base: Prescreener = ctx.prescreener

        # Assessment only: a hospital's grade changed in the registry.
        registry = root / "hospitals.csv"
        text = (REPO_ROOT / "fixtures" / "registry" / "hospitals.csv").read_text("utf-8")
        registry.write_text(text.replace(",荷泉社区卫生服务中心,一级", ",荷泉社区卫生服务中心,二级甲等"), "utf-8")
        changed = Prescreener(base.settings, registry_path=registry)
        changed.engine, changed.seal_reader = base.engine, base.seal_reader
        ctx.prescreener = changed
        # Loaded once per process, before timing: the data files, and the catalogue's term index
        # (compiled on first use, about half a second): loading, not re-scanning.
        t0 = time.perf_counter()
        changed.registry, changed.policies  # noqa: B018
        changed.catalogue.mentions("糖尿病")
        print(f"  registry, policies and catalogue loaded in {time.perf_counter() - t0:.2f} s (not timed below)")
        result, n, seconds, cpu = timed_run(ctx, rescan.Selection())
        rows.append(Row("assessment", n, seconds, cpu, "≥ 500 docs/s", _met(n / seconds, n / cpu, 500), rss_mb(),
                        result["redone"]))
        print(f"  assessment: {n} documents in {seconds:.1f} s ({cpu:.1f} s CPU); redone {result['redone']}, "
              f"changed {len(result['changed'])}", flush=True)

        # Classification from the cached OCR and seal findings: the classifier version bumped.
        ctx.prescreener = base
        versions.CLASSIFIER_VERSION += "-bench"
        ids = _first_ids(ctx, classification_docs)
        result, n, seconds, cpu = timed_run(ctx, rescan.Selection(ids=tuple(ids)))
        rows.append(Row("classification", n, seconds, cpu, "≥ 30 docs/s per core", _met(n / seconds, n / cpu, 30),
                        rss_mb(), result["redone"]))
        print(f"  classification: {n} documents in {seconds:.1f} s ({cpu:.1f} s CPU); redone {result['redone']}",
              flush=True)

        # OCR: forced, side by side with the worker's own reading of the same files; the models
        # warmed up first on another file (a worker reads many), so neither side pays their start.
        ids = _first_ids(ctx, ocr_docs)
        t0 = time.perf_counter()
        _worker_reading(ctx, _last_ids(ctx, 1), limit=1)
        print(f"  OCR models warmed up in {time.perf_counter() - t0:.1f} s (not timed)", flush=True)
        result, n, seconds, cpu = timed_run(ctx, rescan.Selection(ids=tuple(ids)), force_ocr=True)
        own_docs, own_seconds, own_cpu = _worker_reading(ctx, ids)
        ratio, cpu_ratio = (n / seconds) / (own_docs / own_seconds), (n / cpu) / (own_docs / own_cpu)
        rows.append(Row("ocr", n, seconds, cpu,
                        f"= worker's own {own_docs / own_seconds:.2f} docs/s, {own_docs / own_cpu:.2f}/CPU-s",
                        f"ratio wall {ratio:.2f}, CPU {cpu_ratio:.2f}", rss_mb(), result["redone"]))
        print(f"  ocr: {n} documents in {seconds:.1f} s ({cpu:.1f} s CPU); the worker's own reading of them "
              f"{own_docs} documents in {own_seconds:.1f} s ({own_cpu:.1f} s CPU)", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print_rows(rows)
    return rows


def print_rows(rows: list[Row]) -> None:
    print(f"\n{'depth':<15s} {'docs':>5s} {'wall s':>7s} {'docs/s':>7s} {'CPU s':>6s} {'docs/CPU-s':>10s} "
          f"{'RSS MB':>6s}  {'target':<40s} met")
    for r in rows:
        print(f"{r.depth:<15s} {r.documents:5d} {r.seconds:7.1f} {r.rate:7.1f} {r.cpu:6.1f} {r.cpu_rate:10.1f} "
              f"{r.rss:6.0f}  {r.target:<40s} {r.met}")
    print(f"peak resident memory of this process: {peak_mb():.0f} MB "
          "(docs/CPU-s: documents per second of this process's CPU time, i.e. per core; the machine is shared, "
          "so wall rates move with its load)")


def _first_ids(ctx, documents: int) -> list[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from intake.models import Application

    ids, total = [], 0
    with ctx.sessions() as session:
        for app in session.scalars(select(Application).order_by(Application.created_at, Application.id)):
            if total >= documents:
                break
            ids.append(app.id)
            total += len(app.documents)
    return ids


def _last_ids(ctx, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from intake.models import Application

    with ctx.sessions() as session:
        return list(session.scalars(select(Application.id).order_by(Application.created_at.desc(),
                                                                    Application.id.desc()).limit(count)))


def _worker_reading(ctx, application_ids: list[str], *,  # type: ignore[no-untyped-def]
                    limit: int | None = None) -> tuple[int, float, float]:
    """The worker's own reading (``analyse_file``, the OCR cache emptied first) of the same files
    (the first ``limit`` of them): documents, wall seconds, CPU seconds."""
    from sqlalchemy import delete, select

    from intake.models import Application, OcrCacheEntry
    from intake.service import application_data

    p = ctx.prescreener
    with ctx.sessions() as session:
        work = [(d.filename, d.sha256, application_data(a), a.region)
                for a in session.scalars(select(Application).where(Application.id.in_(application_ids)))
                for d in a.documents if d.report and not d.report.get("error")][:limit]
    with p.sessions.begin() as session:
        session.execute(delete(OcrCacheEntry).where(OcrCacheEntry.sha256.in_([w[1] for w in work]),
                                                    OcrCacheEntry.fingerprint == p.fingerprint))
    t0, cpu0 = time.perf_counter(), time.process_time()
    for name, sha256, data, region in work:
        p.analyse_file(name, ctx.files.get(sha256), data, p.policies.for_region(region))
    return len(work), time.perf_counter() - t0, time.process_time() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", "--docs", dest="docs", type=int, default=5000,
                        help="documents in the re-scanned backlog (5000; 300 for a quick run)")
    parser.add_argument("--classification-docs", type=int, default=None,
                        help="documents re-classified (300, or --documents if fewer)")
    parser.add_argument("--ocr-docs", type=int, default=None, help="documents read again (12; 4 under 1000 documents)")
    parser.add_argument("--import-apps", type=int, default=8, help="sample applications imported (8)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres", help="import deployment")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench_rescan_ocr_cache.db")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    classification_docs = args.classification_docs or min(300, args.docs)
    ocr_docs = args.ocr_docs or (12 if args.docs >= 1000 else 4)
    if not args.skip_import:
        bench_import(args.import_apps, args.workers, args.db, args.timeout)
    bench_rescan(args.docs, classification_docs, ocr_docs, args.cache)


if __name__ == "__main__":
    main()
