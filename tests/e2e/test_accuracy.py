"""Scores the whole pipeline (real OCR included) on generated applications and asserts the floors
of the issue: document type ≥ 97%, seal presence ≥ 95%, grade outcome ≥ 95%, relevant date ≥ 95%,
verdict ≥ 90%, over at least 100 documents.

The applications come from ``fixtures.generator.generate_application(seed)``: random regions,
diseases, layouts, hospitals of every grade, seals present / absent / blue / of another
organisation, dates of every format, photos degraded like phone photos, scans and PDFs, about a
third clean and the rest with one to three defects. ``INTAKE_ACCURACY_APPS`` changes how many.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from classifiers.hospital import meets_min_grade
from intake.prescreen import Prescreener
from intake.report import DocumentReport, Report

from .conftest import prescreen

pytestmark = [pytest.mark.ocr, pytest.mark.slow]

N_APPLICATIONS = int(os.environ.get("INTAKE_ACCURACY_APPS", "28"))
FIRST_SEED = 1000  # apart from the seeds the committed samples and the unit tests use


@dataclass
class Score:
    right: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, what: str) -> None:
        self.total += 1
        self.right += ok
        if not ok:
            self.misses.append(what)

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.right}/{self.total} = {100 * self.rate:.1f}%"


@dataclass
class Scores:
    doc_type: Score = field(default_factory=Score)
    seal_present: Score = field(default_factory=Score)
    grade_outcome: Score = field(default_factory=Score)
    doc_date: Score = field(default_factory=Score)
    verdict: Score = field(default_factory=Score)
    problems_exact: Score = field(default_factory=Score)
    documents: int = 0


def expected_grade_outcome(truth: dict) -> str:
    """What the grade check must say for a document from this hospital under a 二级 minimum."""
    if not truth.get("hospital_in_registry"):
        return "unknown"
    return "pass" if meets_min_grade(truth["grade"], "二级") else "fail"


def score_document(scores: Scores, doc: DocumentReport, truth: dict, prescreener: Prescreener) -> None:
    where = f"{truth['file']} ({truth['doc_type']})"
    if truth.get("unreadable"):
        return  # deliberately unreadable: only the verdict (unreadable:<file>) is scored
    scores.documents += 1
    scores.doc_type.add(doc.doc_type == truth["doc_type"], f"{where}: got {doc.doc_type}")
    if doc.error is not None:
        return
    seal = truth.get("seal") or {}
    scores.seal_present.add(doc.checks.seal.present == bool(seal.get("present")),
                            f"{where}: seal present {doc.checks.seal.present}, truth {seal}")
    if truth.get("hospital_name") and truth["doc_type"] not in ("id_card",):
        got = _grade_outcome(doc, prescreener)
        scores.grade_outcome.add(got == expected_grade_outcome(truth),
                                 f"{where}: grade {got}, truth {truth.get('hospital_name')} {truth.get('grade')}")
    if truth.get("doc_date"):
        scores.doc_date.add(doc.fields.get("doc_date") == truth["doc_date"],
                            f"{where}: date {doc.fields.get('doc_date')}, truth {truth['doc_date']}")


def _grade_outcome(doc: DocumentReport, prescreener: Prescreener) -> str:
    from classifiers.hospital import check_hospital

    check = check_hospital(doc.fields.get("hospital_name"), doc.checks.seal.text, prescreener.registry, "二级")
    return str(check.outcome)


@pytest.fixture(scope="module")
def scored(prescreener: Prescreener, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scores]:
    from fixtures.generator import generate_application

    root = tmp_path_factory.mktemp("generated-applications")
    scores = Scores()
    for seed in range(FIRST_SEED, FIRST_SEED + N_APPLICATIONS):
        folder = root / f"app-{seed}"
        generate_application(seed, folder)
        truth = json.loads((folder / "truth.json").read_text("utf-8"))
        report: Report = prescreen(prescreener, folder)
        by_file = {d.file: d for d in report.documents}
        for doc_truth in truth["documents"]:
            score_document(scores, by_file[doc_truth["file"]], doc_truth, prescreener)
        scores.verdict.add(report.verdict == truth["verdict"],
                           f"{folder.name}: {report.verdict} {report.problems}, truth {truth['problems']}")
        scores.problems_exact.add(sorted(report.problems) == sorted(truth["problems"]),
                                  f"{folder.name}: {sorted(report.problems)} vs {sorted(truth['problems'])}")
    _print(scores)
    yield scores


def _print(scores: Scores) -> None:
    print(f"\naccuracy over {scores.documents} documents in {scores.verdict.total} generated applications")
    for name in ("doc_type", "seal_present", "grade_outcome", "doc_date", "verdict", "problems_exact"):
        score: Score = getattr(scores, name)
        print(f"  {name:15s} {score}")
        for miss in score.misses[:12]:
            print(f"      miss: {miss}")


def test_enough_documents_are_scored(scored: Scores) -> None:
    assert scored.documents >= 100
    types = Counter(m.split("(")[-1] for m in scored.doc_type.misses)
    assert scored.doc_type.total >= 100, types


def test_document_type_accuracy(scored: Scores) -> None:
    assert scored.doc_type.rate >= 0.97, scored.doc_type.misses


def test_seal_presence_accuracy(scored: Scores) -> None:
    assert scored.seal_present.rate >= 0.95, scored.seal_present.misses


def test_grade_outcome_accuracy(scored: Scores) -> None:
    assert scored.grade_outcome.rate >= 0.95, scored.grade_outcome.misses


def test_relevant_date_accuracy(scored: Scores) -> None:
    assert scored.doc_date.rate >= 0.95, scored.doc_date.misses


def test_verdict_accuracy(scored: Scores) -> None:
    assert scored.verdict.rate >= 0.90, scored.verdict.misses


def test_report_of_a_generated_application_keeps_the_contract(tmp_path: Path, prescreener: Prescreener) -> None:
    from fixtures.generator import generate_application

    generate_application(FIRST_SEED, tmp_path / "app")
    contract = prescreen(prescreener, tmp_path / "app").contract()
    assert json.loads(json.dumps(contract, ensure_ascii=False)) == contract
