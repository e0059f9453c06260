"""Shared, expensive pieces of the end-to-end tests: one Prescreener (models loaded once) on a
throw-away SQLite database."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.local import local_context, prescreen_folder
from intake.prescreen import Prescreener
from intake.report import Report
from intake.settings import Settings


@pytest.fixture(scope="session")
def prescreener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prescreener]:
    root = tmp_path_factory.mktemp("db")
    yield Prescreener(Settings(db={"url": f"sqlite:///{root / 'intake.db'}"}, storage={"root": root / "files"}))


def prescreen(prescreener: Prescreener, folder: Path) -> Report:
    """A folder through the whole flow, in-process, as `intake prescreen` runs it: its report."""
    return prescreen_folder(local_context(prescreener), folder).model


SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"
