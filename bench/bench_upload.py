"""Upload latency of the apps' API under concurrent clients (target: p99 < 200 ms, no errors).

Starts a private deployment (own redis-server on a free port, a fresh PostgreSQL database
``bench_<random>`` or a SQLite file, a temporary file store) and ``intake serve`` as a subprocess,
creates applications through the API, then has ``--concurrency`` clients POST one ~1 MB photo each
to ``/v1/applications/{id}/documents`` until ``--requests`` uploads are done. No worker runs: an
upload only stores the file, writes the rows and enqueues the document.

Each photo is distinct (a unique JPEG comment segment), so no request is answered by de-duplication.
The clients are threads on blocking keep-alive connections sending pre-encoded multipart bodies
(~1 ms of client CPU per upload), so the load generator does not steal the server's CPU.
Measured side by side in the same run, so the ratios hold on a loaded machine:

- each server configuration (``--serve-workers``, ``--variants``: as shipped, with the TCP_NODELAY
  fix for uvicorn's multi-worker listener, with a bigger DB pool) under one client (no contention)
  and under ``--concurrency`` clients; ratios against the first configuration;
- server CPU per upload (load-independent) and the latency floor it implies at this concurrency on
  this many CPUs (Little's law), and how many PostgreSQL connections the server opened;
- the same configurations paced (``--paced``): uploads arriving on their own, Poisson, at a fraction of
  the throughput each reached above, from as many clients; latency counted from each arrival. The
  closed loop above measures a saturated server; this, the latency of one that is not;
- the in-process cost of the handler's stages on one 1 MB photo (sha256, inspect_upload, the
  fsync'd file store put).

    .venv/bin/python bench/bench_upload.py            # 1000 uploads, 50 clients; --workers 1 and 2 (+ nodelay fix)
    .venv/bin/python bench/bench_upload.py --requests 100 --serve-workers 2 --variants shipped nodelay pool40
    .venv/bin/python bench/bench_upload.py --serve-workers 2 --variants shipped ref=HEAD~1   # a change A/B
    .venv/bin/python bench/bench_upload.py --serve-workers 2 --variants shipped floor   # vs framework alone
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import os
import random
import statistics
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _service import (
    REPO,
    ServiceEnv,
    checkout,
    cpu_by_name,
    machine_load,
    percentile,
    pg_sessions,
    service_env,
    tree_cpu_split,
)

SAMPLES = REPO / "fixtures" / "samples"
PER_APPLICATION = 20  # uploads per application (the service allows 40 documents per application)


# --- payloads ------------------------------------------------------------------------------------


def base_photos(target_bytes: int, count: int = 6) -> list[bytes]:
    """Phone-photo JPEGs of about ``target_bytes`` each, re-encoded from the bundled samples."""
    from PIL import Image

    sources = sorted(SAMPLES.glob("*/*.jpg"))[:count] or []
    if not sources:
        raise SystemExit(f"no sample photos under {SAMPLES}")
    out = []
    for path in sources:
        im = Image.open(path).convert("RGB")
        side = 3000
        for _ in range(8):  # converge on the size: the long side sets the bytes at quality 90
            scale = side / max(im.size)
            small = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=90)
            size = buf.tell()
            if abs(size - target_bytes) < target_bytes * 0.05:
                break
            side = int(side * (target_bytes / size) ** 0.5)
        out.append(buf.getvalue())
    return out


BOUNDARY = "bench-upload-boundary-7f3a9c"


@dataclass
class CpuPerUpload:
    name: str
    server_user: float
    server_sys: float
    postgres: float
    redis: float
    client: float
    new_sessions: int | None
    requests: int


def multipart(filename: str, data: bytes) -> bytes:
    """The request body httpx would build for ``files=``, built once here: encoding it in httpx costs
    the load generator ~10 ms of CPU per 1 MB upload, which on 2 cores it takes from the server."""
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n").encode()
    return b"".join((head, data, f"\r\n--{BOUNDARY}--\r\n".encode()))


def distinct(photo: bytes, n: int) -> bytes:
    """The same picture with a unique COM segment after SOI: a valid JPEG with its own sha256."""
    payload = f"bench-upload {n} {time.time_ns()}".encode()
    return photo[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + photo[2:]


# --- the load ------------------------------------------------------------------------------------


def create_applications(base: str, key: str, n: int) -> list[str]:
    import json

    import httpx

    body = json.loads(next(SAMPLES.glob("*/application.json")).read_text("utf-8"))
    body.pop("case_id", None)
    with httpx.Client(base_url=base, timeout=60.0) as client:
        ids = []
        for i in range(n):
            r = client.post("/v1/applications", json={**body, "external_ref": f"bench-{i}"}, headers={"X-API-Key": key})
            r.raise_for_status()
            ids.append(r.json()["id"])
    return ids


def run_load(base: str, key: str, photos: list[bytes], *, requests: int, concurrency: int,
             start_index: int, rate: float | None = None) -> dict:
    """``requests`` uploads by ``concurrency`` client threads, each on its own keep-alive connection
    (http.client: sending 1 MB costs the load generator ~1 ms of CPU, against ~7-10 ms with an
    asyncio httpx client, whose CPU starvation on a 2-core machine showed up as a server tail)."""
    import http.client
    import threading
    from urllib.parse import urlparse

    url = urlparse(base)
    host = url.hostname or "127.0.0.1"
    app_ids = create_applications(base, key, -(-requests // PER_APPLICATION))
    counter = itertools.count()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    lock = threading.Lock()
    # Paced (open loop): uploads arrive at ``rate`` per second, Poisson, whether or not earlier ones
    # are done; each one's latency counts from its arrival, so waiting for a free client counts too.
    rng = random.Random(start_index)
    arrivals = list(itertools.accumulate(rng.expovariate(rate) for _ in range(requests))) if rate else []
    started = [0.0]

    def one_client() -> None:
        conn = http.client.HTTPConnection(host, url.port, timeout=60)
        while (i := next(counter)) < requests:
            body = multipart(f"IMG_{start_index + i:06d}.jpg", distinct(photos[i % len(photos)], start_index + i))
            path = f"/v1/applications/{app_ids[i // PER_APPLICATION]}/documents"
            if rate:
                t0 = started[0] + arrivals[i]
                time.sleep(max(0.0, t0 - time.perf_counter()))
            else:
                t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"X-API-Key": key, "Content-Type": content_type})
                response = conn.getresponse()
                response.read()
                status: str | int = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(host, url.port, timeout=60)
            dt = time.perf_counter() - t0
            with lock:
                if status == 201:
                    latencies.append(dt)
                else:
                    errors[str(status)] = errors.get(str(status), 0) + 1
        conn.close()

    threads = [threading.Thread(target=one_client) for _ in range(concurrency)]
    t0 = started[0] = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"lat": latencies, "errors": errors, "wall": time.perf_counter() - t0, "n": requests}


def stage_costs(photo: bytes, storage: Path, repeat: int = 20) -> dict[str, float]:
    """Median in-process milliseconds of the upload handler's own stages on one photo."""
    from intake.files import LocalFileStore
    from intake.settings import Settings
    from intake.upload import inspect_upload

    settings, store = Settings(), LocalFileStore(storage)
    sha = "sha256 (one pass: request digest, duplicate check and store)"
    out: dict[str, list[float]] = {sha: [], "inspect_upload": [], "file store put (write+fsync+rename+dir fsync)": []}
    for i in range(repeat):
        data = distinct(photo, 10_000_000 + i)
        t = time.perf_counter()
        digest = hashlib.sha256(data).hexdigest()
        out[sha].append(time.perf_counter() - t)
        t = time.perf_counter()
        inspect_upload(data, settings)
        out["inspect_upload"].append(time.perf_counter() - t)
        t = time.perf_counter()
        store.put(data, digest)
        out["file store put (write+fsync+rename+dir fsync)"].append(time.perf_counter() - t)
    return {k: 1000 * statistics.median(v) for k, v in out.items()}


