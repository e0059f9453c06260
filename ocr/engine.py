"""``OcrEngine``: PaddleOCR (3.x) plus the small models used to put pages upright, loaded once.

Heavy libraries (paddleocr/paddlex, onnxruntime) are imported when the models are first needed,
not at ``import ocr``; the loaded models are shared by every ``OcrEngine`` with the same options in
the process, so a worker that builds one engine per job still loads them once.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import cv2
import numpy as np

from ocr.ctc import BLANK, log_likelihood
from ocr.errors import OcrEngineError
from ocr.models import ResolvedModels, resolve_models
from ocr.options import NORMALISATION_VERSION, OcrOptions
from ocr.types import Box, OcrLine

_CLS_SHAPE = (48, 192)  # text-line classifier input (height, width)

# Options that do not change what is read, so they stay out of the fingerprint.
_NOT_IN_FINGERPRINT = {
    "device",
    "cpu_threads",
    "model_cache_dir",
    "disable_memory_arena",
    "trim_memory",
    "rec_batch_size",
    "max_pages",
    "max_image_pixels",
    "max_total_pixels",
    "parse_memory_mb",
    "parse_timeout_seconds",
}


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "none"


def engine_config(options: OcrOptions) -> dict[str, Any] | None:
    """PaddleOCR's ``engine_config`` for our options: threads and memory arena (onnxruntime only).
    Every model a process loads must get it, or one of them ignores ``cpu_threads``."""
    if options.engine != "onnxruntime":
        return None
    cfg: dict[str, Any] = {}
    if options.cpu_threads:
        cfg["intra_op_num_threads"] = options.cpu_threads
    if options.disable_memory_arena:
        cfg["enable_cpu_mem_arena"] = False
        cfg["enable_mem_pattern"] = False
    return cfg


@dataclass
class _Loaded:
    detector: Any  # paddleocr.TextDetection at det_limit_side_len
    prepass: Any  # paddleocr.TextDetection at prepass_side_len, for the orientation pre-pass
    recogniser: Any  # paddleocr.TextRecognition
    cropper: Any  # paddlex CropByPolys: the rotated-rectangle line crops PaddleOCR's pipeline makes
    cls_session: Any  # onnxruntime.InferenceSession, 0/180 text-line classifier
    cls_input: str
    # The recogniser's dictionary, character → index of its output column (0 is the CTC blank);
    # empty when this PaddleOCR version does not expose it (texts are then not scored).
    char_index: dict[str, int]


_LOADED: dict[str, _Loaded] = {}
_LOAD_LOCK = threading.Lock()


class OcrEngine:
    """Reads page images with PaddleOCR; ``fingerprint`` identifies everything that shapes its output."""

    def __init__(self, options: OcrOptions | None = None) -> None:
        self.options = options or OcrOptions()
        self.models: ResolvedModels = resolve_models(self.options)
        self.fingerprint: str = self._fingerprint()
        self._run_lock = threading.Lock()

    # --- identity -------------------------------------------------------------------------------
    def _fingerprint(self) -> str:
        from ocr.pdf import TEXT_LAYER_DPI

        opts = self.options.model_dump(mode="json", exclude=_NOT_IN_FINGERPRINT)
        # Model dirs differ between machines; names + file digests identify the weights.
        for key in ("det_model_dir", "rec_model_dir", "textline_cls_model_path"):
            opts.pop(key, None)
        params = {
            "opts": opts,
            "det": [self.models.det.name, self.models.det.digest],
            "rec": [self.models.rec.name, self.models.rec.digest],
            "cls": self.models.textline_cls_digest,
            "paddleocr": _package_version("paddleocr"),
            "norm": NORMALISATION_VERSION,
            "text_layer_dpi": TEXT_LAYER_DPI,
        }
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
        o = self.options
        return (
            f"paddleocr-{params['paddleocr']}/{o.engine}/{o.det_model_name}@{self.models.det.digest[:6]}"
            f"/{o.rec_model_name}@{self.models.rec.digest[:6]}/n{NORMALISATION_VERSION}/{digest}"
        )

    # --- loading --------------------------------------------------------------------------------
    def _cache_key(self) -> str:
        return self.options.model_dump_json()

    def _engine_config(self) -> dict[str, Any] | None:
        return engine_config(self.options)

    @property
    def loaded(self) -> _Loaded:
        """The models, loaded on first use (about a second) and then shared within the process."""
        key = self._cache_key()
        hit = _LOADED.get(key)
        if hit is not None:
            return hit
        with _LOAD_LOCK:
            if key not in _LOADED:
                _LOADED[key] = self._load()
            return _LOADED[key]

    def _load(self) -> _Loaded:
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        from ocr._compat import install_opencv_alias

        install_opencv_alias()
        try:
            import onnxruntime as ort
            from paddleocr import TextDetection, TextRecognition
            from paddlex.inference.pipelines.components.common.crop_image_regions import CropByPolys
        except ImportError as exc:
            raise OcrEngineError(f"PaddleOCR is not importable: {exc}; install paddleocr>=3") from exc
        o, m = self.options, self.models
        common: dict[str, Any] = {"engine": o.engine, "device": o.device}
        if (cfg := self._engine_config()) is not None:
            common["engine_config"] = cfg
        elif o.cpu_threads:
            common["cpu_threads"] = o.cpu_threads
        # Both detectors draw the same kind of boxes: the pre-pass's may be the ones recognised.
        det_params = {"thresh": o.det_thresh, "box_thresh": o.det_box_thresh, "unclip_ratio": o.det_unclip_ratio}
        det_kwargs: dict[str, Any] = {k: v for k, v in det_params.items() if v is not None}
        det_model = {"model_name": m.det.name, "model_dir": str(m.det.dir) if m.det.dir else None}
        try:
            # PaddleOCR's text detection and recognition modules, driven here rather than through
            # its OCR pipeline so a page's lines can come from the orientation pre-pass. We put pages
            # upright ourselves (ocr.orient); its doc-orientation and unwarping models are not
            # available offline and are slower.
            detector = TextDetection(
                **det_model, limit_side_len=o.det_limit_side_len, limit_type=o.det_limit_type, **det_kwargs, **common
            )
            prepass = TextDetection(
                **det_model, limit_side_len=o.prepass_side_len, limit_type="max", **det_kwargs, **common
            )
            recogniser = TextRecognition(
                model_name=m.rec.name, model_dir=str(m.rec.dir) if m.rec.dir else None, **common
            )
            if o.rec_min_width is not None:
                _set_rec_min_width(recogniser, o.rec_min_width)
            so = ort.SessionOptions()
            if o.cpu_threads:
                so.intra_op_num_threads = o.cpu_threads
            so.enable_cpu_mem_arena = not o.disable_memory_arena
            so.enable_mem_pattern = not o.disable_memory_arena
            cls_session = ort.InferenceSession(str(m.textline_cls), sess_options=so, providers=["CPUExecutionProvider"])
        except OcrEngineError:
            raise
        except Exception as exc:  # PaddleX raises many types for a bad model dir / device
            raise OcrEngineError(f"cannot load OCR models: {type(exc).__name__}: {exc}") from exc
        cropper = CropByPolys(det_box_type="quad")
        characters = getattr(getattr(_rec_predictor(recogniser), "post_op", None), "character", None) or []
        char_index = {c: i for i, c in enumerate(characters) if i != BLANK}
        return _Loaded(detector, prepass, recogniser, cropper, cls_session, cls_session.get_inputs()[0].name,
                       char_index)

    def warm_up(self) -> None:
        """Load the models now (e.g. at worker start) instead of on the first page."""
        _ = self.loaded

    # --- inference ------------------------------------------------------------------------------
    def detect_polys(self, img: np.ndarray) -> list[np.ndarray]:
        """Text-line quadrilaterals from the detector at orientation pre-pass size, in ``img``'s
        coordinates."""
        with self._run_lock:
            res = next(iter(self.loaded.prepass.predict(img)))
        return [np.asarray(p, dtype=np.float64) for p in res["dt_polys"]]

    def prepass_suffices(self, polys: list[np.ndarray], image_shape: tuple[int, ...]) -> bool:
        """Whether the pre-pass boxes of a page of ``image_shape`` can be recognised as they are:
        its text lines were tall enough at pre-pass size for the detector to see them whole."""
        limit = self.options.det_reuse_min_line_px
        if limit is None or not polys:
            return False
        k = min(1.0, self.options.prepass_side_len / max(image_shape[:2]))
        heights = [min(cv2.minAreaRect(np.asarray(p, np.float32).reshape(-1, 2))[1]) * k for p in polys]
        return float(np.median(heights)) >= limit

    def upside_down_probability(self, crops: list[np.ndarray]) -> list[float]:
        """P(line is upside down) for each crop of a horizontal text line."""
        if not crops:
            return []
        ch, cw = _CLS_SHAPE
        batch = np.zeros((len(crops), 3, ch, cw), dtype=np.float32)
        for i, crop in enumerate(crops):
            h, w = crop.shape[:2]
            rw = min(cw, max(1, math.ceil(ch * w / h)))
            x = cv2.resize(crop, (rw, ch)).astype(np.float32) / 255.0
            batch[i, :, :, :rw] = ((x - 0.5) / 0.5).transpose(2, 0, 1)
        loaded = self.loaded
        with self._run_lock:
            out = loaded.cls_session.run(None, {loaded.cls_input: batch})[0]
        return [float(p[1]) for p in out]  # labels: ["0", "180"]

    def recognise(self, img: np.ndarray, polys: list[np.ndarray] | None = None) -> list[OcrLine]:
        """OCR one normalised page image (BGR); lines in reading order. ``polys``: the page's line
        quadrilaterals if already known (see ``prepass_suffices``), else the detector finds them."""
        loaded = self.loaded
        try:
            with self._run_lock:
                if polys is None:
                    polys = list(next(iter(loaded.detector.predict(img)))["dt_polys"])
                pairs = [
                    (crop, poly)
                    for crop, poly in zip(loaded.cropper(img, polys), polys, strict=True)
                    if crop.size and crop.shape[0] and crop.shape[1]
                ]
                # Similar widths batched together pad least (what PaddleOCR's pipeline does too).
                pairs.sort(key=lambda cp: cp[0].shape[1] / cp[0].shape[0])
                results = (
                    list(loaded.recogniser.predict([c for c, _ in pairs], batch_size=self.options.rec_batch_size))
                    if pairs
                    else []
                )
        except OcrEngineError:
            raise
        except Exception as exc:
            raise OcrEngineError(f"PaddleOCR failed: {type(exc).__name__}: {exc}") from exc
        lines = []
        for res, (_, poly) in zip(results, pairs, strict=True):
            text, score = str(res["rec_text"]).strip(), float(res["rec_score"])
            if not text or score < self.options.rec_score_thresh:
                continue
            pts = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
            (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
            lines.append(OcrLine(text=text, box=Box(x0=x0, y0=y0, x1=x1, y1=y1), score=min(1.0, max(0.0, score))))
        return sort_reading_order(lines)

    def text_log_likelihoods(self, crop: np.ndarray, texts: Sequence[str]) -> list[float | None]:
        """How well one line image (BGR) fits each of ``texts``: the recogniser's CTC log-likelihood
        of each (``ocr.ctc``), from one pass of the recognition model. None for a text with a
        character outside the recogniser's dictionary, and for every text when this PaddleOCR
        version does not expose the model's output."""
        loaded = self.loaded
        predictor = _rec_predictor(loaded.recogniser)
        tfs = getattr(predictor, "pre_tfs", {})
        if not loaded.char_index or not all(k in tfs for k in ("Read", "ReisizeNorm", "ToBatch")):
            return [None] * len(texts)
        if not crop.size or not crop.shape[0] or not crop.shape[1]:
            return [None] * len(texts)
        try:
            with self._run_lock:
                batch = tfs["ToBatch"](imgs=tfs["ReisizeNorm"](imgs=tfs["Read"](imgs=[crop])))
                probs = np.asarray(predictor.runner(x=batch)[0])[0]
        except Exception as exc:
            raise OcrEngineError(f"PaddleOCR failed: {type(exc).__name__}: {exc}") from exc
        scores: list[float | None] = []
        for text in texts:
            labels = [loaded.char_index.get(c) for c in text]
            scores.append(None if not text or None in labels else log_likelihood(probs, labels))  # type: ignore[arg-type]
        return scores


def _rec_predictor(recogniser: Any) -> Any:
    """PaddleX's predictor behind PaddleOCR's TextRecognition (its transforms, model and decoder)."""
    return getattr(recogniser, "paddlex_predictor", None)


def _set_rec_min_width(recogniser: Any, width: int) -> None:
    """Make PaddleOCR's recogniser pad lines to at least ``width`` instead of its inference.yml's."""
    resize = getattr(_rec_predictor(recogniser), "pre_tfs", {}).get("ReisizeNorm")
    shape = getattr(resize, "rec_image_shape", None)
    if resize is None or shape is None or len(shape) != 3:
        raise OcrEngineError(
            "this PaddleOCR version's recogniser has no rec_image_shape to set rec_min_width on; "
            "set rec_min_width to None"
        )
    resize.rec_image_shape = [shape[0], shape[1], width]


def sort_reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Top-to-bottom rows of lines sharing a baseline row, left-to-right within a row."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.box.center[1], ln.box.x0)):
        if rows:
            row = rows[-1]
            ref = row[0].box
            overlap = min(ref.y1, line.box.y1) - max(ref.y0, line.box.y0)
            if overlap > 0.5 * min(ref.height, line.box.height):
                row.append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda ln: ln.box.x0)]
