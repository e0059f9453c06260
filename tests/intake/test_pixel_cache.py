"""Pixel findings cached beside the OCR result (issue 13): a document analysed again from the OCR
cache gives the very same report as when it was first read, without drawing a page again from its
file; a bump of PIXEL_FINDINGS_VERSION measures again; what the policy decides (a signature
required or not) stays outside the cache.

Real OCR models, a real SQLite OCR cache, generated documents (a signed outpatient record, a
sealed lab photo, a blurred-beyond-reading photo, a text PDF, a blank sheet)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select, update

import intake.prescreen
from classifiers.quality import PagePixels
from classifiers.types import Outcome
from fixtures.generator import DocumentSpec, generate_document
from intake.application import Application
from intake.models import OcrCacheEntry
from intake.policy import Policy
from intake.prescreen import Prescreener
from intake.report import DocumentReport
from intake.settings import Settings

pytestmark = pytest.mark.ocr

APPLICATION = Application(applicant_name="张三", id_number="110105194912310029", disease="糖尿病",
                          region="六盘水市", application_date=dt.date(2026, 3, 20))
# Fields that say how this reading went, not what was read.
RUN_FIELDS = {"ocr_cached", "ocr_seconds"}


def blank_sheet() -> bytes:
    """A photographed blank sheet: paper with sensor noise and a soft shadow, nothing printed."""
    rng = np.random.default_rng(3)
    shade = np.linspace(230, 205, 1400)[:, None] * np.ones((1400, 1000))
    page = np.clip(shade + rng.normal(0, 2.0, shade.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(page).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def documents() -> list[tuple[str, bytes]]:
    specs = [
        DocumentSpec(seed=11, doc_type="medical_record", variant="outpatient", region="六盘水市", source="scan",
                     signature="handwritten"),
        DocumentSpec(seed=12, doc_type="lab_report", variant="lab", source="photo", seal="issuer"),
        DocumentSpec(seed=13, doc_type="diagnosis_certificate", source="photo", unreadable=True,
                     unreadable_mode="heavy_blur"),
        DocumentSpec(seed=14, doc_type="discharge_summary", source="pdf_text"),
    ]
    generated = [generate_document(spec) for spec in specs]
    return [(d.filename, d.data) for d in generated] + [("blank.jpg", blank_sheet())]


@pytest.fixture(scope="module")
def prescreener(tmp_path_factory: pytest.TempPathFactory) -> Prescreener:
    cache = tmp_path_factory.mktemp("pixel-cache") / "cache.db"
    return Prescreener(Settings(db={"url": f"sqlite:///{cache}"}))


@pytest.fixture(scope="module")
def first_reports(prescreener: Prescreener, documents: list[tuple[str, bytes]]) -> dict[str, DocumentReport]:
    """Each document read for the first time (OCR), under 六盘水市's policy (signature required)."""
    policy = prescreener.policies.for_region("六盘水市")
    reports = {name: prescreener.analyse_file(name, data, APPLICATION, policy) for name, data in documents}
    assert not any(r.ocr_cached for r in reports.values())
    return reports


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the pages drawn again from a file (the real ``render_pages``, watched)."""
    drawn: list[int] = []
    real: Callable[..., list[np.ndarray]] = intake.prescreen.render_pages

    def watched(*args: Any, **kwargs: Any) -> list[np.ndarray]:
        images = real(*args, **kwargs)
        drawn.append(len(images))
        return images

    monkeypatch.setattr(intake.prescreen, "render_pages", watched)
    yield drawn


def same_report(a: DocumentReport, b: DocumentReport) -> None:
    assert a.model_dump(exclude=RUN_FIELDS) == b.model_dump(exclude=RUN_FIELDS)


def stored_pixels(prescreener: Prescreener) -> dict[str, dict[str, Any] | None]:
    with prescreener.sessions() as session:
        return {e.sha256: e.pixels for e in session.scalars(select(OcrCacheEntry))}


def analyse_all(prescreener: Prescreener, documents: list[tuple[str, bytes]],
                policy: Policy | None = None) -> dict[str, DocumentReport]:
    policy = policy or prescreener.policies.for_region("六盘水市")
    return {name: prescreener.analyse_file(name, data, APPLICATION, policy) for name, data in documents}


def test_the_documents_exercise_every_pixel_finding(first_reports: dict[str, DocumentReport],
                                                    prescreener: Prescreener) -> None:
    """Guards the test's own premise: the generated set reaches each kind of pixel finding."""
    reports = list(first_reports.values())
    assert all(r.error is None for r in reports)
    assert any(r.checks.signature.outcome != Outcome.NOT_APPLICABLE for r in reports)
    assert any("blank" in r.checks.quality.problems for r in reports)
    assert any(r.checks.quality.outcome == Outcome.FAIL for r in reports)
    kinds = {key.split(":")[0] for p in stored_pixels(prescreener).values() if p for key in p["findings"]}
    assert kinds == {"pages", "ink", "quality", "signature"}


