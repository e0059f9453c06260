"""The bundled sample applications, through the real OCR, give the verdict and problems of their truth."""

import json
from pathlib import Path

import pytest

from intake.prescreen import Prescreener
from intake.report import Verdict

from .conftest import SAMPLES

pytestmark = pytest.mark.ocr

SAMPLE_DIRS = sorted(p for p in SAMPLES.glob("*") if (p / "truth.json").is_file())


def test_there_are_sample_applications_of_both_verdicts() -> None:
    verdicts = {json.loads((p / "truth.json").read_text("utf-8"))["verdict"] for p in SAMPLE_DIRS}
    assert len(SAMPLE_DIRS) >= 10
    assert verdicts == {"ready_for_review", "needs_supplement"}


@pytest.mark.parametrize("folder", SAMPLE_DIRS, ids=[p.name for p in SAMPLE_DIRS])
def test_sample_application_verdict_and_problems(prescreener: Prescreener, folder: Path) -> None:
    truth = json.loads((folder / "truth.json").read_text("utf-8"))
    report = prescreener.prescreen_dir(folder)
    got = {doc.file: (doc.doc_type, doc.error) for doc in report.documents}
    assert sorted(report.problems) == sorted(truth["problems"]), (report.notice, got)
    assert report.verdict == Verdict(truth["verdict"])
    for problem in report.problems:  # 一次性告知: every problem is explained in the notice
        subject = problem.partition(":")[2]
        assert subject in report.notice or problem.startswith("missing:")


def test_second_run_of_the_same_files_does_no_ocr(prescreener: Prescreener, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = SAMPLE_DIRS[0]
    first = prescreener.prescreen_dir(folder)

    def no_ocr(*args: object, **kwargs: object) -> None:
        raise AssertionError("OCR ran although the result was cached")

    monkeypatch.setattr("intake.prescreen.read_document", no_ocr)
    second = prescreener.prescreen_dir(folder)
    assert all(doc.ocr_cached for doc in second.documents if doc.error is None)
    assert second.contract()["problems"] == first.contract()["problems"]
    assert [d.fields for d in second.documents] == [d.fields for d in first.documents]
