"""A long-running worker keeps its bounds after a cache hit.

A worker reads thousands of files in one process. A file read before is not OCR'd again: its cached
result is taken and its page images are redrawn (``render_pages``). Whatever that redrawing loosens
for itself — PIL's process-wide decompression-bomb guard ``Image.MAX_IMAGE_PIXELS``, the pixel limit
of the decoder — must be as tight afterwards as before, or every later file of the process is read
without it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psutil
import pytest
from PIL import Image

from intake.application import Application
from intake.prescreen import Prescreener
from intake.settings import DatabaseSettings, Settings, StorageSettings
from tests.api.badinputs import decompression_bomb, text_image

pytestmark = pytest.mark.ocr

# PIL's own default (``Image.MAX_IMAGE_PIXELS`` at import): 1024 * 1024 * 1024 // 4 // 3.
PIL_DEFAULT_MAX_IMAGE_PIXELS = 1024 * 1024 * 1024 // 4 // 3
RSS_JUMP_MB = 150  # decoding the bomb's 7.5 GB of pixels even in part would be far more


def _pil_guard() -> int | None:
    """PIL's process-wide decompression-bomb limit, as it is now."""
    return Image.MAX_IMAGE_PIXELS


def _rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def test_a_cache_hit_leaves_the_pixel_guard_and_the_bomb_check_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN one Prescreener (one worker process) that has read a small image once (now cached)
    WHEN it reads the same image again (a cache hit: the pages are redrawn by ``render_pages``)
    THEN ``PIL.Image.MAX_IMAGE_PIXELS`` is what it was before the cache hit and no wider than our
    own ``max_image_pixels``, a decompression-bomb PNG is still refused with ``image_too_large``,
    and the process's resident memory did not jump."""
    # Start from PIL's own guard whatever other tests of the session did to the global; restored after.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", PIL_DEFAULT_MAX_IMAGE_PIXELS)
    settings = Settings(db=DatabaseSettings(url=f"sqlite:///{tmp_path / 'intake.db'}"),
                        storage=StorageSettings(root=tmp_path / "files"))
    prescreener = Prescreener(settings)
    application = Application(applicant_name="张三", id_number="230102195703152419", disease="糖尿病",
                              region="绥化市", application_date=dt.date(2026, 3, 5))
    policy = prescreener.policies.for_region(application.region)
    image = text_image(["某某市第一人民医院 门诊病历", "诊断：2型糖尿病"], width=700)

    first = prescreener.analyse_file("门诊病历.png", image, application, policy)
    assert first.error is None, first.error_detail
    assert not first.ocr_cached
    guard = _pil_guard()
    assert guard is not None, "reading a file switched PIL's decompression-bomb guard off"
    rss_before = _rss_mb()

    again = prescreener.analyse_file("门诊病历.png", image, application, policy)
    assert again.error is None, again.error_detail
    assert again.ocr_cached, "the second read of the same bytes must come from the OCR cache"
    after_hit = _pil_guard()
    assert after_hit == guard, f"a cache hit changed PIL's decompression-bomb guard from {guard:,} to {after_hit}"
    assert after_hit <= max(settings.ocr.max_image_pixels, PIL_DEFAULT_MAX_IMAGE_PIXELS)

    bomb = prescreener.analyse_file("bomb.png", decompression_bomb(), application, policy)
    assert bomb.error_code == "image_too_large", (bomb.error_code, bomb.error_detail)
    assert _pil_guard() == guard
    rss_after = _rss_mb()
    assert rss_after - rss_before < RSS_JUMP_MB, f"RSS went from {rss_before:.0f} MB to {rss_after:.0f} MB"
