"""Decoding uploaded images to BGR pixels: header checks first, EXIF orientation, reduced-size decode.

The *decoded page* that ``PageTransform.scale`` refers to is the full-resolution image after EXIF
orientation. We never materialise it for large photos: JPEG ``draft()`` decodes at 1/2, 1/4 or 1/8 of
the size directly and we resize from there to exactly ``round(side * scale)``, the same way in
``read_document`` and ``render_pages`` so both give identical pixels.

Frames and pages (issue 10). Every picture in a file is checked from its header before anything is
decoded: each against ``max_image_pixels``, all of them together against ``max_total_pixels``.
Only a multi-page TIFF (what scanners and fax software write) has pages: one per frame. In every
other format the file is one page, its primary picture, what a phone's gallery or an image viewer
shows:

* MPO / JPEG with an MP index (stereo pairs, previews, depth and gain maps): the first picture;
* animated PNG (APNG) and animated WebP: the first frame (for an APNG its default image, which is
  what decoders without animation show). Animation frames are not the pages of a document; a
  sticker or screen recording picked by mistake is read as one page and classified like any other,
  and every frame still counts towards ``max_total_pixels``, at the canvas size a decoder composes
  it on;
* HEIF with several top-level images (bursts, sequences): the primary image.

A TIFF's pages are counted from its IFD links alone; more than ``max_pages`` pages (or, in an MPO or
HEIF, pictures) is ``too_many_pages`` before any frame is looked at.

EXIF orientation 1..8 is applied; anything else (0, 9, text, a damaged or looping IFD, a huge
block) counts as 1: odd metadata is no reason to refuse a photo whose pixels are fine.

Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) is process-wide. While a file is
open here it is set so that Pillow refuses exactly what we refuse (``pil_bomb_guard``), then put
back: a limit configured above Pillow's default never outlives the call, and a cached result
(``render_pages``) never turns the guard off.
"""

from __future__ import annotations

import io
import math
import re
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageFile, UnidentifiedImageError

from ocr.errors import CorruptFile, ImageTooLarge, TooManyPages, UnsupportedFileType
from ocr.orient import STRIP_ASPECT

pillow_heif.register_heif_opener()  # HEIC/HEIF from iPhones, once at import

_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that turn the image by 90°/270°
# EXIF orientation -> the transpose that shows the image upright (what ImageOps.exif_transpose does,
# without rewriting the EXIF block afterwards, which fails on damaged tags).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# The Pillow plugins allowed to open each sniffed type: a file sniffed as a JPEG is decoded as one.
_PIL_FORMATS: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("JPEG", "MPO"),
    "image/png": ("PNG",),
    "image/webp": ("WEBP",),
    "image/tiff": ("TIFF",),
    "image/bmp": ("BMP",),
    "image/heic": ("HEIF",),
    "image/heif": ("HEIF",),
}
_PAGED_FORMATS = frozenset({"TIFF"})  # a frame is a page
_CANVAS_FORMATS = frozenset({"PNG", "WEBP", "GIF"})  # frames are composed on one canvas (animations)

# A long thin page (a till receipt, a scrolling screenshot; longer than STRIP_ASPECT times its width)
# is a *strip*: shrinking its long side to ``max_side`` would crush its text, so it keeps its width,
# within a pixel budget of this many ``max_side``² pages (see ``fit_scale``).
STRIP_BUDGET_PAGES = 4

# Exceptions Pillow and its plugins raise for malformed data (pillow-heif: RuntimeError).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, RuntimeError)


# --- Pillow's process-wide bomb guard, scoped ---------------------------------------------------------

_guard_lock = threading.Lock()
_guard_limits: list[int] = []  # the limits of the open_image calls in progress, in any thread
_guard_saved: int | None = None  # Pillow's value before the first of them


def _pil_value(limits: list[int]) -> int:
    # Pillow raises beyond twice its value: half the smallest limit in use makes it refuse exactly
    # what we refuse (and never more than any caller allows).
    return max(1, math.ceil(min(limits) / 2))


@contextmanager
def pil_bomb_guard(max_pixels: int) -> Iterator[None]:
    """Within the block Pillow refuses frames over ``max_pixels`` itself (at open, seek and load,
    inside plugins that allocate before we can look); afterwards its guard is what it was."""
    global _guard_saved
    with _guard_lock:
        if not _guard_limits:
            _guard_saved = Image.MAX_IMAGE_PIXELS
        _guard_limits.append(max_pixels)
        Image.MAX_IMAGE_PIXELS = _pil_value(_guard_limits)
    try:
        yield
    finally:
        with _guard_lock:
            _guard_limits.remove(max_pixels)
            Image.MAX_IMAGE_PIXELS = _pil_value(_guard_limits) if _guard_limits else _guard_saved


@contextmanager
def _quiet_bomb_warnings() -> Iterator[None]:
    # Between half our limit and the limit Pillow only warns about sizes we accept.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _too_large(exc: Image.DecompressionBombError, max_pixels: int) -> ImageTooLarge:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    pixels = int(found.group(1)) if found else 0
    return ImageTooLarge(str(exc), pixels=pixels, max_pixels=max_pixels)


