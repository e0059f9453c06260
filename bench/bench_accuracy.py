"""Accuracy of the whole pre-screen (real OCR, the same in-process flow as ``intake prescreen``), per
set, side by side:

- ``tuning``: applications of ``fixtures.generator``, the generator rules may be tuned on;
- ``heldout``: applications of ``fixtures.heldout``, a second generator family with its own layouts,
  wordings, fonts, hospitals, names and degradations, which no rule is tuned on;
- ``realworld``: the real public files of ``../shared/realworld`` (documents only, no applications).

Prints every per-document metric, the verdict, problem precision and recall (overall and per problem
kind), the verdict confusion matrix and the share of applications with a reviewer flag.

    .venv/bin/python bench/bench_accuracy.py [--apps 30] [--sets tuning,heldout,realworld]
                                             [--cache DIR] [--misses 10] [--json FILE]

``--cache DIR`` keeps the database (and its OCR cache) in DIR between runs, so a run after a change to the
classifiers or the assessment re-reads nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fixtures.realworld import REALWORLD, REALWORLD_TRUTH
from fixtures.scoring import DOCUMENT_METRICS, SetScore
from intake.application import Application
from intake.local import local_context, prescreen_folder
from intake.prescreen import Prescreener
from intake.report import DocumentReport
from intake.settings import Settings
from intake.store import get_cached_ocr
from ocr.types import OcrResult

FIRST_SEED = {"tuning": 1000, "heldout": 5000}


def generator(name: str) -> Callable[[int, Path], Any]:
    if name == "tuning":
        from fixtures.generator import generate_application

        return lambda seed, folder: generate_application(seed, folder)
    from fixtures.heldout import generate_application as heldout

    return heldout


def cached_text(prescreener: Prescreener) -> Callable[[DocumentReport], str]:
    """A document's OCR text (with what was read again) from the OCR cache: a case report keeps none."""

    def text_of(doc: DocumentReport) -> str:
        with prescreener.sessions() as session:
            entry = get_cached_ocr(session, sha256=doc.sha256, fingerprint=prescreener.fingerprint)
            return OcrResult.model_validate(entry.result).text if entry is not None else ""

    return text_of


def score_generated(name: str, prescreener: Prescreener, apps: int, root: Path, *, first_seed: int) -> SetScore:
    make, ctx = generator(name), local_context(prescreener)
    score = SetScore(name, text_of=cached_text(prescreener))
    for seed in range(first_seed, first_seed + apps):
        folder = root / name / f"app-{seed}"
        make(seed, folder)
        truth = json.loads((folder / "truth.json").read_text("utf-8"))
        truth.setdefault("case_id", folder.name)
        report = prescreen_folder(ctx, folder).model
        score.score_application(report, truth, prescreener.registry)
    return score


# A claim the real files are checked against: nobody's, so identity and recency do not decide here.
REALWORLD_APPLICATION = Application(applicant_name="孟丁", id_number="110105194912310029", disease="糖尿病",
                                    application_date=dt.date(2016, 9, 1))


def score_realworld(prescreener: Prescreener) -> SetScore:
    score = SetScore("realworld")
    policy = prescreener.policies.for_region("default")
    for name, truth in sorted(REALWORLD_TRUTH.items()):
        path = REALWORLD / name
        if not path.is_file():
            continue
        report = prescreener.analyse_file(name, path.read_bytes(), REALWORLD_APPLICATION, policy)
        score.score_document(report, {"file": name, **truth}, prescreener.registry)
        if "id_valid" in truth:
            got = report.checks.identity.id_valid
            score.documents.setdefault("id_valid", type(score.verdict)()).add(
                got is truth["id_valid"], f"{name}: id_valid {got}, truth {truth['id_valid']}")
    return score


def pct(value: float) -> str:
    return "—" if math.isnan(value) else f"{100 * value:5.1f}%"


