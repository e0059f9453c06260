"""Resident memory of one queue worker over many pages (target: flat, < 10% growth after warm-up).

One ``intake worker --burst --no-supervise`` process (no recycling: the supervisor's
``INTAKE_QUEUE__WORKER_MAX_JOBS`` is what we want *not* to depend on) against a private deployment
(own redis-server, a fresh PostgreSQL database, temporary file store) works through ``--pages``
single-page photos. The pages are the bundled samples' photos and scans, resized to a long side of
1000-1300 px with varying crops (varying input shapes are what grows onnxruntime's arenas), some
turned 90/180 degrees, each with distinct bytes so the OCR cache never short-circuits; ten
documents per application, every application submitted, so assessments run too.

The worker's RSS (and its thread count) is sampled every second together with the number of pages
done (from the database). Printed: RSS after the first ``--warmup`` pages, at every tenth of the
run, at the end, the peak, the growth from warm-up to end, and the least-squares slope after
warm-up (MB per 100 pages), which is less noisy than two end points.

    .venv/bin/python bench/bench_worker_memory.py              # 500 pages (~10-15 min on 2 free cores)
    .venv/bin/python bench/bench_worker_memory.py --pages 40 --warmup 10
"""

from __future__ import annotations

import argparse
import itertools
import struct
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
    progress,
    service_env,
)

SAMPLES = REPO / "fixtures" / "samples"
PER_APPLICATION = 10


def source_images() -> list:  # type: ignore[type-arg]
    import cv2

    paths = sorted(p for ext in ("jpg", "png") for p in SAMPLES.glob(f"*/*.{ext}"))
    images = [im for p in paths if (im := cv2.imread(str(p))) is not None]
    if not images:
        raise SystemExit(f"no sample images under {SAMPLES}")
    return images


def make_pages(n: int) -> list[bytes]:
    import cv2

    sources = source_images()
    turns = [None, None, None, cv2.ROTATE_90_CLOCKWISE, None, cv2.ROTATE_180, None]
    pages = []
    for i in range(n):
        img = sources[i % len(sources)]
        h, w = img.shape[:2]
        m = (i * 7) % 23  # a few pixels cropped, differently each time
        img = img[m: h - (i % 5), (i % 11): w - m]
        long_side = 1000 + (i * 37) % 300
        s = long_side / max(img.shape[:2])
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        turn = turns[i % len(turns)]
        if turn is not None:
            img = cv2.rotate(img, turn)
        data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
        tag = f"bench-memory page {i}".encode()  # distinct bytes even where two crops coincide
        pages.append(data[:2] + b"\xff\xfe" + struct.pack(">H", len(tag) + 2) + tag + data[2:])
    return pages


