"""Shared helpers of the service benchmarks: a private Redis, a fresh PostgreSQL database (or a
SQLite file), a temporary file store, ``intake serve`` and ``intake worker`` as subprocesses, API
keys, and loading documents into applications through ``intake.service``.

Everything started here is ours and is stopped (by its pid) or dropped when the ``ServiceEnv``
context exits; the shared Redis on 6379 and the shared ``test`` database are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def _stop(proc: subprocess.Popen, *, grace: float = 10.0) -> None:
    """Stop one process we started (and its process group), by pid."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --- Redis ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """Our own redis-server on a free port, no persistence; yields its URL."""
    from redis import Redis
    from redis.exceptions import RedisError

    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            with contextlib.suppress(RedisError):
                if Redis.from_url(url, socket_connect_timeout=0.5).ping():
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("private redis-server did not start")
        yield url
    finally:
        _stop(proc)


# --- database ------------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(kind: str, tmp: Path) -> Iterator[str]:
    """A new, empty database: ``postgres`` (``CREATE DATABASE bench_<random>``, dropped after) or
    ``sqlite`` (a file under ``tmp``). The schema is migrated here, before any server starts."""
    from intake.db import get_engine

    if kind == "sqlite":
        url = f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        get_engine(url)
        yield url
        return
    import sqlalchemy

    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT",
                                     connect_args={"connect_timeout": 3})
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        get_engine(url)
        yield url
    finally:
        with contextlib.suppress(Exception):
            get_engine(url).dispose()
        with admin.connect() as conn:  # FORCE closes connections our subprocesses may still hold
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the service ---------------------------------------------------------------------------------


@dataclass
class ServiceEnv:
    """One private deployment: database, Redis, file store, and the processes we started on them."""

    db_url: str
    redis_url: str
    storage_root: Path
    workdir: Path  # cwd of the subprocesses: an empty dir, so no stray .env is read
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
        env.update({
            "INTAKE_DB__URL": self.db_url,
            "INTAKE_REDIS__URL": self.redis_url,
            "INTAKE_STORAGE__ROOT": str(self.storage_root),
            "PYTHONPATH": str(REPO),
            "PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK": "True",
        })
        env.update(self.extra_env)
        return env

    def settings(self):  # type: ignore[no-untyped-def]
        from intake.settings import DatabaseSettings, RedisSettings, Settings, StorageSettings

        return Settings(db=DatabaseSettings(url=self.db_url), redis=RedisSettings(url=self.redis_url),
                        storage=StorageSettings(root=self.storage_root))

    def sessions(self):  # type: ignore[no-untyped-def]
        from intake.db import session_factory

        return session_factory(self.db_url)

    # --- API keys --------------------------------------------------------------------------------
    def add_channel(self, channel_id: str, role: str = "app", *, via_cli: bool = False) -> str:
        """Create a channel, return its API key (``via_cli``: through ``intake channel add``)."""
        if via_cli:
            out = subprocess.run([PYTHON, "-m", "intake.cli", "channel", "add", channel_id, "--role", role],
                                 env=self.env, cwd=self.workdir, capture_output=True, text=True, check=True)
            return json.loads(out.stdout)["api_key"]
        from api.deps import hash_key
        from intake.models import Channel

        key = "mtb_" + secrets.token_urlsafe(32)
        with self.sessions().begin() as session:
            session.add(Channel(id=channel_id, name=channel_id, role=role, api_key_sha256=hash_key(key),
                                callback_secret=secrets.token_urlsafe(16)))
        return key

    # --- processes -------------------------------------------------------------------------------
    def spawn(self, args: list[str], *, env: dict[str, str] | None = None, log: str | None = None
              ) -> subprocess.Popen:
        out = (self.workdir / log).open("ab") if log else subprocess.DEVNULL
        proc = subprocess.Popen([PYTHON, "-m", "intake.cli", *args], env={**self.env, **(env or {})},
                                cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def serve(self, *, workers: int = 2, pool_size: int | None = None, nodelay_fix: bool = False,
              timeout: float = 120.0, code_root: Path | None = None, floor: bool = False) -> str:
        """Start ``intake serve`` on a free port; return its base URL once /healthz answers.

        Experiments, not the shipped code (the same app, served by the same uvicorn, with one change):
        ``pool_size``: the SQLAlchemy engine's pool set to that many connections (``patched_app``);
        ``nodelay_fix``: the listening socket re-wrapped as IPPROTO_TCP, so that with ``--workers``
        > 1 asyncio sets TCP_NODELAY on accepted connections (uvicorn issue #3149)."""
        import httpx

        port = free_port()
        if code_root is not None:  # another version of the code (see checkout()), same venv and deployment
            env = {**self.env, "PYTHONPATH": str(code_root)}
            proc = self.spawn(["serve", "--port", str(port), "--workers", str(workers)], env=env, log="serve.log")
        elif pool_size is None and not nodelay_fix and not floor:
            proc = self.spawn(["serve", "--port", str(port), "--workers", str(workers)], log="serve.log")
        else:
            out = (self.workdir / "serve.log").open("ab")
            bench_dir = str(Path(__file__).resolve().parent)
            app = ("'_floor_app:app'" if floor else
                   "'_service:patched_app', factory=True" if pool_size else "'api.app:app'")
            code = (f"import sys; sys.path.insert(0, {bench_dir!r}); import _service, uvicorn; "
                    f"_service.fix_nodelay() if {nodelay_fix} else None; "
                    f"uvicorn.run({app}, app_dir={bench_dir!r}, host='127.0.0.1', port={port}, workers={workers}, "
                    f"log_level='info')")
            env = {**self.env, "BENCH_DB_POOL_SIZE": str(pool_size or 0)}
            proc = subprocess.Popen([PYTHON, "-c", code], env=env, cwd=self.workdir, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"intake serve exited with {proc.returncode}; see {self.workdir / 'serve.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    return base
            time.sleep(0.2)
        raise RuntimeError("intake serve did not answer /healthz in time")

    def worker(self, *, cpu_threads: int | None = 1, queues: list[str] | None = None, log: str = "worker.log"
               ) -> subprocess.Popen:
        """``intake worker --burst --no-supervise``; one onnxruntime intra-op thread by default."""
        env = {}
        if cpu_threads is not None:
            n = str(cpu_threads)
            env = {"INTAKE_OCR__CPU_THREADS": n, "OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n,
                   "MKL_NUM_THREADS": n}
        args = ["worker", "--burst", "--no-supervise"] + [a for q in queues or [] for a in ("-q", q)]
        return self.spawn(args, env=env, log=log)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            _stop(proc)
        self.procs.clear()


@contextlib.contextmanager
def service_env(db: str = "postgres", *, extra_env: dict[str, str] | None = None) -> Iterator[ServiceEnv]:
    """A private Redis + a fresh database + a temporary file store; everything cleaned up after."""
    tmp = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        with private_redis() as redis_url, fresh_database(db, tmp) as db_url:
            (tmp / "files").mkdir()
            (tmp / "run").mkdir()
            env = ServiceEnv(db_url, redis_url, tmp / "files", tmp / "run", dict(extra_env or {}))
            try:
                yield env
            finally:
                env.stop_all()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def patched_app():  # type: ignore[no-untyped-def]
    """uvicorn app factory for experiments: ``api.app:app`` with the engine's connection pool sized by
    ``BENCH_DB_POOL_SIZE`` (pool_size=N, max_overflow=N//4), as a proposed fix in intake/db.py would."""
    import functools

    import intake.db

    size = int(os.environ["BENCH_DB_POOL_SIZE"])
    intake.db.create_engine = functools.partial(intake.db.create_engine, pool_size=size,  # type: ignore[assignment]
                                                max_overflow=max(size // 4, 1))
    from api.app import app

    return app


def fix_nodelay() -> None:
    """The fix `intake serve` applies (intake.serving), for servers the benchmark starts itself."""
    from intake.serving import fix_keepalive_nodelay

    fix_keepalive_nodelay()


def checkout(rev: str, into: Path) -> Path:
    """The repository's files at git revision ``rev``, extracted under ``into`` (to serve an earlier
    version side by side with the working tree)."""
    target = into / f"rev-{rev.replace('/', '_')}"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live children."""
    return sum(tree_cpu_split(pid))


def tree_cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process and its live children."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0, 0.0
    user = system = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            user, system = user + t.user, system + t.system
    return user, system


def cpu_by_name(*names: str) -> dict[str, float]:
    """User + system CPU seconds of every live process with one of these names (e.g. the
    PostgreSQL backends, which a server's pooled connections keep alive), summed per name."""
    import psutil

    out = dict.fromkeys(names, 0.0)
    for p in psutil.process_iter(["name"]):
        name = p.info["name"] or ""
        key = next((n for n in names if name.startswith(n)), None)
        if key is not None:
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                out[key] += t.user + t.system
    return out


def pg_sessions(db_url: str) -> int | None:
    """Connections ever opened to this PostgreSQL database (pg_stat_database.sessions, PG 14+)."""
    if not db_url.startswith("postgresql"):
        return None
    import sqlalchemy

    engine = sqlalchemy.create_engine(db_url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_stat_clear_snapshot()"))
            return conn.execute(sqlalchemy.text(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()")).scalar()
    finally:
        engine.dispose()


# --- loading work without the HTTP API -----------------------------------------------------------


@dataclass
class AppSpec:
    body: dict  # applicant_name, id_number, disease, region, application_date
    files: list[tuple[str, bytes]]


def load_and_submit(env: ServiceEnv, apps: list[AppSpec], *, channel: str = "bench-app") -> list[str]:
    """Create the applications, store and add their documents, submit them, and enqueue every
    document and assessment exactly as the upload and submit handlers do. Returns application ids."""
    import datetime as dt

    from intake.application import Application as ApplicationData
    from intake.files import LocalFileStore
    from intake.lifecycle import mark_queued
    from intake.models import Channel
    from intake.queue import Queues
    from intake.service import add_document, create_application, submit
    from intake.upload import inspect_upload

    settings = env.settings()
    store, queues = LocalFileStore(env.storage_root), Queues(settings)
    env.add_channel(channel)
    ids, doc_ids = [], []
    with env.sessions().begin() as session:
        ch = session.get(Channel, channel)
        for spec in apps:
            body = dict(spec.body)
            body.pop("case_id", None)
            body["application_date"] = dt.date.fromisoformat(str(body["application_date"]))
            app = create_application(session, channel=ch, data=ApplicationData(**body), external_ref=None,
                                     callback_url=None)
            for name, data in spec.files:
                info = inspect_upload(data, settings)
                added = add_document(session, app=app, actor=channel, filename=name, sha256=store.put(data),
                                     size=len(data), media_type=info.media_type, max_files=10_000)
                if added.created:
                    doc_ids.append(added.document.id)
            submit(session, app=app, actor=channel)
            ids.append(app.id)
    with env.sessions().begin() as session:
        mark_queued(session, doc_ids)
    for doc_id in doc_ids:
        queues.enqueue_document(doc_id)
    for app_id in ids:
        queues.enqueue_assessment(app_id)
    return ids


@dataclass
class Progress:
    docs_total: int
    docs_terminal: int
    docs_failed: int
    pages_done: int
    apps_total: int
    apps_with_case: int

    @property
    def finished(self) -> bool:
        return self.docs_terminal == self.docs_total and self.apps_with_case == self.apps_total


def progress(env: ServiceEnv) -> Progress:
    from sqlalchemy import func, select

    from intake.models import Application, Case, Document

    with env.sessions()() as session:
        rows = session.execute(select(Document.status, Document.report)).all()
        apps = session.scalar(select(func.count()).select_from(Application)) or 0
        with_case = session.scalar(select(func.count(func.distinct(Case.application_id)))) or 0
    terminal = [r for r in rows if r.status in ("done", "failed", "dead")]
    pages = sum(int((r.report or {}).get("pages") or 0) for r in terminal)
    return Progress(len(rows), len(terminal), sum(r.status != "done" for r in terminal), pages, apps, with_case)


def processing_window(env: ServiceEnv) -> tuple[float, float]:
    """Seconds from the first document claimed to the last case written, from the database's own
    timestamps (worker start-up and model loading excluded); and to the last document finished."""
    from sqlalchemy import func, select

    from intake.models import Case, Document

    with env.sessions()() as session:
        first = session.scalar(select(func.min(Document.started_at)))
        last_doc = session.scalar(select(func.max(Document.finished_at)))
        last_case = session.scalar(select(func.max(Case.created_at)))
    if first is None or last_doc is None:
        return float("nan"), float("nan")
    end = max(last_doc, last_case) if last_case else last_doc
    return (end - first).total_seconds(), (last_doc - first).total_seconds()


# --- watching processes --------------------------------------------------------------------------


class ThreadCpu:
    """Samples the per-thread CPU time of processes, to see how many threads really compute
    (a worker told to use one onnxruntime thread should have one busy thread)."""

    def __init__(self) -> None:
        self.cpu: dict[int, dict[int, float]] = {}  # pid -> thread id -> user+system seconds
        self.max_threads: dict[int, int] = {}

    def sample(self, pid: int) -> None:
        import psutil

        try:
            threads = psutil.Process(pid).threads()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        per = self.cpu.setdefault(pid, {})
        for t in threads:
            per[t.id] = t.user_time + t.system_time
        self.max_threads[pid] = max(self.max_threads.get(pid, 0), len(threads))

    def busy(self, pid: int, share: float = 0.05) -> list[float]:
        """CPU seconds of the threads that used more than ``share`` of the process's CPU."""
        per = self.cpu.get(pid, {})
        total = sum(per.values()) or 1.0
        return sorted((s for s in per.values() if s / total >= share), reverse=True)


class Sampler(threading.Thread):
    """Calls ``fn`` every ``interval`` seconds in the background until stopped."""

    def __init__(self, fn, interval: float = 1.0) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.fn, self.interval = fn, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            with contextlib.suppress(Exception):
                self.fn()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)
