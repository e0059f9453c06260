"""End-to-end throughput in pages per minute, one worker vs two (target: two give >= 1.8x).

The same documents (the bundled sample applications, whole applications in order until ``--docs``
documents) are processed twice, back to back in one run, each time in a fresh private deployment
(own redis-server, a fresh PostgreSQL database, so the OCR cache is empty both times):

1. one ``intake worker --burst --no-supervise`` process;
2. two of them at once.

Each worker gets ``INTAKE_OCR__CPU_THREADS=1`` (onnxruntime intra-op threads) and
``OMP_NUM_THREADS=1``. Applications are created, documents stored and enqueued and applications
submitted through ``intake.service`` exactly as the API does, before the workers start; the run ends
when every worker has exited (burst) and every document is done/failed and every application has a
case. Pages/min is measured over the database's own timestamps (first document claimed to last case
written), so model loading at worker start is not counted; the wall time including start-up is
printed too. Per worker, the threads that used >5% of its CPU are listed: with one intra-op thread
there should be one busy thread.

    .venv/bin/python bench/bench_throughput.py                 # 40 documents
    .venv/bin/python bench/bench_throughput.py --docs 8 --db sqlite
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _service import (
    REPO,
    AppSpec,
    Sampler,
    ThreadCpu,
    load_and_submit,
    machine_load,
    processing_window,
    progress,
    service_env,
    tree_cpu,
)

SAMPLES = REPO / "fixtures" / "samples"


def pick_documents(samples: Path, n: int) -> list[AppSpec]:
    apps: list[AppSpec] = []
    taken = 0
    for folder in sorted(p for p in samples.iterdir() if (p / "application.json").is_file()):
        if taken >= n:
            break
        body = json.loads((folder / "application.json").read_text("utf-8"))
        files = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())
                 if p.is_file() and p.name not in ("application.json", "truth.json")][: n - taken]
        apps.append(AppSpec(body, files))
        taken += len(files)
    if taken < n:
        print(f"note: only {taken} documents under {samples}")
    return apps


def run(apps: list[AppSpec], workers: int, *, db: str, cpu_threads: int | None, timeout: float) -> dict:
    with service_env(db) as env:
        load_and_submit(env, apps)
        threads = ThreadCpu()
        t0 = time.perf_counter()
        procs = [env.worker(cpu_threads=cpu_threads, log=f"worker{i}.log") for i in range(workers)]
        def sample_all() -> None:
            for p in procs:
                if p.poll() is None:
                    threads.sample(p.pid)

        sampler = Sampler(sample_all, 1.0)
        sampler.start()
        cpu_seen = {p.pid: 0.0 for p in procs}
        while any(p.poll() is None for p in procs) and time.perf_counter() - t0 < timeout:
            for p in procs:
                if p.poll() is None:
                    cpu_seen[p.pid] = max(cpu_seen[p.pid], tree_cpu(p.pid))
            time.sleep(0.5)
        wall = time.perf_counter() - t0
        sampler.stop()
        state = progress(env)
        window, docs_window = processing_window(env)
        codes = [p.poll() for p in procs]
        env.stop_all()
        return {
            "workers": workers, "wall": wall, "window": window, "docs_window": docs_window, "state": state,
            "exit": codes, "busy": [threads.busy(p.pid) for p in procs],
            "threads": [threads.max_threads.get(p.pid, 0) for p in procs],
            "cpu": [cpu_seen[p.pid] for p in procs]
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=40, help="documents (default 40)")
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare (1 2)")
    parser.add_argument("--cpu-threads", type=int, default=1, help="onnxruntime intra-op threads per worker (1)")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--timeout", type=float, default=3600.0, help="per run, seconds")
    args = parser.parse_args()

    apps = pick_documents(args.samples, args.docs)
    n_docs = sum(len(a.files) for a in apps)
    print(f"{machine_load()} at start; {n_docs} documents in {len(apps)} applications; db={args.db}; "
          f"INTAKE_OCR__CPU_THREADS={args.cpu_threads} OMP_NUM_THREADS={args.cpu_threads} per worker\n")
    results = []
    for workers in args.workers:
        res = run(apps, workers, db=args.db, cpu_threads=args.cpu_threads, timeout=args.timeout)
        s = res["state"]
        print(f"  {workers} worker(s) done: {s.docs_terminal}/{s.docs_total} documents, {s.pages_done} pages, "
              f"{s.apps_with_case}/{s.apps_total} cases in {res['wall']:.0f} s ({machine_load()})", flush=True)
        results.append(res)

    print(f"\n{'workers':>7s} {'docs':>5s} {'failed':>6s} {'pages':>5s} {'cases':>5s} {'window s':>8s} "
          f"{'pages/min':>9s} {'wall s':>7s} {'pages/min incl. start':>21s} {'CPU s/page':>10s} {'cores got':>9s}")
    for r in results:
        s = r["state"]
        ppm = 60 * s.pages_done / r["window"]
        print(f"{r['workers']:7d} {s.docs_terminal:5d} {s.docs_failed:6d} {s.pages_done:5d} "
              f"{s.apps_with_case:>2d}/{s.apps_total:<2d} {r['window']:8.1f} {ppm:9.1f} {r['wall']:7.1f} "
              f"{60 * s.pages_done / r['wall']:21.1f} {sum(r['cpu']) / max(s.pages_done, 1):10.2f} "
              f"{sum(r['cpu']) / r['wall']:9.2f}")
    print("\nthreads per worker process (max alive) and CPU seconds of its busy threads (>5% of its CPU):")
    for r in results:
        for i, (busy, n) in enumerate(zip(r["busy"], r["threads"], strict=True)):
            print(f"  {r['workers']} worker(s), worker {i}: {n} threads; busy: {', '.join(f'{b:.1f}' for b in busy)}"
                  f"; exit code {r['exit'][i]}")
    for r in results:
        if not r["state"].finished:
            print(f"WARNING: the {r['workers']}-worker run did not finish: {r['state']}")
    if len(results) >= 2:
        base = results[0]
        base_ppm = base["state"].pages_done / base["window"]
        for r in results[1:]:
            ratio = (r["state"].pages_done / r["window"]) / base_ppm
            wall_ratio = (r["state"].pages_done / r["wall"]) / (base["state"].pages_done / base["wall"])
            print(f"\n{r['workers']} workers / {base['workers']} worker: {ratio:.2f}x pages/min "
                  f"({wall_ratio:.2f}x incl. start-up); target >= 1.8x: {'MET' if ratio >= 1.8 else 'NOT MET'}")
            # On a shared machine the workers get fewer cores than they ask for; this says what the
            # same CPU cost per page would give with one whole core per worker.
            per_page = [sum(x["cpu"]) / max(x["state"].pages_done, 1) for x in (base, r)]
            print(f"  CPU per page {per_page[1] / per_page[0]:.2f}x of the {base['workers']}-worker run; "
                  f"cores obtained "
                  f"{sum(r['cpu']) / r['wall']:.2f} vs {sum(base['cpu']) / base['wall']:.2f}; with one free core per "
                  f"worker the ratio would be ~{r['workers'] / base['workers'] * per_page[0] / per_page[1]:.2f}x")
    print(f"{machine_load()} at end")


if __name__ == "__main__":
    main()
