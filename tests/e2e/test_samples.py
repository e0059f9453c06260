"""The bundled sample applications, through the real OCR: every verdict is that of their truth, and
the problem codes agree with the truth by precision and recall (each ≥ 90% over all samples; the
misses are printed, so a regression shows which document went wrong)."""

import json
from pathlib import Path

import pytest

from intake.prescreen import Prescreener
from intake.report import Report, Verdict

from .conftest import SAMPLES, prescreen

pytestmark = pytest.mark.ocr

SAMPLE_DIRS = sorted(p for p in SAMPLES.glob("*") if (p / "truth.json").is_file())


def truth_of(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def reports(prescreener: Prescreener) -> dict[str, Report]:
    return {folder.name: prescreen(prescreener, folder) for folder in SAMPLE_DIRS}


def test_there_are_sample_applications_of_both_verdicts() -> None:
    verdicts = {truth_of(p)["verdict"] for p in SAMPLE_DIRS}
    assert len(SAMPLE_DIRS) >= 10
    assert verdicts == {"ready_for_review", "needs_supplement"}


@pytest.mark.parametrize("folder", SAMPLE_DIRS, ids=[p.name for p in SAMPLE_DIRS])
def test_sample_application_verdict(reports: dict[str, Report], folder: Path) -> None:
    report = reports[folder.name]
    truth = truth_of(folder)
    assert report.verdict == Verdict(truth["verdict"]), (report.problems, truth["problems"])
    for problem in report.problems:  # 一次性告知: every problem is explained in the notice
        subject = problem.partition(":")[2]
        assert subject in report.notice or problem.startswith("missing:")


def test_sample_problem_codes_precision_and_recall(reports: dict[str, Report]) -> None:
    found = expected = right = 0
    misses = []
    for folder in SAMPLE_DIRS:
        got, want = set(reports[folder.name].problems), set(truth_of(folder)["problems"])
        found, expected, right = found + len(got), expected + len(want), right + len(got & want)
        if got != want:
            misses.append(f"{folder.name}: extra {sorted(got - want)}, missed {sorted(want - got)}")
    precision, recall = right / max(found, 1), right / max(expected, 1)
    print(f"\nsample problem codes: precision {precision:.2f}, recall {recall:.2f}", *misses, sep="\n  ")
    assert expected >= 12
    assert precision >= 0.9, misses
    assert recall >= 0.9, misses


def test_second_run_of_the_same_files_does_no_ocr(prescreener: Prescreener, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = SAMPLE_DIRS[0]
    first = prescreen(prescreener, folder)

    def no_ocr(*args: object, **kwargs: object) -> None:
        raise AssertionError("OCR ran although the result was cached")

    monkeypatch.setattr("intake.prescreen.read_document", no_ocr)
    second = prescreen(prescreener, folder)
    assert all(doc.ocr_cached for doc in second.documents if doc.error is None)
    assert second.contract()["problems"] == first.contract()["problems"]
    assert [d.fields for d in second.documents] == [d.fields for d in first.documents]


def test_issue14_pages_are_other_documents_of_their_kind(reports: dict[str, Report]) -> None:
    """The 户口本 pages of the proxy sample and the dialysis record of the extras sample come out as
    the report contract's `other` with the kind their truth states (never a seventh type)."""
    six = {"id_card", "diagnosis_certificate", "discharge_summary", "lab_report", "medical_record", "other"}
    checked = 0
    for folder in SAMPLE_DIRS:
        by_file = {d.file: d for d in reports[folder.name].documents}
        assert {str(d.doc_type) for d in by_file.values() if d.doc_type} <= six
        for want in truth_of(folder)["documents"]:
            if want["doc_type"] == "other" and want.get("kind") and not want["unreadable"]:
                got = by_file[want["file"]]
                assert (got.doc_type, got.kind) == ("other", want["kind"]), (folder.name, want["file"])
                checked += 1
    assert checked >= 3
