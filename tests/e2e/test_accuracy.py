"""Scores the whole pipeline (real OCR included) on generated applications of two generator
families and asserts floors a little under what ``bench/bench_accuracy.py`` measures:

- ``tuning``: ``fixtures.generator``, the family rules may be tuned on;
- ``heldout``: ``fixtures.heldout``, a second family with its own layouts, wordings, fonts,
  hospitals, names and degradations, kept apart: no rule is tuned on it.

``INTAKE_ACCURACY_APPS`` changes how many applications of each family are scored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.scoring import SetScore
from intake.prescreen import Prescreener

from .conftest import prescreen

pytestmark = [pytest.mark.ocr, pytest.mark.slow]

N_APPLICATIONS = int(os.environ.get("INTAKE_ACCURACY_APPS", "24"))
FIRST_SEED = {"tuning": 1000, "heldout": 5000}  # apart from the seeds of the samples and unit tests

# Floors per family, a little under what bench/bench_accuracy.py measured on these seeds (README,
# "Measured"). The kept-apart family is still below the target on dates (on these 24 seeds
# on 2026-12-01: dates 92.4% for a target of 97%; names 97.9%, flagged 16.7%): its date floor
# holds the ground gained, not the goal.
FLOORS: dict[str, dict[str, float]] = {
    "tuning": {"doc_type": 0.97, "seal_present": 0.95, "grade_outcome": 0.95, "doc_date": 0.95,
               "patient_name": 0.95, "verdict": 0.92, "precision": 0.92, "recall": 0.90, "flagged": 0.15},
    "heldout": {"doc_type": 0.97, "seal_present": 0.93, "grade_outcome": 0.95, "doc_date": 0.88,
                "patient_name": 0.95, "verdict": 0.90, "precision": 0.88, "recall": 0.88, "flagged": 0.22},
}


def _generate(family: str, seed: int, folder: Path) -> None:
    if family == "tuning":
        from fixtures.generator import generate_application

        generate_application(seed, folder)
    else:
        from fixtures.heldout import generate_application as generate_heldout

        generate_heldout(seed, folder)


@pytest.fixture(scope="module", params=["tuning", "heldout"])
def scored(request: pytest.FixtureRequest, prescreener: Prescreener,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[SetScore]:
    family: str = request.param
    root = tmp_path_factory.mktemp(f"{family}-applications")
    score = SetScore(family)
    for seed in range(FIRST_SEED[family], FIRST_SEED[family] + N_APPLICATIONS):
        folder = root / f"app-{seed}"
        _generate(family, seed, folder)
        truth = json.loads((folder / "truth.json").read_text("utf-8"))
        truth.setdefault("case_id", folder.name)
        score.score_application(prescreen(prescreener, folder), truth, prescreener.registry)
    _print(score)
    yield score


def _print(score: SetScore) -> None:
    print(f"\n[{score.name}] accuracy over {score.verdict.total} applications")
    for name, tally in score.documents.items():
        print(f"  {name:15s} {tally}")
        for miss in tally.misses[:8]:
            print(f"      miss: {miss}")
    print(f"  verdict         {score.verdict}")
    for miss in score.false_problems[:12] + score.missed_problems[:12]:
        print(f"      problem: {miss}")


def floor(score: SetScore, metric: str) -> float:
    return FLOORS[score.name][metric]


def test_enough_documents_are_scored(scored: SetScore) -> None:
    assert scored.documents["doc_type"].total >= 4 * N_APPLICATIONS - N_APPLICATIONS // 2


@pytest.mark.parametrize("metric", ["doc_type", "seal_present", "grade_outcome", "doc_date", "patient_name"])
def test_document_metric(scored: SetScore, metric: str) -> None:
    tally = scored.documents[metric]
    assert tally.total >= 10, f"too few documents score {metric}"
    assert tally.rate >= floor(scored, metric), tally.misses


def test_verdict_accuracy(scored: SetScore) -> None:
    assert scored.verdict.rate >= floor(scored, "verdict"), scored.verdict.misses


def test_problem_precision_and_recall(scored: SetScore) -> None:
    problems = scored.all_problems
    assert problems.precision >= floor(scored, "precision"), scored.false_problems
    assert problems.recall >= floor(scored, "recall"), scored.missed_problems


def test_flags_are_not_how_the_verdict_is_reached(scored: SetScore) -> None:
    assert scored.flagged_share <= floor(scored, "flagged"), scored.flagged


def test_report_of_a_generated_application_keeps_the_contract(tmp_path: Path, prescreener: Prescreener) -> None:
    from fixtures.generator import generate_application

    generate_application(FIRST_SEED["tuning"], tmp_path / "app")
    contract = prescreen(prescreener, tmp_path / "app").contract()
    assert json.loads(json.dumps(contract, ensure_ascii=False)) == contract
    assert len(contract["evidence"]) == len(contract["problems"])
    assert [e["code"] for e in contract["evidence"]] == contract["problems"]
