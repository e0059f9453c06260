"""The real Redis and PostgreSQL the tests run against.

If one is not running, we try to start it (the commands of this machine kind); if that fails the
tests that need it are skipped with a loud reason on a developer's machine, and fail in CI
(``CI=true``), where skipping would hide a broken service path.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

# Each test process (a pytest-xdist worker gw0, gw1 …, or a plain pytest) flushes a Redis database
# of its own, claimed when it first needs Redis (``claim_redis_db``): two test runs on one machine
# then neither flush nor take each other's queued jobs. INTAKE_TEST_REDIS_URL sets one instead.
_XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_SERVER = "redis://127.0.0.1:6379"
REDIS_URL: str | None = os.environ.get("INTAKE_TEST_REDIS_URL")
# The claims live in this database, one key per database claimed, holding the claiming process's
# pid; the databases a test process may claim, first the one its xdist worker number points at.
_CLAIMS_DB = 15
_TEST_DBS = range(14, 0, -1)
_CLAIM_TTL_SECONDS = 6 * 3600
POSTGRES_ADMIN_URL = os.environ.get("INTAKE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _unavailable(what: str, why: str) -> NoReturn:
    message = f"{what} is not available ({why}); start it: see README 'Running the service'"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must have {message}", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


def redis_ping(url: str = _SERVER) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except RedisError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_redis_db(preferred: int | None = None) -> int | None:
    """A database number of the server at 6379 that no other live test process on this machine
    holds, claimed for this one (released when it exits), ``preferred`` (by default the one the
    xdist worker's number points at) if it is free; None when all are held. A claim left by a
    process that died (a killed run) is taken over."""
    from redis import Redis

    claims = Redis.from_url(f"{_SERVER}/{_CLAIMS_DB}", socket_connect_timeout=1)
    me = str(os.getpid())
    if preferred is None:
        preferred = 14 - _XDIST_WORKER % 12
    for db in [preferred, *(n for n in _TEST_DBS if n != preferred)]:
        key = f"intake-test:db:{db}"
        holder = claims.get(key)
        if holder is not None and holder.decode() != me and _alive(int(holder)):
            continue
        if holder is not None:  # ours already, or its process is gone
            claims.delete(key)
        if claims.set(key, me, nx=True, ex=_CLAIM_TTL_SECONDS):
            atexit.register(_release_claim, key, me)
            return db
    return None


def _release_claim(key: str, me: str) -> None:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        claims = Redis.from_url(f"{_SERVER}/{_CLAIMS_DB}", socket_connect_timeout=1)
        if claims.get(key) == me.encode():
            claims.delete(key)
    except RedisError:
        pass


def start_redis() -> None:
    if shutil.which("redis-server") is None:
        return
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--port", "6379", "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        check=False, capture_output=True,
    )
    for _ in range(50):
        if redis_ping():
            return
        time.sleep(0.1)


def stop_redis() -> None:
    """Shut the server down (fault tests); ``start_redis`` brings it back."""
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False, capture_output=True)
    for _ in range(50):
        if not redis_ping():
            return
        time.sleep(0.1)


def ensure_redis() -> str:
    """The URL of this test process's own Redis database (``claim_redis_db``), the server started
    if it is not running."""
    global REDIS_URL
    if not redis_ping():
        start_redis()
    if not redis_ping():
        _unavailable("Redis at 127.0.0.1:6379", "not running and could not be started")
    if REDIS_URL is None:
        db = claim_redis_db()
        if db is None:
            _unavailable("a free Redis database at 127.0.0.1:6379", "every one is claimed by a live test run")
        REDIS_URL = f"{_SERVER}/{db}"
    return REDIS_URL


def _pg_connect(url: str):  # type: ignore[no-untyped-def]
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
    return engine


def postgres_ok() -> bool:
    import sqlalchemy

    try:
        with _pg_connect(POSTGRES_ADMIN_URL).connect() as conn:
            conn.execute(sqlalchemy.text("select 1"))
        return True
    except Exception:
        return False


def start_postgres() -> None:
    versions = sorted(Path("/etc/postgresql").glob("*"))
    if not versions or shutil.which("pg_ctlcluster") is None:
        return
    version = versions[-1].name
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False,
                   capture_output=True)
    for _ in range(50):
        if postgres_ok():
            return
        time.sleep(0.2)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database for one test module; dropped afterwards."""
    import sqlalchemy

    if not postgres_ok():
        start_postgres()
    if not postgres_ok():
        _unavailable("PostgreSQL at 127.0.0.1:5432", "not running and could not be started")
    name = f"intake_test_{uuid.uuid4().hex[:10]}"
    admin = _pg_connect(POSTGRES_ADMIN_URL)
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:  # FORCE closes the connections still open in our engines

            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
