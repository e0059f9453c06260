"""The pre-screener hands freed memory back to the OS after every file, even one that fails."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import intake.prescreen
from intake.application import Application
from intake.prescreen import Prescreener
from intake.settings import Settings


@pytest.mark.parametrize("trim", [True, False])
def test_analyse_file_releases_memory_after_each_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      trim: bool) -> None:
    calls: list[int] = []
    monkeypatch.setattr(intake.prescreen, "release_freed_memory", lambda: calls.append(1) or True)
    settings = Settings(db={"url": f"sqlite:///{tmp_path / 'db.sqlite'}"}, ocr={"trim_memory": trim})
    prescreener = Prescreener(settings)
    app = Application(applicant_name="张三", id_number="11010519491231002X", disease="高血压",
                      region="default", application_date=dt.date(2026, 3, 1))
    policy = prescreener.policies.for_region(app.region)
    report = prescreener.analyse_file("empty.jpg", b"", app, policy)
    assert report.error is not None
    assert len(calls) == (1 if trim else 0)
