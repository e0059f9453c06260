"""Our pipeline's own time outside OCR, as a fraction of OCR time (target: under 10%).

Runs every document of the bundled sample applications once through the stages of
``Prescreener.analyse_file`` and times each stage apart:

- OCR: ``read_document`` (decode, normalise, PaddleOCR or the PDF text layer), the seal-text
  recogniser's calls, the second reading of the text around a seal and of the areas where a date
  should be but none was read (with the page drawn again from the file closer, for a photo read
  smaller than it was taken), and the recogniser's fit of a misread name's line to the applicant's
  name and of a misread year's line to the years it may be (all model inference);
- ours: hashing, seal detection, finding the areas to read again, classification, field
  extraction, every check, the assessment of the application and writing the report and the OCR
  cache to SQLite.

    .venv/bin/python bench/bench_pipeline.py [--samples DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import intake.prescreen as prescreen_module
from classifiers.pipeline import analyse_document
from classifiers.seal import find_seal
from intake.application import load_application
from intake.assess import assess
from intake.prescreen import Prescreener, ReadOutcome, context_factory, document_report
from intake.report import DocumentReport
from intake.settings import REPO_ROOT, Settings
from intake.store import put_cached_ocr
from ocr import read_document
from ocr.memory import release_freed_memory
from ocr.seal_text import SealText


class Stopwatch:
    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)

    def time(self, stage: str):  # type: ignore[no-untyped-def]
        watch = self

        class _Timer:
            def __enter__(self) -> None:
                self.start = time.perf_counter()

            def __exit__(self, *exc: object) -> None:
                watch.totals[stage] += time.perf_counter() - self.start

        return _Timer()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=REPO_ROOT / "fixtures" / "samples")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        prescreener = Prescreener(Settings(db={"url": f"sqlite:///{tmp}/bench.db"}))
        engine, reader = prescreener.engine, prescreener.seal_reader
        watch = Stopwatch()

        def timed_reader(crop):  # type: ignore[no-untyped-def]
            with watch.time("ocr: seal text"):
                return reader(crop) if reader else SealText()

        read_area = prescreen_module.read_area

        def timed_read_area(*args, **kwargs):  # type: ignore[no-untyped-def]
            with watch.time("ocr: dates read again"):
                return read_area(*args, **kwargs)

        prescreen_module.read_area = timed_read_area  # type: ignore[assignment]
        render_page_closer = prescreen_module.render_page_closer

        def timed_render_page_closer(*args, **kwargs):  # type: ignore[no-untyped-def]
            with watch.time("ocr: a page drawn again closer"):
                return render_page_closer(*args, **kwargs)

        prescreen_module.render_page_closer = timed_render_page_closer  # type: ignore[assignment]

        # Warm up: model loading is a once-per-process cost, not a per-document one.
        prescreener.registry, prescreener.catalogue  # noqa: B018
        folders = sorted(p for p in args.samples.iterdir() if (p / "application.json").is_file())
        first = load_application(folders[0])[1][0].read_bytes()
        read_document(first, engine)

        n_docs = n_pages = 0
        for folder in folders:
            application, paths = load_application(folder)
            policy = prescreener.policies.for_region(application.region)
            reports: list[DocumentReport] = []
            for path in paths:
                data = path.read_bytes()
                with watch.time("ours: hash"):
                    sha = hashlib.sha256(data).hexdigest()
                try:
                    with watch.time("ocr: read_document"):
                        document = read_document(data, engine)
                except Exception:
                    continue
                n_docs += 1
                n_pages += len(document.ocr.pages)
                with watch.time("ours: seal detection"):
                    seal = find_seal(document.images, timed_reader if reader else None)
                with watch.time("ocr: text under the seal"):
                    prescreener.read_under_seal(document.ocr, document.images, seal)
                with watch.time("ours: dates to read again"):
                    prescreener.read_dates_again(document.ocr, document.images, data)
                with watch.time("ours: store OCR cache"), prescreener.sessions.begin() as session:
                    put_cached_ocr(session, sha256=sha, fingerprint="bench", media_type=document.ocr.media_type,
                                   result=document.ocr.model_dump(mode="json"), seal=seal.model_dump(mode="json"))
                fit = prescreener.text_fit(document.images)

                def timed_fit(page, box, texts, fit=fit):  # type: ignore[no-untyped-def]
                    with watch.time("ocr: names and years fit again"):
                        return fit(page, box, texts)

                with watch.time("ours: classify, extract, check"):
                    analysis = analyse_document(
                        document.ocr, document.images, seal, context_factory(policy, application),
                        registry=prescreener.registry, catalogue=prescreener.catalogue, text_fit=timed_fit,
                    )
                    outcome = ReadOutcome(document.ocr, document.images, seal, cached=False)
                    reports.append(document_report(path.name, sha, outcome, analysis, seconds=0.0))
                del document, outcome, analysis
                if engine.options.trim_memory:
                    with watch.time("ours: release freed memory"):  # as analyse_file does after each file
                        release_freed_memory()
            with watch.time("ours: assess"):
                assess(application, policy, reports, submitted=application.application_date)

    # The seal reader's time was counted inside "seal detection" too: move it to the OCR side.
    seal_ocr = watch.totals.get("ocr: seal text", 0.0)
    watch.totals["ours: seal detection"] -= seal_ocr
    # Likewise the areas read again inside "dates to read again", and a name's line scored again by
    # the recogniser inside the analysis.
    watch.totals["ours: dates to read again"] -= watch.totals.get("ocr: dates read again", 0.0) + watch.totals.get(
        "ocr: a page drawn again closer", 0.0)
    watch.totals["ours: classify, extract, check"] -= watch.totals.get("ocr: names and years fit again", 0.0)
    ocr_total = sum(v for k, v in watch.totals.items() if k.startswith("ocr"))
    ours_total = sum(v for k, v in watch.totals.items() if k.startswith("ours"))
    print(f"{n_docs} documents, {n_pages} pages from {len(folders)} sample applications\n")
    print(f"{'stage':34s} {'seconds':>9s} {'ms/page':>9s}")
    for stage, seconds in sorted(watch.totals.items()):
        print(f"{stage:34s} {seconds:9.2f} {1000 * seconds / max(n_pages, 1):9.1f}")
    print(f"\n{'OCR total':34s} {ocr_total:9.2f}")
    print(f"{'ours total (outside OCR)':34s} {ours_total:9.2f}")
    print(f"ours / OCR = {100 * ours_total / ocr_total:.1f}%  (target < 10%)")


if __name__ == "__main__":
    main()
