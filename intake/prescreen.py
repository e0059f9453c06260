"""Pre-screening of one file: read (OCR or the cached result), its seal found, classified, its
fields extracted and checked against the application and the region policy. No queues or HTTP
here: the workers call it for every document, whichever path it came by (upload, folder, re-scan).

The stages of one file, in order: hash → OCR (or the cached result) → seal finding → analysis.
A file that fails any stage becomes a document with an ``error``; the rest are still assessed.

What the page pixels showed (the seal, and the pixel findings of ``classifiers.quality.PagePixels``:
blank-page ink, quality measures, signature areas) is cached beside the OCR result, so a document
analysed again from the cache (a re-scan after a classifier change) is not drawn again from its file.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from classifiers.dates import find_dates, unread_date_areas
from classifiers.diagnosis import DiseaseCatalogue
from classifiers.fields import build_rows
from classifiers.hospital import HospitalRegistry
from classifiers.identity import TextFit
from classifiers.pipeline import DocumentAnalysis, analyse_document
from classifiers.quality import PIXEL_FINDINGS_VERSION, PagePixels
from classifiers.seal import find_seal
from classifiers.text import fold
from classifiers.types import DATE_NOT_BEFORE, DocType, DocumentContext, SealFinding
from intake.application import Application
from intake.errors import RegistryInvalid
from intake.policy import Policy, load_policies
from intake.report import FIELD_NAMES, DocumentReport, FieldSource, unknown_checks
from intake.settings import Settings
from intake.store import get_cached_ocr, put_cached_ocr, session_factory
from ocr import OcrEngine, read_document, render_pages
from ocr.document import render_page_closer
from ocr.errors import OcrEngineError, OcrError
from ocr.memory import release_freed_memory
from ocr.reread import fade_red, line_fit, read_area, read_seal_dates, red_channel, replace_lines, reread_under_seal
from ocr.types import Box, OcrLine, OcrResult

if TYPE_CHECKING:
    from ocr.seal_text import SealTextReader

log = logging.getLogger(__name__)

# Bump when the seal detector changes what it finds (or what is read under a seal): cached seal
# findings, and the OCR results the text under a seal was added to, are then re-made.
# 12: a pale desk told from the sheet, a seal over the sheet's edge measured against it; 11: a red
# ring under the smallest seal size is a near miss (doubt about "no seal"); 10: the
# finding keeps how well the seal's name was read (name_score); 9: a ring's blur is not
# held against a small stamp measured in full detail; 7: ink on the rim counts as on the sheet (a
# shadow is no desk); 6: a seal cut by the sheet's edge.
SEAL_FINDING_VERSION = 12
# Bumped with any change to what is read again before a result is cached (under the seal, dates).
# 1: areas where a document's own date should be but none was read; 2: a whole date read again
# around the seal replaces the part of it first read; 3: where no date was read around the seal,
# the area read again in its red channel; 4: an area where a date should be read again in the red
# channel too when faded red gives none, and a date whose year was cut short ("202.06.30") read again;
# 5: around the seal, the red channel read enlarged too when it gives no date as it is, on any page;
# 6: on a page read well only, as before 5; 7: enlarged only on a page with no date at all; 8: an
# area still without a date read again on the page drawn from the file with more detail.
REREAD_VERSION = 8


# The text under a seal is read again only on a page that was itself read: this many lines, half
# of them at this score or better.
READ_PAGE_MIN_LINES = 5
READ_PAGE_MIN_SCORE = 0.85


@dataclass
class ReadOutcome:
    """A file read: its OCR result, page images and seal finding.

    From ``Prescreener.read``, ``images`` is a ``PagePixels``: on an OCR-cache hit its pages are drawn
    from the file only if a pixel finding the analysis asks for is not cached; ``cache_key``
    (sha256, fingerprint) is the cache entry the findings measured meanwhile are added to (None:
    they are not kept)."""

    ocr: OcrResult
    images: Sequence[np.ndarray]
    seal: SealFinding
    cached: bool
    cache_key: tuple[str, str] | None = None


@dataclass
class Prescreener:
    """Everything loaded once per process: OCR models, registry, catalogue, policies, database."""

    settings: Settings
    registry_path: Path | None = None

    @cached_property
    def engine(self) -> OcrEngine:
        return OcrEngine(self.settings.ocr)

    @cached_property
    def seal_reader(self) -> SealTextReader | None:
        if not self.settings.read_seal_text:
            return None
        from ocr.engine import engine_config
        from ocr.seal_text import SealTextReader

        opts = self.settings.ocr
        return SealTextReader(
            rec_model_name=opts.rec_model_name,
            rec_model_dir=opts.rec_model_dir,
            model_cache_dir=opts.model_cache_dir,
            engine=opts.engine,
            engine_config=engine_config(opts),
        )

    @cached_property
    def registry(self) -> HospitalRegistry:
        path = self.registry_path or self.settings.registry_path
        try:
            return HospitalRegistry.from_csv(path)
        except (OSError, ValueError) as exc:
            raise RegistryInvalid(f"cannot load the hospital registry {path}: {exc}") from exc

    @cached_property
    def catalogue(self) -> DiseaseCatalogue:
        return DiseaseCatalogue.load()

    @cached_property
    def policies(self):  # type: ignore[no-untyped-def]
        return load_policies(self.settings.policies_dir)

    @cached_property
    def sessions(self):  # type: ignore[no-untyped-def]
        return session_factory(self.settings.db.url, self.settings.db.echo)

    @property
    def fingerprint(self) -> str:
        """Cache key part: the OCR engine's fingerprint plus what the seal finding depends on."""
        reader = self.seal_reader
        seal_part = getattr(reader, "fingerprint", "seal-reader") if reader else "no-seal-text"
        return f"{self.engine.fingerprint}|seal:{SEAL_FINDING_VERSION}:{seal_part}|reread:{REREAD_VERSION}"

    # --- one file ---------------------------------------------------------------------------------

    def read(self, data: bytes, sha256: str) -> ReadOutcome:
        """OCR the file (or take the cached result, its seal finding and pixel findings) and find its
        seal; on a cache hit the pages are drawn from the file only when a finding is missing."""
        fingerprint = self.fingerprint
        key = (sha256, fingerprint)
        with self.sessions() as session:
            entry = get_cached_ocr(session, sha256=sha256, fingerprint=fingerprint)
            if entry is not None:
                ocr = OcrResult.model_validate(entry.result)

                def render() -> list[np.ndarray]:
                    return render_pages(data, ocr, options=self.settings.ocr)

                if entry.seal is not None:
                    pixels = PagePixels(render=render, findings=cached_pixel_findings(entry.pixels))
                    return ReadOutcome(ocr, pixels, SealFinding.model_validate(entry.seal), cached=True, cache_key=key)
                # No seal cached: the lines read under it now are not in the cached result, so
                # findings measured over these lines are not kept under it either.
                pixels = PagePixels(render=render)
                seal = find_seal(pixels, self.seal_reader)
                self.read_under_seal(ocr, pixels, seal)
                self.read_dates_again(ocr, pixels, data)
                return ReadOutcome(ocr, pixels, seal, cached=True)
        document = read_document(data, self.engine, max_pages=self.settings.ocr.max_pages)
        seal = find_seal(document.images, self.seal_reader)
        self.read_under_seal(document.ocr, document.images, seal)
        self.read_dates_again(document.ocr, document.images, data)
        with self.sessions.begin() as session:
            put_cached_ocr(
                session,
                sha256=sha256,
                fingerprint=fingerprint,
                media_type=document.ocr.media_type,
                result=document.ocr.model_dump(mode="json"),
                seal=seal.model_dump(mode="json"),
            )
        return ReadOutcome(document.ocr, PagePixels(document.images), seal, cached=False, cache_key=key)

    def keep_pixel_findings(self, outcome: ReadOutcome) -> None:
        """Add what the analysis measured on the pages to the file's cache entry (merged with what
        it holds, for a check that was not run then: a signature area a policy did not ask for)."""
        pixels = outcome.images
        if outcome.cache_key is None or not isinstance(pixels, PagePixels) or not pixels.added:
            return
        sha256, fingerprint = outcome.cache_key
        added = {key: pixels.findings[key] for key in pixels.added}
        try:
            with self.sessions.begin() as session:
                entry = get_cached_ocr(session, sha256=sha256, fingerprint=fingerprint)
                if entry is not None:
                    findings = {**cached_pixel_findings(entry.pixels), **added}
                    entry.pixels = {"version": PIXEL_FINDINGS_VERSION, "findings": findings}
        except SQLAlchemyError:
            # The report is right either way: a finding not kept is measured again next time.
            log.warning("keeping the pixel findings of %s failed", sha256, exc_info=True)

    def read_under_seal(self, ocr: OcrResult, images: Sequence[np.ndarray], seal: SealFinding) -> None:
        """Add to the sealed page the lines its seal hid from the detector, the whole dates of which
        the first reading kept a part, and, where no date was read around the seal, the date its ink
        blurred into (``ocr.reread``)."""
        if not seal.present or seal.box is None or seal.page is None or seal.page >= len(images):
            return
        page = ocr.pages[seal.page]
        if page.source != "ocr":
            return  # a text layer lost nothing under the seal
        scores = sorted(line.score for line in page.lines)
        if len(scores) < READ_PAGE_MIN_LINES or scores[len(scores) // 2] < READ_PAGE_MIN_SCORE:
            # A page that was not read well is judged as it was read, not by its seal's corner: read
            # again in the same poor light, that corner gives dates as poor (a year's 2 read as 0).
            return
        found = reread_under_seal(self.engine, images[seal.page], seal.box, page.lines, better=reads_a_lost_date)
        if found:
            page.lines = replace_lines(page.lines, found)
        found = read_seal_dates(self.engine, images[seal.page], seal.box, page.lines, has_date=holds_a_date)
        if found:
            page.lines = replace_lines(page.lines, found)

    def read_dates_again(self, ocr: OcrResult, images: Sequence[np.ndarray], data: bytes | None = None) -> None:
        """Read again, closer, where a document's own date should be but none was read
        (``classifiers.dates.unread_date_areas``), red ink faded or, when that finds none, in the red
        channel; when neither finds one and the file holds more detail than the page was read at
        (``ocr.document.render_page_closer``: a phone photo or a scan downscaled for reading), the
        same on the page drawn again from ``data`` with that detail. A re-read that finds a date
        replaces the lines it covers."""
        sizes = {p.index: (float(p.width), float(p.height)) for p in ocr.pages}
        closer: dict[int, tuple[np.ndarray, float] | None] = {}
        for index, area, height in unread_date_areas(build_rows(ocr), page_sizes=sizes):
            page = ocr.pages[index]
            if page.source != "ocr" or index >= len(images):
                continue  # a text layer's dates are exact: nothing to read closer
            found = self.dated_lines(images[index], area, height)
            if not found and data is not None:
                if index not in closer:
                    closer[index] = self.page_closer(data, ocr, index)
                if (drawn := closer[index]) is not None:
                    image, k = drawn
                    found = [line.model_copy(update={"box": line.box.scaled(1 / k)})
                             for line in self.dated_lines(image, area.scaled(k), height * k)]
            if found:
                page.lines = replace_lines(page.lines, found)

    def dated_lines(self, image: np.ndarray, area: Box, height: float) -> list[OcrLine]:
        """The lines holding a date in ``area`` of ``image`` read again, red ink faded or, when that
        gives none, in the red channel (which lifts a seal's ink blurred into the date)."""
        for lift in (fade_red, red_channel):
            found = [line for line in read_area(self.engine, image, area, text_height=height, lift=lift)
                     if find_dates(fold(line.text))]
            if found:
                return found
        return []

    def page_closer(self, data: bytes, ocr: OcrResult, index: int) -> tuple[np.ndarray, float] | None:
        """``render_page_closer`` of the file; None (the area stays as read) if the file cannot be
        drawn again, which it was a moment ago."""
        try:
            return render_page_closer(data, ocr, index, options=self.settings.ocr)
        except OcrError:
            log.warning("drawing page %d again closer failed; its dates stay as read", index + 1, exc_info=True)
            return None

    def text_fit(self, images: Sequence[np.ndarray]) -> TextFit:
        """How well a line of these pages fits some texts (``ocr.reread.line_fit``), for the analysis
        to read a misread name as the applicant's; an engine failure there scores nothing (the name
        stays as read) rather than failing the document."""

        def fit(page: int, box: Box, texts: Sequence[str]) -> list[float | None]:
            try:
                return line_fit(self.engine, images[page], box, texts)
            except OcrEngineError:
                log.warning("scoring a line again failed; the name stays as read", exc_info=True)
                return [None] * len(texts)

        return fit

    def analyse_file(self, name: str, data: bytes, application: Application, policy: Policy) -> DocumentReport:
        """One uploaded file to its document report; never raises for a bad file."""
        try:
            return self._analyse_file(name, data, application, policy)
        finally:
            if self.settings.ocr.trim_memory:
                release_freed_memory()  # the file's page images and seal crops are freed by now

    def _analyse_file(self, name: str, data: bytes, application: Application, policy: Policy) -> DocumentReport:
        sha256 = hashlib.sha256(data).hexdigest()
        started = time.perf_counter()
        try:
            outcome = self.read(data, sha256)
        except (SQLAlchemyError, OcrEngineError):
            raise  # our fault, not the file's: the job fails and is retried, the document is not failed
        except OcrError as exc:
            return failed_document(name, sha256, exc.message, exc.code, detail=exc.detail or None)
        except Exception as exc:  # a bug or an engine crash on one file must not sink the application
            log.exception("reading %s failed", name)
            message = "文件处理失败，请重新上传清晰的原件照片或PDF。"
            return failed_document(name, sha256, message, "internal", detail=exc)

        try:
            analysis = analyse_document(
                outcome.ocr,
                outcome.images,
                outcome.seal,
                context_factory(policy, application),
                registry=self.registry,
                catalogue=self.catalogue,
                text_fit=self.text_fit(outcome.images),
            )
        except Exception as exc:
            log.exception("analysing %s failed", name)
            message = "材料分析失败，已记录，工作人员将人工审核该材料。"
            return failed_document(name, sha256, message, "internal", detail=exc)
        self.keep_pixel_findings(outcome)
        return document_report(name, sha256, outcome, analysis, seconds=time.perf_counter() - started)


def holds_a_date(text: str) -> bool:
    """Whether a line's text holds a date with its day (read whole or through damage)."""
    return any(date.day is not None for date, _ in find_dates(fold(text)))


def reads_a_lost_date(line: OcrLine, first: Sequence[OcrLine]) -> bool:
    """Whether ``line``, read again, holds a whole date (day and year) that ``first``, the lines
    first read in its place, do not: the seal hid part of it from the first reading."""
    def whole_date(text: str) -> bool:
        return any(date.day is not None and not date.repaired for date, _ in find_dates(fold(text)))

    return whole_date(line.text) and not any(whole_date(old.text) for old in first)


def cached_pixel_findings(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The pixel findings of a cache entry's ``pixels`` if this version of the pixel code measured
    them, else none (a version bump measures everything again)."""
    if stored and stored.get("version") == PIXEL_FINDINGS_VERSION:
        return dict(stored.get("findings") or {})
    return {}


def context_factory(policy: Policy, application: Application) -> Callable[[DocType], DocumentContext]:
    """What a document of each type is checked against, for this application under this policy."""

    def context_for(doc_type: DocType) -> DocumentContext:
        return policy.context_for(
            doc_type,
            application_date=application.application_date,
            applicant_name=application.applicant_name,
            id_number=application.id_number,
            disease=application.disease,
            agent_name=application.agent.name if application.agent else None,
            agent_id_number=application.agent.id_number if application.agent else None,
        )

    return context_for


def document_report(
    name: str, sha256: str, outcome: ReadOutcome, analysis: DocumentAnalysis, *, seconds: float
) -> DocumentReport:
    fields = analysis.fields
    sources = {
        key: FieldSource(page=fv.page, box=_corners(fv.box), confidence=fv.confidence)
        for key in FIELD_NAMES
        if (fv := getattr(fields, key)) is not None
    }
    if (bound := fields.extra.get(DATE_NOT_BEFORE)) is not None:
        sources[DATE_NOT_BEFORE] = FieldSource(page=bound.page, box=_corners(bound.box), confidence=bound.confidence)
    seal = analysis.seal
    if seal.page is not None and seal.box is not None:
        sources["seal"] = FieldSource(page=seal.page, box=_corners(seal.box), confidence=round(seal.score, 3))
    return DocumentReport(
        file=name,
        sha256=sha256,
        media_type=outcome.ocr.media_type,
        pages=len(outcome.ocr.pages),
        doc_type=analysis.classification.doc_type,
        kind=analysis.classification.kind,
        confidence=round(analysis.classification.confidence, 3),
        type_scores={str(k): round(v, 3) for k, v in analysis.classification.scores.items()},
        kind_scores={k: round(v, 3) for k, v in analysis.classification.kind_scores.items()},
        fields=fields.values(),
        field_sources=sources,
        extra_fields={key: fv.value for key, fv in fields.extra.items()},
        checks=analysis.checks,
        seal_color=analysis.seal.color,
        ocr_cached=outcome.cached,
        ocr_seconds=round(seconds, 3),
        text=outcome.ocr.text,
    )


def _corners(box: Box | None) -> list[float] | None:
    return [box.x0, box.y0, box.x1, box.y1] if box else None


def failed_document(name: str, sha256: str, message: str, code: str, *,
                    detail: BaseException | str | None = None) -> DocumentReport:
    """A document that could not be read: ``message`` for the applicant, ``detail`` for operators."""
    if isinstance(detail, BaseException):
        detail = f"{type(detail).__name__}: {detail}"[:2000]
    return DocumentReport(file=name, sha256=sha256, error=message, error_code=code, error_detail=detail,
                          checks=unknown_checks(message))
