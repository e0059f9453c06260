"""The real Redis and PostgreSQL the tests run against.

If one is not running, we try to start it (the commands of this machine kind); if that fails the
tests that need it are skipped with a loud reason on a developer's machine, and fail in CI
(``CI=true``), where skipping would hide a broken service path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Each pytest-xdist worker (gw0, gw1 …) flushes a Redis database of its own: 14, 13, …
_XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("INTAKE_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{14 - _XDIST_WORKER % 12}")
POSTGRES_ADMIN_URL = os.environ.get("INTAKE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _unavailable(what: str, why: str) -> None:
    message = f"{what} is not available ({why}); start it: see README 'Running the service'"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must have {message}", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


def redis_ping(url: str = REDIS_URL) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except RedisError:
        return False


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
    if not redis_ping():
        start_redis()
    if not redis_ping():
        _unavailable("Redis at 127.0.0.1:6379", "not running and could not be started")
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
