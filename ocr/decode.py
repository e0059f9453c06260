"""Decoding uploaded images to BGR pixels: header checks first, EXIF orientation, reduced-size decode.

The *decoded page* that ``PageTransform.scale`` refers to is the full-resolution image after EXIF
orientation. We never materialise it for large photos: JPEG ``draft()`` decodes at 1/2, 1/4 or 1/8 of
the size directly and we resize from there to exactly ``round(side * scale)``, the same way in
``read_document`` and ``render_pages`` so both give identical pixels.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from ocr.errors import CorruptFile, ImageTooLarge, TooManyPages, UnsupportedFileType

pillow_heif.register_heif_opener()  # HEIC/HEIF from iPhones, once at import

_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that turn the image by 90°/270°


def _raise_pil_limit(max_pixels: int) -> None:
    # Our own header check (below) is the real limit; PIL's bomb guard must not fire first with a
    # less helpful error for a size we accept. Only ever raised, never lowered.
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels


@contextmanager
def open_image(data: bytes, max_pixels: int) -> Iterator[Image.Image]:
    """Open lazily (header only) and refuse images with too many pixels before any decoding."""
    _raise_pil_limit(max_pixels)
    try:
        with warnings.catch_warnings():
            # Between our limit and twice it PIL only warns; our own check below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        # PIL refuses at open beyond twice its limit (which we set to ours): same error, same data.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else 0
        raise ImageTooLarge(str(exc), pixels=pixels, max_pixels=max_pixels) from exc
    except UnidentifiedImageError as exc:
        raise CorruptFile(f"cannot identify image: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptFile(f"cannot open image: {exc}") from exc
    try:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise CorruptFile(f"image header says {w}x{h}")
        if w * h > max_pixels:
            raise ImageTooLarge(
                f"{w}x{h} = {w * h / 1e6:.0f} MP > {max_pixels / 1e6:.0f} MP", pixels=w * h, max_pixels=max_pixels
            )
        yield im
    finally:
        im.close()


def frame_count(im: Image.Image) -> int:
    return int(getattr(im, "n_frames", 1) or 1)


def check_frames(im: Image.Image, max_pages: int) -> int:
    n = frame_count(im)
    if n > max_pages:
        raise TooManyPages(f"{n} frames > {max_pages}", pages=n, max_pages=max_pages)
    return n


def upright_size(im: Image.Image) -> tuple[int, int]:
    """Width and height after EXIF orientation, from the header."""
    w, h = im.size
    try:
        orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a broken EXIF block is not a reason to refuse the photo
        orientation = 1
    return (h, w) if orientation in _SWAPS_AXES else (w, h)


def fit_scale(width: int, height: int, max_side: int) -> float:
    """The scale that brings the long side down to ``max_side`` (never up)."""
    return min(1.0, max_side / max(width, height))


def _to_bgr(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.uint32)
        arr = (arr >> 8).astype(np.uint8) if arr.max() > 255 else arr.astype(np.uint8)
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        # Transparent areas (cut-out ID card scans) become white paper, not black.
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    rgb = np.asarray(im.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def decode_frame(im: Image.Image, index: int, scale: float) -> np.ndarray:
    """Decode frame ``index`` at ``scale`` of its upright full size, as BGR uint8."""
    try:
        if index:
            im.seek(index)
        full_w, full_h = upright_size(im)
        target = (max(1, round(full_w * scale)), max(1, round(full_h * scale)))
        if im.format == "JPEG" and scale < 1.0:
            # Decode at 1/2..1/8 directly from the DCT: a 12 MP photo never exists at full size.
            raw_w, raw_h = im.size
            im.draft("RGB", (math.ceil(raw_w * scale), math.ceil(raw_h * scale)))
        im.load()
        upright = ImageOps.exif_transpose(im) or im
        bgr = _to_bgr(upright)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Truncated JPEG/PNG data ends here ("image file is truncated", "broken data stream").
        raise CorruptFile(f"cannot decode image frame {index}: {exc}") from exc
    if (bgr.shape[1], bgr.shape[0]) != target:
        interp = cv2.INTER_AREA if target[0] < bgr.shape[1] else cv2.INTER_CUBIC
        bgr = cv2.resize(bgr, target, interpolation=interp)
    return np.ascontiguousarray(bgr)


def require_image_type(media_type: str, supported: frozenset[str]) -> None:
    if media_type not in supported:
        raise UnsupportedFileType(f"media type {media_type}")
