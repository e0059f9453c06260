"""The test harness's own promise: two test runs on one machine each flush and queue in a Redis
database of their own (``tests.services.claim_redis_db``), so neither takes the other's jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

import tests.services as services

ROOT = Path(__file__).resolve().parents[1]


def _claim_in_another_process(preferred: int) -> int:
    code = f"import tests.services as s; print(s.claim_redis_db({preferred}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def test_another_test_run_gets_another_database_and_a_dead_runs_claim_is_taken_over() -> None:
    if os.environ.get("INTAKE_TEST_REDIS_URL"):
        pytest.skip("INTAKE_TEST_REDIS_URL sets the database: nothing is claimed")
    url = services.ensure_redis()
    claims = Redis.from_url(f"{services._SERVER}/{services._CLAIMS_DB}")
    ours = int(url.rsplit("/", 1)[1])
    assert claims.get(f"intake-test:db:{ours}") == str(os.getpid()).encode()

    # Our database is held by a live process (this one): another run asking for it gets another.
    other = _claim_in_another_process(preferred=ours)
    assert other != ours and other in services._TEST_DBS
    # That run has exited and released its claim at exit.
    assert claims.get(f"intake-test:db:{other}") is None

    # A claim left by a run that died without releasing it is taken over.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    claims.set(f"intake-test:db:{other}", dead)
    try:
        assert _claim_in_another_process(preferred=other) == other
    finally:
        if claims.get(f"intake-test:db:{other}") == dead.encode():
            claims.delete(f"intake-test:db:{other}")