def check_state(env: ServiceEnv, expected: int) -> tuple[int, int]:
    """Documents in the database and jobs waiting in the ocr queue (both should equal the uploads)."""
    from sqlalchemy import func, select

    from intake.models import Document
    from intake.queue import Queues

    with env.sessions()() as session:
        docs = session.scalar(select(func.count()).select_from(Document)) or 0
    return docs, Queues(env.settings()).ocr.count


def row(label: str, res: dict) -> str:
    lat = [1000 * x for x in res["lat"]]
    errs = sum(res["errors"].values())
    detail = ",".join(f"{k}:{v}" for k, v in sorted(res["errors"].items())) or "-"
    return (f"{label:34s} {len(lat) + errs:6d} {percentile(lat, .5):8.1f} {percentile(lat, .95):8.1f} "
            f"{percentile(lat, .99):8.1f} {max(lat, default=float('nan')):8.1f} {errs:6d} {detail:14s} "
            f"{(len(lat)) / res['wall']:8.1f}")


# uvicorn workers, DB pool, nodelay fix, git revision ("floor": the app of bench/_floor_app.py)
Config = tuple[int, int | None, bool, str | None]


def configs_name(config: Config) -> str:
    workers, pool, nodelay, rev = config
    return (f"serve --workers {workers}" + (f", pool {pool}" if pool else "") + (", nodelay" if nodelay else "")
            + (", floor (HTTP+multipart only)" if rev == "floor" else f", code at {rev}" if rev else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="uploads under concurrency (default 1000)")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--serial", type=int, default=50, help="uploads by one client, the baseline (default 50)")
    parser.add_argument("--serve-workers", type=int, nargs="+", default=[1, 2],
                        help="uvicorn worker processes; several values are compared side by side (default 1 2)")
    parser.add_argument("--variants", nargs="+", default=["shipped", "nodelay"],
                        help="how the API is served, compared side by side: 'shipped' (intake serve as it is), "
                             "'nodelay' (listener re-wrapped as IPPROTO_TCP so TCP_NODELAY is set: uvicorn #3149; "
                             "only differs with --workers > 1), 'poolN' (DB pool of N per HTTP worker), or "
                             "combinations like 'nodelay+pool40', or 'ref=REV': the code of git revision REV "
                             "(e.g. ref=HEAD~1), to compare a change side by side; 'floor': the same server "
                             "and multipart parsing with nothing behind them (default: shipped nodelay)")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--size-mb", type=float, default=1.0, help="photo size (default 1 MB)")
    parser.add_argument("--paced", type=float, nargs="*", default=[0.5, 0.75],
                        help="also send uploads at these fractions of each configuration's measured throughput, "
                             "arriving on their own (open loop, Poisson) from --concurrency clients: the latency "
                             "below saturation (default 0.5 0.75; none to skip)")
    parser.add_argument("--paced-requests", type=int, default=600, help="uploads per paced run (default 600)")
    args = parser.parse_args()

    photos = base_photos(int(args.size_mb * 1024 * 1024))
    print(f"{machine_load()} at start; photos {', '.join(f'{len(p) / 1048576:.2f}' for p in photos)} MB; "
          f"db={args.db}; {args.concurrency} clients; no worker running\n")
    with tempfile.TemporaryDirectory() as tmp:
        stages = stage_costs(photos[0], Path(tmp))
    results: list[tuple[str, dict]] = []
    states = []
    configs: list[Config] = []
    for w in args.serve_workers:
        for variant in args.variants:
            if variant.startswith("ref=") or variant == "floor":
                configs.append((w, None, False, variant.removeprefix("ref=")))
                continue
            parts = set(variant.split("+")) - {"shipped"}
            pools = [int(x[4:]) for x in parts if x.startswith("pool")]
            if parts - {"nodelay"} - {f"pool{n}" for n in pools}:
                parser.error(f"unknown variant {variant!r}")
            if "nodelay" in parts and w == 1 and (w, pools[0] if pools else None, False, None) in configs:
                continue  # one worker: uvicorn binds through asyncio, TCP_NODELAY is already set
            configs.append((w, pools[0] if pools else None, "nodelay" in parts, None))
    cpu: list[CpuPerUpload] = []
    paced: list[tuple[str, dict]] = []
    for workers, pool, nodelay, rev in configs:
        name = configs_name((workers, pool, nodelay, rev))
        with service_env(args.db) as env:
            key = env.add_channel("bench-app")
            code_root = checkout(rev, env.workdir) if rev and rev != "floor" else None
            base = env.serve(workers=workers, pool_size=pool, nodelay_fix=nodelay, code_root=code_root,
                             floor=rev == "floor")
            server_pid = env.procs[-1].pid
            # Warm-up: every uvicorn worker opens its engine (and checks the schema) on first use.
            run_load(base, key, photos, requests=8 * workers, concurrency=4 * workers, start_index=0)
            serial = run_load(base, key, photos, requests=args.serial, concurrency=1, start_index=100_000)
            sessions0, client0 = pg_sessions(env.db_url), time.process_time()
            server0, others0 = tree_cpu_split(server_pid), cpu_by_name("postgres", "redis-server")
            loaded = run_load(base, key, photos, requests=args.requests, concurrency=args.concurrency,
                              start_index=200_000)
            server1, others1 = tree_cpu_split(server_pid), cpu_by_name("postgres", "redis-server")
            sessions1, client1 = pg_sessions(env.db_url), time.process_time()
            new_sessions = None if sessions0 is None or sessions1 is None else sessions1 - sessions0 - 1
            per = 1000 / args.requests
            cpu.append(CpuPerUpload(name, per * (server1[0] - server0[0]), per * (server1[1] - server0[1]),
                                    per * (others1["postgres"] - others0["postgres"]),
                                    per * (others1["redis-server"] - others0["redis-server"]),
                                    per * (client1 - client0), new_sessions, args.requests))
            capacity = len(loaded["lat"]) / loaded["wall"]
            for n, fraction in enumerate(args.paced):
                res = run_load(base, key, photos, requests=args.paced_requests, concurrency=args.concurrency,
                               start_index=300_000 + 10_000 * n, rate=fraction * capacity)
                paced.append((f"{name}, {fraction * capacity:.0f}/s paced ({fraction:.0%})", res))
            expected = 8 * workers + args.serial + args.requests + len(args.paced) * args.paced_requests
            if rev != "floor":
                states.append((name, expected, *check_state(env, expected)))
            results.append((f"{name}, 1 client", serial))
            results.append((f"{name}, {args.concurrency} clients", loaded))
    print(f"{'run':34s} {'reqs':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} {'errors':>6s} "
          f"{'by status':14s} {'req/s':>8s}")
    for label, res in results:
        print(row(label, res))
    if paced:
        print(f"\npaced: uploads arriving on their own at a fraction of the throughput above, "
              f"{args.concurrency} clients (latency from arrival)")
        for label, res in paced:
            print(row(label, res))
    print()
    for i in range(0, len(results), 2):
        serial, loaded = results[i][1], results[i + 1][1]
        s50 = percentile(serial["lat"], .5)
        print(f"{results[i + 1][0]}: p99 = {percentile(loaded['lat'], .99) / s50:.1f}x the 1-client p50, "
              f"p50 = {percentile(loaded['lat'], .5) / s50:.1f}x; p99 target 200 ms: "
              f"{'MET' if 1000 * percentile(loaded['lat'], .99) < 200 and not loaded['errors'] else 'NOT MET'}")
    print("\nCPU per upload under load, ms (load-independent-ish; postgres = every PostgreSQL process on the "
          "machine),\nthe latency floor that CPU sets at this concurrency on this many CPUs (Little's law), "
          "and new PostgreSQL connections:")
    for c in cpu:
        total = c.server_user + c.server_sys + c.postgres + c.redis + c.client
        floor = args.concurrency * total / (os.cpu_count() or 1)
        print(f"  {c.name:30s} server {c.server_user:5.1f} user + {c.server_sys:4.1f} sys, postgres {c.postgres:4.1f}, "
              f"redis {c.redis:4.1f}, client {c.client:4.1f} = {total:5.1f} -> floor at {args.concurrency} clients on "
              f"{os.cpu_count()} CPUs ~{floor:5.0f} ms; new PG connections "
              f"{c.new_sessions if c.new_sessions is not None else 'n/a'} for {c.requests} requests")
    if len(configs) > 1:
        print(f"\nside by side, relative to '{configs_name(configs[0])}' (<1 is better for latency):")
        s0, l0 = results[0][1], results[1][1]
        for i in range(2, len(results), 2):
            s1, l1 = results[i][1], results[i + 1][1]
            print(f"  {configs_name(configs[i // 2]):34s} 1-client p50 "
                  f"{percentile(s1['lat'], .5) / percentile(s0['lat'], .5):5.2f}x   {args.concurrency}-client p50 "
                  f"{percentile(l1['lat'], .5) / percentile(l0['lat'], .5):5.2f}x  p99 "
                  f"{percentile(l1['lat'], .99) / percentile(l0['lat'], .99):5.2f}x   throughput "
                  f"{(len(l1['lat']) / l1['wall']) / (len(l0['lat']) / l0['wall']):5.2f}x")
    print("\nstored and enqueued (should equal the uploads sent, warm-up included):")
    for name, expected, docs, queued in states:
        print(f"  {name}: sent {expected}, document rows {docs}, ocr jobs queued {queued}")
    print("\nin-process cost of the handler's stages, one 1 MB photo (median ms):")
    for k, v in stages.items():
        print(f"  {k:48s} {v:7.1f}")
    print(f"\n{machine_load()} at end")


if __name__ == "__main__":
    main()
