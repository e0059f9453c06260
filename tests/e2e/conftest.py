"""Shared, expensive pieces of the end-to-end tests: one Prescreener (models loaded once) on a
throw-away SQLite database."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.prescreen import Prescreener
from intake.settings import Settings


@pytest.fixture(scope="session")
def prescreener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prescreener]:
    db = tmp_path_factory.mktemp("db") / "intake.db"
    yield Prescreener(Settings(db={"url": f"sqlite:///{db}"}))


SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"