def _check_frame_size(width: int, height: int, max_pixels: int, what: str = "image") -> int:
    if width <= 0 or height <= 0:
        raise CorruptFile(f"{what} header says {width}x{height}")
    pixels = width * height
    if pixels > max_pixels:
        raise ImageTooLarge(
            f"{what} {width}x{height} = {pixels / 1e6:.0f} MP > {max_pixels / 1e6:.0f} MP",
            pixels=pixels,
            max_pixels=max_pixels,
        )
    return pixels


# --- opening and checking -----------------------------------------------------------------------------


@contextmanager
def open_image(data: bytes, max_pixels: int, *, media_type: str | None = None) -> Iterator[Image.Image]:
    """Open lazily (header only) and refuse a first frame with too many pixels before any decoding.

    ``media_type`` (sniffed) restricts the Pillow plugins that may open the bytes. Call
    ``check_frames`` next for the other frames and the page count.
    """
    formats = _PIL_FORMATS.get(media_type) if media_type else None
    with pil_bomb_guard(max_pixels):
        try:
            with _quiet_bomb_warnings():
                im = Image.open(io.BytesIO(data), formats=formats)
        except Image.DecompressionBombError as exc:
            raise _too_large(exc, max_pixels) from exc
        except UnidentifiedImageError as exc:
            raise CorruptFile(f"cannot identify image: {exc}") from exc
        except _DECODE_ERRORS as exc:
            raise CorruptFile(f"cannot open image: {type(exc).__name__}: {exc}") from exc
        try:
            _check_frame_size(*im.size, max_pixels)
            yield im
        finally:
            im.close()


def frame_count(im: Image.Image) -> int:
    if im.format == "TIFF" and isinstance(im, ImageFile.ImageFile) and im.fp is not None:
        return _tiff_ifd_count(im.fp)
    return int(getattr(im, "n_frames", 1) or 1)


_TIFF_COUNT_STOP = 100_000  # IFDs counted at most (a count for the too_many_pages message)


def _tiff_ifd_count(fp: IO[bytes]) -> int:
    """The number of IFDs (pages) in a TIFF's chain, from their entry counts and links only.

    Pillow's ``n_frames`` parses every IFD in full: 20 s for a 6 MB file of 50 000 tiny pages, at
    upload. A loop or a link past the end of the file ends the chain.
    """
    position = fp.tell()
    try:
        fp.seek(0)
        buf = fp.read()
    finally:
        fp.seek(position)
    order = "<" if buf[:2] == b"II" else ">"
    seen: set[int] = set()
    try:
        big = struct.unpack_from(order + "H", buf, 2)[0] == 43  # BigTIFF: 8-byte counts and offsets
        link, count, entry_size = (order + "Q", order + "Q", 20) if big else (order + "I", order + "H", 12)
        offset = struct.unpack_from(link, buf, 8 if big else 4)[0]
        while offset and offset not in seen and len(seen) < _TIFF_COUNT_STOP:
            entries = struct.unpack_from(count, buf, offset)[0]
            seen.add(offset)
            offset = struct.unpack_from(link, buf, offset + struct.calcsize(count) + entries * entry_size)[0]
    except struct.error:  # the chain runs past the end of the file: it ends there
        pass
    return max(1, len(seen))


def check_frames(im: Image.Image, max_pages: int, *, max_pixels: int, max_total_pixels: int) -> int:
    """Check every frame's size from the headers (no pixel data is decoded) against ``max_pixels``
    and their sum against ``max_total_pixels``; the number of pages (see the module docstring).

    Leaves ``im`` on the frame it was opened at (the primary picture).
    """
    n = frame_count(im)
    fmt = im.format or ""
    if fmt in _CANVAS_FORMATS:
        # Seeking an animation decodes every frame before it; the header gives the canvas and the
        # frame count, and a decoder composes each frame on the whole canvas.
        per_frame = _check_frame_size(*im.size, max_pixels)
        if n * per_frame > max_total_pixels:
            raise ImageTooLarge(
                f"{n} frames of {im.size[0]}x{im.size[1]} = {n * per_frame / 1e6:.0f} MP > "
                f"{max_total_pixels / 1e6:.0f} MP in all",
                pixels=n * per_frame,
                max_pixels=max_total_pixels,
            )
        return 1
    paged = fmt in _PAGED_FORMATS
    if n > max_pages:
        # TIFF pages, or more embedded pictures than a photo has (MPO, HEIF): not walked.
        raise TooManyPages(f"{n} frames > {max_pages}", pages=n, max_pages=max_pages)
    heif = getattr(im, "_heif_file", None)
    if heif is not None:
        # pillow-heif's seek allocates the frame's buffer: its container lists every image's size.
        total = 0
        for index, image in enumerate(heif):
            width, height = image.size
            total += _check_frame_size(width, height, max_pixels, what=f"image {index}")
        if total > max_total_pixels:
            raise ImageTooLarge(
                f"{n} images = {total / 1e6:.0f} MP > {max_total_pixels / 1e6:.0f} MP in all",
                pixels=total,
                max_pixels=max_total_pixels,
            )
        return 1
    start = im.tell()
    total = 0
    try:
        with _quiet_bomb_warnings():
            for index in range(n):
                try:
                    if im.tell() != index:
                        im.seek(index)  # reads the frame's header (IFD, JPEG SOF), no pixels
                except Image.DecompressionBombError as exc:
                    raise _too_large(exc, max_pixels) from exc
                except EOFError:
                    n = index  # Pillow finds no more frames (a damaged last link): that many pages
                    break
                except _DECODE_ERRORS as exc:
                    if paged:
                        raise CorruptFile(f"cannot read frame {index}: {type(exc).__name__}: {exc}") from exc
                    continue  # a secondary picture no decoder can find is not read either
                total += _check_frame_size(*im.size, max_pixels, what=f"frame {index}")
                if total > max_total_pixels:
                    raise ImageTooLarge(
                        f"frames 0..{index} = {total / 1e6:.0f} MP > {max_total_pixels / 1e6:.0f} MP in all",
                        pixels=total,
                        max_pixels=max_total_pixels,
                    )
    finally:
        try:
            if im.tell() != start:
                im.seek(start)
        except _DECODE_ERRORS as exc:
            raise CorruptFile(f"cannot return to frame {start}: {exc}") from exc
    return n if paged else 1


