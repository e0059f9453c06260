"""Backlog import and re-scan throughput on this machine, and the memory of the process.

1. Import (``intake.backlog``, queue mode): the bundled sample applications (distinct files, so no
   OCR cache hit) imported into a fresh private deployment (own redis-server, a fresh database),
   their documents read by ``intake worker --burst -q backlog -q assess`` processes: one worker,
   then two. Applications and pages per minute over the database's own timestamps (first document
   claimed to last case written; model loading excluded).
2. Re-scan (``intake.rescan``, in-process, one core) of a backlog of ``--docs`` documents (5,000 by
   default): the samples pre-screened once (OCR cached in ``--cache``), then their application,
   document and case rows cloned until the backlog holds that many documents. Then, each timed:
   - assessment only: the registry changed (a hospital's grade) for every application;
   - classification from cached OCR and seal findings: the classifier version bumped, on
     ``--classification-docs`` of them;
   - OCR: ``force_ocr`` on ``--ocr-docs`` documents, side by side with the worker's own reading of
     the same files (``Prescreener.analyse_file`` on an empty cache): the ratio is the figure.
   Targets: assessment ≥ 500 documents/s, classification ≥ 30 documents/s per core, OCR equal to
   the workers' own throughput. Resident memory is printed after each phase.

    .venv/bin/python bench/bench_rescan.py                           # 5,000 documents, PostgreSQL import
    .venv/bin/python bench/bench_rescan.py --docs 500 --import-apps 4 --db sqlite
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
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
    from sqlalchemy import func, select

    from intake import rescan
    from intake.models import RescanItem

    with ctx.sessions.begin() as session:
        run_id = rescan.start_run(session, selection, dry_run=True, force_ocr=force_ocr, actor="bench").id
    t0 = time.perf_counter()
    result = rescan.run_local(ctx, run_id)
    seconds = time.perf_counter() - t0
    with ctx.sessions() as session:
        docs = session.scalar(select(func.sum(RescanItem.documents)).where(RescanItem.run_id == run_id)) or 0
    return result, docs, seconds


def bench_rescan(docs: int, classification_docs: int, ocr_docs: int, cache: Path) -> None:
    from intake import rescan, versions
    from intake.prescreen import Prescreener
    from intake.settings import REPO_ROOT

    root = Path(tempfile.mkdtemp(prefix="bench-rescan-"))
    try:
        print(f"\nre-scan: a backlog of {docs} documents, in-process, one core ({machine_load()})")
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
        changed.registry, changed.catalogue, changed.policies  # noqa: B018  # loaded once, before timing
        result, n, seconds = timed_run(ctx, rescan.Selection())
        print(f"  assessment: {n} documents in {seconds:.1f} s = {n / seconds:.0f} documents/s "
              f"(target ≥ 500); redone {result['redone']}, changed {len(result['changed'])}; "
              f"RSS {rss_mb():.0f} MB", flush=True)

        # Classification from the cached OCR and seal findings: the classifier version bumped.
        ctx.prescreener = base
        versions.CLASSIFIER_VERSION += "-bench"
        ids = _first_ids(ctx, classification_docs)
        result, n, seconds = timed_run(ctx, rescan.Selection(ids=tuple(ids)))
        print(f"  classification: {n} documents in {seconds:.1f} s = {n / seconds:.1f} documents/s on one core "
              f"(target ≥ 30); redone {result['redone']}; RSS {rss_mb():.0f} MB", flush=True)

        # OCR: forced, side by side with the worker's own reading of the same files.
        ids = _first_ids(ctx, ocr_docs)
        result, n, seconds = timed_run(ctx, rescan.Selection(ids=tuple(ids)), force_ocr=True)
        own = _worker_reading(ctx, ids)
        print(f"  ocr: {n} documents in {seconds:.1f} s = {n / seconds:.2f} documents/s; the worker's own reading "
              f"of them {own[0]} documents in {own[1]:.1f} s = {own[0] / own[1]:.2f} documents/s: "
              f"ratio {(n / seconds) / (own[0] / own[1]):.2f} (target 1.0); RSS {rss_mb():.0f} MB", flush=True)
        print(f"\npeak resident memory of this process: {peak_mb():.0f} MB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


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


def _worker_reading(ctx, application_ids: list[str]) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """The worker's own reading (``analyse_file``, the OCR cache emptied first) of the same files."""
    from sqlalchemy import delete, select

    from intake.models import Application, OcrCacheEntry
    from intake.service import application_data

    p = ctx.prescreener
    with ctx.sessions() as session:
        work = [(d.filename, d.sha256, application_data(a), a.region)
                for a in session.scalars(select(Application).where(Application.id.in_(application_ids)))
                for d in a.documents if d.report and not d.report.get("error")]
    with p.sessions.begin() as session:
        session.execute(delete(OcrCacheEntry).where(OcrCacheEntry.sha256.in_([w[1] for w in work]),
                                                    OcrCacheEntry.fingerprint == p.fingerprint))
    t0 = time.perf_counter()
    for name, sha256, data, region in work:
        p.analyse_file(name, ctx.files.get(sha256), data, p.policies.for_region(region))
    return len(work), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=5000, help="documents in the re-scanned backlog (5000)")
    parser.add_argument("--classification-docs", type=int, default=300)
    parser.add_argument("--ocr-docs", type=int, default=12)
    parser.add_argument("--import-apps", type=int, default=8, help="sample applications imported (8)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres", help="import deployment")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench_rescan_ocr_cache.db")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    if not args.skip_import:
        bench_import(args.import_apps, args.workers, args.db, args.timeout)
    bench_rescan(args.docs, args.classification_docs, args.ocr_docs, args.cache)


if __name__ == "__main__":
    main()