def test_from_the_cache_the_reports_are_identical_and_no_page_is_drawn(
    prescreener: Prescreener, documents: list[tuple[str, bytes]], first_reports: dict[str, DocumentReport],
    renders: list[int],
) -> None:
    again = analyse_all(prescreener, documents)
    assert renders == []
    for name, report in again.items():
        assert report.ocr_cached
        same_report(report, first_reports[name])


def test_without_pixel_findings_the_pages_are_drawn_and_the_findings_kept_again(
    prescreener: Prescreener, documents: list[tuple[str, bytes]], first_reports: dict[str, DocumentReport],
    renders: list[int],
) -> None:
    """An entry cached before pixel findings existed (the column empty): drawn once, then kept."""
    before = stored_pixels(prescreener)
    with prescreener.sessions.begin() as session:
        session.execute(update(OcrCacheEntry).values(pixels=None))
    redrawn = analyse_all(prescreener, documents)
    assert len(renders) == len(documents)
    for name, report in redrawn.items():
        same_report(report, first_reports[name])  # the redrawn pages are the pages first read
    assert stored_pixels(prescreener) == before
    renders.clear()
    analyse_all(prescreener, documents)
    assert renders == []


def test_the_policy_is_applied_to_cached_findings_not_cached_with_them(
    prescreener: Prescreener, documents: list[tuple[str, bytes]], first_reports: dict[str, DocumentReport],
    renders: list[int],
) -> None:
    """A signature is required in 六盘水市 and not by the default policy: the same cached reading
    gives a checked signature in one and NOT_APPLICABLE in the other, with no page drawn."""
    record = next(name for name, r in first_reports.items() if r.checks.signature.outcome != Outcome.NOT_APPLICABLE)
    default = analyse_all(prescreener, documents, prescreener.policies.for_region("default"))
    assert renders == []
    assert default[record].checks.signature.outcome == Outcome.NOT_APPLICABLE
    assert first_reports[record].checks.signature.outcome == Outcome.PASS
    assert default[record].checks.quality == first_reports[record].checks.quality


def test_findings_a_policy_did_not_ask_for_are_measured_later_and_merged(
    tmp_path_factory: pytest.TempPathFactory, prescreener: Prescreener, documents: list[tuple[str, bytes]],
    first_reports: dict[str, DocumentReport], renders: list[int],
) -> None:
    """Read first where no signature is required: the signature areas are not looked at; a later
    analysis under a policy that requires one draws the pages once and adds its readings."""
    cache = tmp_path_factory.mktemp("pixel-cache-merge") / "cache.db"
    other = Prescreener(Settings(db={"url": f"sqlite:///{cache}"}))
    other.engine, other.seal_reader = prescreener.engine, prescreener.seal_reader
    name, data = next((n, d) for n, d in documents
                      if first_reports[n].checks.signature.outcome != Outcome.NOT_APPLICABLE)
    other.analyse_file(name, data, APPLICATION, other.policies.for_region("default"))
    (entry,) = stored_pixels(other).values()
    assert entry is not None and not any(k.startswith("signature:") for k in entry["findings"])
    renders.clear()  # the first reading ran OCR and drew nothing again
    signed = other.analyse_file(name, data, APPLICATION, other.policies.for_region("六盘水市"))
    assert len(renders) == 1
    same_report(signed, first_reports[name])
    (merged,) = stored_pixels(other).values()
    assert merged is not None and merged["findings"].items() >= entry["findings"].items()
    assert any(k.startswith("signature:") for k in merged["findings"])


def test_page_pixels_draw_nothing_when_every_finding_is_given() -> None:
    """The classifiers' view of the pixels: given findings answer without the render being called."""
    image = np.full((200, 150, 3), 250, np.uint8)
    measured = PagePixels([image])
    ink, present = measured.ink(0), measured.present(0)
    calls: list[int] = []

    def render() -> list[np.ndarray]:
        calls.append(1)
        return [image]

    cached = PagePixels(render=render, findings=measured.findings)
    assert cached.ink(0) == ink and len(cached) == 1 and cached.present(0) == present
    assert not cached.rendered and calls == [] and cached.added == set()
    assert cached[0] is image and calls == [1]


# Last: it leaves the cache at the bumped version, which the tests above would measure again.
def test_a_version_bump_measures_again(
    prescreener: Prescreener, documents: list[tuple[str, bytes]], first_reports: dict[str, DocumentReport],
    renders: list[int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    version = intake.prescreen.PIXEL_FINDINGS_VERSION
    monkeypatch.setattr(intake.prescreen, "PIXEL_FINDINGS_VERSION", version + 1)
    bumped = analyse_all(prescreener, documents)
    assert len(renders) == len(documents)  # every document measured again
    assert {p["version"] for p in stored_pixels(prescreener).values() if p} == {version + 1}
    for name, report in bumped.items():
        same_report(report, first_reports[name])
    renders.clear()
    analyse_all(prescreener, documents)
    assert renders == []
