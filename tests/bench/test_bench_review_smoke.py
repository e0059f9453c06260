"""bench/bench_review.py runs end to end on a small load (2,000 cases in a fresh PostgreSQL database,
the 6-document sample through the real pipeline) and prints every figure it promises. Timings are
printed, never asserted: they belong to the machine, not to the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.ocr, pytest.mark.postgres]


def test_bench_review_prints_queue_case_and_image_figures() -> None:
    with fresh_postgres_database():  # PostgreSQL is up (started, or the test skipped loudly)
        pass
    done = subprocess.run([sys.executable, "bench/bench_review.py", "--cases", "2000", "--requests", "20"],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"'applications': 2000\b", out), out
    for name in ("queue page", "queue, JSON API", "case page", "case, JSON API"):
        line = re.search(rf"^  {re.escape(name)}\s+median\s+[\d.]+ ms\s+p95\s+[\d.]+ ms\s+\(n=20\)", out, re.M)
        assert line, f"{name}: no timing in\n{out}"
    assert re.search(r"queue page .* target < 100 ms p95: (met|MISSED)", out)
    assert re.search(r"case page .* target < 150 ms p95: (met|MISSED)", out)
    weight = re.search(r"HTML [\d.]+ KiB; (\d+) page images (\d+) KiB", out)
    assert weight and int(weight.group(1)) >= 6 and int(weight.group(2)) > 0, out
    assert re.search(r"images, first load \(drawn\)\s+\d+ ms", out) and re.search(r"images, again \(cached\)", out)
    assert "slowest SQL statements" in out