def slope_mb_per_100(samples: list[tuple[float, float, int]], after_pages: int) -> float:
    pts = [(p, r) for _, r, p in samples if p >= after_pages]
    if len(pts) < 3 or pts[-1][0] == pts[0][0]:
        return float("nan")
    mx = sum(p for p, _ in pts) / len(pts)
    my = sum(r for _, r in pts) / len(pts)
    sxx = sum((p - mx) ** 2 for p, _ in pts)
    sxy = sum((p - mx) * (r - my) for p, r in pts)
    return 100 * sxy / sxx if sxx else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20, help="pages before the baseline RSS (default 20)")
    parser.add_argument("--cpu-threads", type=int, default=1, help="onnxruntime intra-op threads (default 1)")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--timeout", type=float, default=3 * 3600.0)
    args = parser.parse_args()

    import psutil

    pages = make_pages(args.pages)
    apps = [AppSpec({"applicant_name": "张三", "id_number": "110101199003074514", "disease": "糖尿病",
                     "region": "绥化市", "application_date": "2026-05-01"},
                    [(f"IMG_{j:05d}.jpg", pages[j]) for j in range(i, min(i + PER_APPLICATION, len(pages)))])
            for i in range(0, len(pages), PER_APPLICATION)]
    print(f"{machine_load()} at start; {len(pages)} pages of {min(map(len, pages)) // 1024}-"
          f"{max(map(len, pages)) // 1024} KB in {len(apps)} applications; db={args.db}; "
          f"cpu_threads={args.cpu_threads}\n", flush=True)
    with service_env(args.db) as env:
        load_and_submit(env, apps)
        t0 = time.perf_counter()
        proc = env.worker(cpu_threads=args.cpu_threads, log="worker.log")
        ps = psutil.Process(proc.pid)
        samples: list[tuple[float, float, int]] = []  # (seconds, RSS MB, pages done)
        threads_max = 0
        thread_cpu = ThreadCpu()
        next_report = [max(args.pages // 10, 1)]

        def sample() -> None:
            nonlocal threads_max
            rss = ps.memory_info().rss / 2**20
            threads_max = max(threads_max, ps.num_threads())
            thread_cpu.sample(proc.pid)
            done = progress(env).pages_done
            samples.append((time.perf_counter() - t0, rss, done))
            if done >= next_report[0]:
                print(f"  {done:5d} pages  {samples[-1][0]:7.0f} s  RSS {rss:7.1f} MB", flush=True)
                next_report[0] += max(args.pages // 10, 1)

        sampler = Sampler(sample, 1.0)
        sampler.start()
        try:
            proc.wait(args.timeout)
        finally:
            sampler.stop()
        wall = time.perf_counter() - t0
        final = progress(env)

    live = [s for s in samples if s[1] > 0]
    warm = next((s for s in live if s[2] >= args.warmup), None)
    end = live[-1] if live else None
    peak = max(live, key=lambda s: s[1]) if live else None
    first_page = next((s for s in live if s[2] >= 1), None)
    print(f"\n{final.pages_done} pages, {final.docs_terminal}/{final.docs_total} documents "
          f"({final.docs_failed} failed), {final.apps_with_case}/{final.apps_total} cases in {wall:.0f} s; "
          f"worker exit code {proc.returncode}; up to {threads_max} threads; CPU s of threads with >1% of its CPU: "
          f"{', '.join(f'{b:.1f}' for b in thread_cpu.busy(proc.pid, 0.01))}\n")
    print(f"{'point':34s} {'pages':>6s} {'seconds':>8s} {'RSS MB':>8s}")
    for label, s in (("after model load (first page done)", first_page), (f"after warm-up ({args.warmup} pages)", warm),
                     ("peak", peak), ("end (last sample)", end)):
        if s:
            print(f"{label:34s} {s[2]:6d} {s[0]:8.0f} {s[1]:8.1f}")
    # One sample is noisy: RSS swings by hundreds of MB within a page (decoded images, model
    # buffers). Compare windows of pages instead: the median and the minimum (what stays resident).
    post = [x for x in live if x[2] >= args.warmup]
    if post:
        span = max(final.pages_done - args.warmup, 1)
        n_win = min(5, max(span // 10, 1))
        edges = [args.warmup + round(k * span / n_win) for k in range(n_win + 1)]
        windows = []
        print(f"\n{'pages':>11s} {'min MB':>8s} {'median MB':>9s} {'max MB':>8s}")
        for lo, hi in itertools.pairwise(edges):
            rs = sorted(x[1] for x in post if lo <= x[2] < hi or (hi == edges[-1] and x[2] == hi))
            if rs:
                windows.append((rs[0], rs[len(rs) // 2], rs[-1]))
                print(f"{lo:5d}-{hi:<5d} {rs[0]:8.1f} {rs[len(rs) // 2]:9.1f} {rs[-1]:8.1f}")
        if len(windows) >= 2:
            (min0, med0, max0), (min1, med1, max1) = windows[0], windows[-1]
            g_med, g_min, g_max = (100 * (b - a) / a for a, b in ((med0, med1), (min0, min1), (max0, max1)))
            print(f"\ngrowth first -> last window after warm-up: median {g_med:+.1f}%, minimum {g_min:+.1f}%, "
                  f"maximum {g_max:+.1f}%; slope {slope_mb_per_100(live, args.warmup):+.1f} MB per 100 pages; "
                  f"end vs warm-up sample {100 * (end[1] - warm[1]) / warm[1] if warm and end else float('nan'):+.1f}%")
            print(f"target flat (< 10% growth of the median and of the minimum): "
                  f"{'MET' if g_med < 10 and g_min < 10 else 'NOT MET'}")
    if not final.finished:
        print(f"WARNING: not everything finished: {final}")
    print(f"{machine_load()} at end")


if __name__ == "__main__":
    main()