def select_page(im: Image.Image, index: int) -> None:
    """Make page ``index`` the current frame: frame ``index`` of a TIFF; for other formats page 0
    is the frame the file opened at (its primary picture), and the other indexes (cached results
    from before issue 10 read them as pages) their frame."""
    if im.tell() != index and (index or (im.format or "") in _PAGED_FORMATS):
        im.seek(index)


def exif_orientation(im: Image.Image) -> int:
    """The current frame's EXIF orientation, 1..8; 1 for a missing, broken or out-of-range tag."""
    try:
        value = im.getexif().get(_EXIF_ORIENTATION, 1)
        if isinstance(value, tuple | list):
            value = value[0] if value else 1
        number = int(value)
        if number != value:
            return 1
    except Exception:  # a damaged EXIF block is no reason to refuse the photo
        return 1
    return number if 1 <= number <= 8 else 1


def upright_size(im: Image.Image) -> tuple[int, int]:
    """Width and height after EXIF orientation, from the header."""
    w, h = im.size
    return (h, w) if exif_orientation(im) in _SWAPS_AXES else (w, h)


def fit_scale(width: int, height: int, max_side: int) -> float:
    """The scale that brings the long side down to ``max_side`` (never up).

    A strip (longer than ``STRIP_ASPECT`` times its width) is scaled like the widest page that is
    not one: its short side down to ``max_side / STRIP_ASPECT`` (667 px by default), its long side
    following, within ``STRIP_BUDGET_PAGES`` × ``max_side``² pixels. A 300×20000 till receipt stays
    as it is and a 1080×6000 scrolling screenshot becomes 667×3704, instead of 30×2000 and 360×2000
    with their text crushed. Continuous at ``STRIP_ASPECT``; ordinary pages are unchanged.
    """
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, max_side / long_side)
    if long_side <= STRIP_ASPECT * short_side:
        return scale
    budget = STRIP_BUDGET_PAGES * max_side * max_side
    strip = min(1.0, max_side / STRIP_ASPECT / short_side, math.sqrt(budget / (width * height)))
    return max(scale, strip)


# --- decoding --------------------------------------------------------------------------------------


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
    """Decode page ``index`` (see ``select_page``) at ``scale`` of its upright full size, as BGR uint8."""
    try:
        with _quiet_bomb_warnings():
            select_page(im, index)
            orientation = exif_orientation(im)
            raw_w, raw_h = im.size
            full_w, full_h = (raw_h, raw_w) if orientation in _SWAPS_AXES else (raw_w, raw_h)
            target = (max(1, round(full_w * scale)), max(1, round(full_h * scale)))
            if im.format == "JPEG" and scale < 1.0:
                # Decode at 1/2..1/8 directly from the DCT: a 12 MP photo never exists at full size.
                im.draft("RGB", (math.ceil(raw_w * scale), math.ceil(raw_h * scale)))
            im.load()
            method = _UPRIGHT.get(orientation)
            upright = im.transpose(method) if method is not None else im
            bgr = _to_bgr(upright)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except _DECODE_ERRORS as exc:
        # Truncated JPEG/PNG data ends here ("image file is truncated", "broken data stream").
        raise CorruptFile(f"cannot decode image frame {index}: {type(exc).__name__}: {exc}") from exc
    if (bgr.shape[1], bgr.shape[0]) != target:
        interp = cv2.INTER_AREA if target[0] < bgr.shape[1] else cv2.INTER_CUBIC
        bgr = cv2.resize(bgr, target, interpolation=interp)
    return np.ascontiguousarray(bgr)


def require_image_type(media_type: str, supported: frozenset[str]) -> None:
    if media_type not in supported:
        raise UnsupportedFileType(f"media type {media_type}")
