# The two commands of the README quick start.
.PHONY: setup demo test lint bench

setup:
	@bash scripts/setup.sh

# Pre-screen the bundled sample applications on the embedded defaults (SQLite, offline OCR models).
demo: setup
	.venv/bin/intake demo

# Everything the tests need, then the whole suite, on two processes (a test module stays on one;
# each process has its own Redis database, see tests/services.py).
test:
	@bash scripts/setup.sh --test
	.venv/bin/pytest -n 2 --dist loadfile

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy

bench: setup
	.venv/bin/python bench/bench_ocr.py
	.venv/bin/python bench/bench_pipeline.py
	.venv/bin/python bench/bench_memory.py