def print_scores(scores: list[SetScore], *, misses: int) -> None:
    names = [s.name for s in scores]
    width = 22
    header = f"{'metric':24s}" + "".join(f"{n:>{width}s}" for n in names)
    print(header)
    print("-" * len(header))
    metrics = list(DOCUMENT_METRICS) + sorted({k for s in scores for k in s.documents} - set(DOCUMENT_METRICS))
    for metric in metrics:
        print(f"{metric:24s}" + "".join(f"{str(s.documents[metric]) if metric in s.documents else '—':>{width}s}"
                                        for s in scores))
    for label, get in (("verdict", lambda s: str(s.verdict)), ("problems exact", lambda s: str(s.problems_exact)),
                       ("problem precision", lambda s: pct(s.all_problems.precision)),
                       ("problem recall", lambda s: pct(s.all_problems.recall)),
                       ("flagged applications", lambda s: f"{len(s.flagged)}/{s.verdict.total} = "
                                                          f"{pct(s.flagged_share)}" if s.verdict.total else "—")):
        print(f"{label:24s}" + "".join(f"{get(s):>{width}s}" for s in scores))
    for s in scores:
        if not s.verdict.total:
            continue
        print(f"\n[{s.name}] problem precision / recall by kind (told right, told wrong, missed)")
        for kind in sorted(k for k in s.problems if k != "all"):
            t = s.problems[kind]
            print(f"  {kind:20s} precision {pct(t.precision)}  recall {pct(t.recall)}  "
                  f"({t.true_positive}, {t.false_positive}, {t.false_negative})")
        verdicts = ("ready_for_review", "needs_supplement")
        print(f"[{s.name}] verdict confusion (rows: truth, columns: pre-screen)")
        print(f"  {'':18s}" + "".join(f"{v:>18s}" for v in verdicts))
        for want in verdicts:
            print(f"  {want:18s}" + "".join(f"{s.confusion[(want, got)]:>18d}" for got in verdicts))
        for what, outcomes, glyph in (("doc_date", s.date_outcomes, "one digit off"),
                                      ("patient_name", s.name_outcomes, "one glyph off")):
            if outcomes:
                types = sorted({t for t, _ in outcomes})
                print(f"[{s.name}] {what} by type (right / none read / {glyph} / another): " + ", ".join(
                    f"{t} " + "/".join(str(outcomes[(t, o)]) for o in ("right", "none", "glyph", "other"))
                    for t in types))
        if s.date_misses:
            print(f"[{s.name}] doc_date misses by what the page's text holds of the right date "
                  "(read whole but not taken / month and day with another year / unread): " + ", ".join(
                      f"{t} " + "/".join(str(s.date_misses[(t, k)]) for k in ("not taken", "year", "unread"))
                      for t in sorted({t for t, _ in s.date_misses})))
        if s.flag_codes:
            print(f"[{s.name}] applications flagged, by flag: " + ", ".join(
                f"{code} {n}" for code, n in s.flag_codes.most_common()))
        if misses:
            for what, items in (("told wrongly", s.false_problems), ("missed", s.missed_problems),
                                ("flagged", s.flagged)):
                for item in items[:misses]:
                    print(f"    {what}: {item}")
    if misses:
        for s in scores:
            for metric, tally in s.documents.items():
                for miss in tally.misses[:misses]:
                    print(f"  [{s.name}] {metric} miss: {miss}")


def as_json(scores: list[SetScore]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in scores:
        out[s.name] = {
            "documents": {k: {"right": t.right, "total": t.total} for k, t in s.documents.items()},
            "verdict": {"right": s.verdict.right, "total": s.verdict.total},
            "problem_precision": s.all_problems.precision, "problem_recall": s.all_problems.recall,
            "by_kind": {k: {"precision": t.precision, "recall": t.recall} for k, t in s.problems.items()},
            "flagged": {"flagged": len(s.flagged), "total": s.verdict.total, "by_flag": dict(s.flag_codes)},
            "confusion": {f"{a}->{b}": n for (a, b), n in s.confusion.items()},
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", type=int, default=30, help="applications per generated set")
    parser.add_argument("--sets", default="tuning,heldout,realworld")
    parser.add_argument("--cache", type=Path, help="keep OCR results here between runs")
    parser.add_argument("--misses", type=int, default=0, help="show this many misses per metric")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        # With --cache the database (and so the OCR cache, by sha256 and fingerprint) outlives the run.
        store = args.cache or Path(tmp)
        store.mkdir(parents=True, exist_ok=True)
        prescreener = Prescreener(Settings(db={"url": f"sqlite:///{store / 'intake.db'}"},
                                           storage={"root": store / "files"}))
        scores: list[SetScore] = []
        started = time.perf_counter()
        for name in sets:
            if name == "realworld":
                scores.append(score_realworld(prescreener))
            else:
                scores.append(score_generated(name, prescreener, args.apps, Path(tmp) / "apps",
                                              first_seed=FIRST_SEED[name]))
        print(f"accuracy over {args.apps} applications per generated set "
              f"({time.perf_counter() - started:.0f} s, fingerprint {prescreener.fingerprint})\n")
        print_scores(scores, misses=args.misses)
        if args.json:
            args.json.write_text(json.dumps(as_json(scores), ensure_ascii=False, indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
