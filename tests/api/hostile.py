"""A second corpus of uploads, hostile or merely odd (issue 10), built in code: nothing is committed.

``tests/api/badinputs.py`` holds the first corpus (empty, truncated, encrypted, bombs, lying names …);
none of its files is repeated here. The classes, each with what the service must do:

- PDFs that cost more to draw than they weigh: form XObjects fanning out (12 levels × 8 references,
  8^12 leaf drawings in 5 KB), a 2,000-deep chain of forms, an inline image claiming 2,000,000² pixels,
  an image XObject of 1.6 G pixels in 200 KB → refused at upload or failed with ``too_complex`` (or
  another clear code), never a dead or stuck worker;
- PDFs that are fine but odd: a text-layer page of 14,400 × 14,400 pt (the largest page PDF allows),
  scans whose text layer is junk or a one-line scanner footer → read (the scans OCR'd);
- images with more pixels than their first header says: a TIFF with a huge later frame, a TIFF whose
  frames together pass ``max_total_pixels``, an MPO (JPEG + a huge second picture), APNG and animated
  WebP with 50 large frames → refused with ``image_too_large`` (the animations may instead be read
  from their first frame only, in seconds); a GIF animation with a 65535² screen → 415;
- polyglots and containers: ``%PDF-1.7`` in a JPEG comment (still a JPEG), a whole PDF in a JPEG
  comment, a valid PNG with a PDF after it, ZIPs whose first member is a PNG or a PDF, a real OOXML
  .docx → 415;
- odd EXIF (orientation 9 and 0, an IFD offset past the end, an IFD that points at itself, 60 KB of
  EXIF), very long thin pages, a mirrored photo of printed text → read (or a clear failure);
- hostile file names (a newline that forges a notice item, ``<script>``, 500 characters, U+202E, a
  path) on valid images → read, the name normalised wherever it is shown.

Every file is a ``HostileInput``: a ``badinputs.BadInput`` with what a case needs beyond it (codes
when more than one is right, the most a document may take, text the read must contain, whether its
name is the subject). Builders are module-level functions whose bytes are cached.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from tests.api.badinputs import (
    DONE,
    FAILED,
    REFUSED,
    BadInput,
    cjk_font_path,
    good_pdf,
    raw_pdf,
    small_jpeg,
    small_png,
    text_image,
    text_pdf,
)

__all__ = ["DONE", "FAILED", "REFUSED", "HostileInput", "corpus"]

# What the scanned pages say: the OCR must find ``SCAN_WORD`` when a scan is read as a scan.
SCAN_LINES = [
    "某某市第一人民医院 门诊病历",
    "姓名：张三  性别：男  年龄：68岁",
    "就诊日期：2026年02月20日",
    "诊断：2型糖尿病",
    "处理：继续口服二甲双胍，定期复查。",
]
SCAN_WORD = "门诊病历"


@dataclass(frozen=True)
class HostileInput(BadInput):
    """A ``BadInput`` and what this corpus checks beyond it."""

    codes: frozenset[str] = field(default_factory=frozenset)  # acceptable codes when more than one is right
    max_seconds: float | None = None  # the most the worker may spend on the document (never minutes)
    text: str | None = None  # when read: the document's text must contain this (an OCR'd scan)
    name_case: bool = False  # the file name is what is hostile: check it wherever it is shown

    @property
    def accepted_codes(self) -> frozenset[str]:
        return self.codes | ({self.code} if self.code else set())


# --- raw PDF writing -----------------------------------------------------------------------------------


def _stream(entries: bytes, data: bytes, *, deflate: bool = True) -> bytes:
    if deflate:
        data, entries = zlib.compress(data, 9), entries + b" /Filter /FlateDecode"
    return b"<< %s /Length %d >>\nstream\n" % (entries, len(data)) + data + b"\nendstream"


def _one_page_pdf(content: bytes, resources: bytes, extra: list[bytes], size: tuple[int, int] = (420, 300)) -> bytes:
    """Catalog (1), pages (2), page (3), its content (4), then ``extra`` objects from number 5 on."""
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources %s /Contents 4 0 R >>"
        % (size[0], size[1], resources),
        _stream(b"", content),
        *extra,
    ])


@cache
def fanout_forms_pdf(levels: int = 12, fanout: int = 8) -> bytes:
    """Form XObjects that draw each other in a fan-out: level k draws level k-1 ``fanout`` times, the
    page draws the top level once. 8^12 ≈ 69 billion leaf rectangles from 5 KB."""
    first = 5  # object number of level 0
    forms = []
    for level in range(levels):
        if level == 0:
            body, resources = b"0 0 2 2 re f", b"<< >>"
        else:
            names = [b"/L%d" % i for i in range(fanout)]
            body = b"".join(b"q 1 0 0 1 %d 0 cm %s Do Q\n" % (i, name) for i, name in enumerate(names))
            refs = b" ".join(b"%s %d 0 R" % (name, first + level - 1) for name in names)
            resources = b"<< /XObject << %s >> >>" % refs
        forms.append(_stream(b"/Type /XObject /Subtype /Form /BBox [0 0 420 300] /Resources %s" % resources, body))
    top = first + levels - 1
    return _one_page_pdf(b"q /Top Do Q", b"<< /XObject << /Top %d 0 R >> >>" % top, forms)


@cache
def deep_forms_pdf(depth: int = 2000) -> bytes:
    """A chain of ``depth`` form XObjects, each drawing the next: recursion as deep as the reader
    lets it go (pdfminer recurses in Python, pdfium in C)."""
    first = 5
    forms = []
    for level in range(depth):
        if level == depth - 1:
            body, resources = b"0 0 10 10 re f", b"<< >>"
        else:
            body, resources = b"/N Do", b"<< /XObject << /N %d 0 R >> >>" % (first + level + 1)
        forms.append(_stream(b"/Type /XObject /Subtype /Form /BBox [0 0 420 300] /Resources %s" % resources, body))
    return _one_page_pdf(b"/N Do", b"<< /XObject << /N %d 0 R >> >>" % first, forms)


@cache
def inline_image_claim_pdf() -> bytes:
    """A page whose content draws an inline image that claims 2,000,000 × 2,000,000 RGB pixels
    (12 TB) and carries 64 bytes of them."""
    content = (b"q 400 0 0 280 10 10 cm\nBI /W 2000000 /H 2000000 /CS /RGB /BPC 8\nID "
               + b"\x80" * 64 + b"\nEI Q\n")
    return _one_page_pdf(content, b"<< >>", [])


@cache
def image_xobject_bomb_pdf() -> bytes:
    """A page that draws one 1-bit image XObject of 40,000 × 40,000 pixels (1.6 G pixels, 200 MB of
    bits) compressed to ~200 KB: an image bomb inside a PDF, where no image header check looks."""
    side = 40_000
    row = b"\x00" * (side // 8)
    compressor = zlib.compressobj(9)
    chunk = row * 500
    body = b"".join(compressor.compress(chunk) for _ in range(side // 500)) + compressor.flush()
    image = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
             b"/BitsPerComponent 1 /Filter /FlateDecode /Length %d >>\nstream\n" % (side, side, len(body))
             + body + b"\nendstream")
    return _one_page_pdf(b"q 400 0 0 280 10 10 cm /Im Do Q", b"<< /XObject << /Im 5 0 R >> >>", [image])


@cache
def huge_page_pdf() -> bytes:
    """A text-layer PDF on a 14,400 × 14,400 pt page (200 inches, PDF's largest): a normal document
    on an absurd sheet. At the text layer's 150 dpi it is 30,000² pixels."""
    return text_pdf(SCAN_LINES, page_size=(14_400, 14_400))


@cache
def _scan_image() -> Image.Image:
    return Image.open(io.BytesIO(text_image(SCAN_LINES, width=1000, size=40))).convert("RGB")


def _scan_pdf(invisible_lines: list[str], font: str) -> bytes:
    """A one-page scan (an image of ``SCAN_LINES`` over the whole page) with an invisible text layer
    (text render mode 3, as scanner software writes its OCR) of ``invisible_lines``."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = _scan_image()
    width, height = 595.0, 595.0 * image.height / image.width
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height), invariant=1)
    pdf.drawImage(ImageReader(image), 0, 0, width=width, height=height)
    text = pdf.beginText(20, height - 30)
    text.setTextRenderMode(3)
    text.setFont(font, 9)
    for line in invisible_lines:
        text.textLine(line)
    pdf.drawText(text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@cache
def scan_with_junk_layer_pdf() -> bytes:
    """A scanned page whose invisible text layer is mojibake — the UTF-8 bytes of its text read as
    Windows-1252 (``é—¨è¯Šç—…åŽ†``), what an OCR tool with the wrong code page writes. Every character
    is a printable letter or symbol (the five bytes cp1252 leaves undefined are dropped), so a
    "readable characters" test passes it; only the scan says what the page says."""
    junk = [line.encode("utf-8").decode("cp1252", errors="ignore") for line in SCAN_LINES] * 2
    return _scan_pdf(junk, "Helvetica")


@cache
def scan_with_footer_layer_pdf() -> bytes:
    """A scanned page whose text layer is only the scanning app's one-line footer (over 40 readable
    characters): the layer is real text, but not the page's."""
    from tests.api.badinputs import _reportlab_font

    footer = "本文件由某某扫描王扫描生成 扫描时间2026-02-20 10:32:11 设备SM-G9910 文档编号CS20260220103211 第1页共1页"
    return _scan_pdf([footer], _reportlab_font())


# --- images with more pixels than their first header says ----------------------------------------------


def _tiff(frames: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:], compression="group4")
    return buffer.getvalue()


@cache
def tiff_huge_later_frame() -> bytes:
    """A two-page TIFF: a 1200 × 800 first page, then a 12,000 × 12,000 (144 MP) bilevel page, all
    white, Group 4 compressed (a few KB)."""
    first = Image.open(io.BytesIO(text_image(SCAN_LINES[:2], width=1200))).convert("1")
    return _tiff([first, Image.new("1", (12_000, 12_000), 1)])


@cache
def tiff_frames_over_total() -> bytes:
    """A four-page TIFF of 9,000 × 9,000 bilevel pages: 81 MP each (under the 100 MP frame limit),
    324 MP together (over the 300 MP file limit)."""
    return _tiff([Image.new("1", (9_000, 9_000), 1) for _ in range(4)])


@cache
def mpo_huge_second() -> bytes:
    """An MPO (what phones write for 3D and burst shots): a small JPEG first, then an 11,000 × 11,000
    (121 MP) grayscale JPEG as its second picture."""
    first = Image.open(io.BytesIO(small_jpeg(320, 240)))
    second = Image.new("L", (11_000, 11_000), 255)
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second], quality=30)
    return buffer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


@cache
def _blank_gray_rows(width: int, height: int) -> bytes:
    # White rows: filter byte 0 then ``width`` bytes of 255 (the same for every frame of the APNG).
    return zlib.compress((b"\x00" + b"\xff" * width) * height, 9)


@cache
def apng_fifty_frames(side: int = 3000, frames: int = 50) -> bytes:
    """An APNG of ``frames`` full-canvas frames of ``side``² gray pixels (9 MP each, 450 MP in all),
    written chunk by chunk: ~0.5 MB of file."""
    rows = _blank_gray_rows(side, side)
    out = [b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)),
           _png_chunk(b"acTL", struct.pack(">II", frames, 0))]
    sequence = 0
    for index in range(frames):
        # fcTL: sequence, width, height, x, y, delay 1/10 s, dispose none, blend source
        out.append(_png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", sequence, side, side, 0, 0, 1, 10, 0, 0)))
        sequence += 1
        if index == 0:
            out.append(_png_chunk(b"IDAT", rows))
        else:
            out.append(_png_chunk(b"fdAT", struct.pack(">I", sequence) + rows))
            sequence += 1
    out.append(_png_chunk(b"IEND", b""))
    return b"".join(out)


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def _u24(value: int) -> bytes:
    return struct.pack("<I", value)[:3]


@cache
def animated_webp_fifty_frames(side: int = 3000, frames: int = 50) -> bytes:
    """An animated WebP of ``frames`` full-canvas frames of ``side``² pixels (9 MP each, 450 MP in all),
    written chunk by chunk around one lossless blank frame (38 bytes): ~2 KB of file."""
    still = io.BytesIO()
    Image.new("RGB", (side, side), "white").save(still, "WEBP", lossless=True, quality=0, method=0)
    vp8l = still.getvalue()[12:]  # the still's one chunk, after "RIFF" size "WEBP"
    assert vp8l[:4] == b"VP8L"
    vp8x = _riff_chunk(b"VP8X", bytes([0x02]) + b"\x00" * 3 + _u24(side - 1) + _u24(side - 1))  # animation flag
    anim = _riff_chunk(b"ANIM", struct.pack("<IH", 0xFFFFFFFF, 0))
    # ANMF: x/2, y/2, width-1, height-1, duration (ms), flags (no blending, no disposal), the frame
    frame = _riff_chunk(b"ANMF", _u24(0) + _u24(0) + _u24(side - 1) + _u24(side - 1) + _u24(100) + b"\x02" + vp8l)
    body = b"WEBP" + vp8x + anim + frame * frames
    return b"RIFF" + struct.pack("<I", len(body)) + body


@cache
def gif_huge_screen() -> bytes:
    """A 30-frame GIF animation whose logical screen claims 65,535 × 65,535 (its frames are 64²)."""
    frames = [Image.new("P", (64, 64), i) for i in range(30)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    data = bytearray(buffer.getvalue())
    data[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


# --- polyglots and containers ------------------------------------------------------------------------


def jpeg_with_comment(payload: bytes, jpeg: bytes | None = None) -> bytes:
    """``jpeg`` with a COM segment holding ``payload`` right after SOI (where a sniffer looks first)."""
    jpeg = jpeg or small_jpeg(320, 240)
    assert len(payload) <= 65533, "a JPEG segment holds at most 65,533 bytes"
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


@cache
def jpeg_comment_pdf_marker() -> bytes:
    """A valid JPEG whose comment says ``%PDF-1.7`` (someone's note): it is a JPEG and nothing else."""
    return jpeg_with_comment(b"scanned from %PDF-1.7 original, page 1")


@cache
def jpeg_comment_whole_pdf() -> bytes:
    """A JPEG carrying a whole PDF in its comment: a valid JPEG and (readers skip the junk before
    ``%PDF-``) a valid PDF — one file, two documents."""
    return jpeg_with_comment(good_pdf("inside a JPEG comment"))


@cache
def png_then_pdf() -> bytes:
    """A complete PNG with a whole PDF after its IEND: a PNG to an image viewer, a PDF to a PDF reader."""
    return small_png(64, 48, "white") + good_pdf("after a PNG")


def stored_zip(members: list[tuple[str, bytes]]) -> bytes:
    """A ZIP with its members stored (not compressed): their bytes appear as they are, from offset 30 + name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


@cache
def zip_first_png() -> bytes:
    return stored_zip([("a.png", small_png(90, 60, "white")), ("b.txt", "说明".encode())])


@cache
def zip_first_pdf() -> bytes:
    return stored_zip([("a.pdf", good_pdf("inside a ZIP")), ("b.txt", "说明".encode())])


@cache
def real_docx() -> bytes:
    """A real, minimal OOXML word-processing document (opens in Word / WPS)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>'
    )
    paragraphs = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in SCAN_LINES)
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{w}">'
                f"<w:body>{paragraphs}</w:body></w:document>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


# --- odd EXIF, odd shapes -----------------------------------------------------------------------------


def _photo() -> Image.Image:
    return Image.open(io.BytesIO(small_jpeg(320, 240)))


def _jpeg(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


def _exif_jpeg(exif: bytes) -> bytes:
    """A JPEG with ``exif`` (a TIFF structure, without the ``Exif\\0\\0`` prefix) as its APP1 segment."""
    jpeg = _jpeg(_photo())
    payload = b"Exif\x00\x00" + exif
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _ifd(entries: list[tuple[int, int, int, bytes]], next_ifd: int) -> bytes:
    """A big-endian IFD: (tag, type, count, 4-byte value or offset) entries and the next IFD's offset."""
    out = struct.pack(">H", len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\x00")
    return out + struct.pack(">I", next_ifd)


_ORIENTATION = 0x0112
_SHORT = 3


def exif_orientation(value: int) -> bytes:
    """EXIF orientation ``value``: 1-8 are defined, 0 and 9 are not."""
    entry = (_ORIENTATION, _SHORT, 1, struct.pack(">H", value))
    return _exif_jpeg(b"MM\x00\x2a" + struct.pack(">I", 8) + _ifd([entry], 0))


@cache
def exif_orientation_9() -> bytes:
    return exif_orientation(9)


@cache
def exif_orientation_0() -> bytes:
    return exif_orientation(0)


@cache
def exif_broken_ifd_offset() -> bytes:
    """EXIF whose first IFD offset points 2 GB past the end of the segment."""
    entry = (_ORIENTATION, _SHORT, 1, b"\x00\x06")
    return _exif_jpeg(b"MM\x00\x2a" + struct.pack(">I", 0x7FFF_FFF0) + _ifd([entry], 0))


@cache
def exif_ifd_loop() -> bytes:
    """EXIF whose IFD0 names itself as the next IFD (and its Exif sub-IFD is IFD0 too): a loop."""
    exif_ifd_pointer = (0x8769, 4, 1, struct.pack(">I", 8))  # LONG: the Exif IFD at offset 8 = IFD0
    return _exif_jpeg(b"MM\x00\x2a" + struct.pack(">I", 8)
                      + _ifd([(_ORIENTATION, _SHORT, 1, b"\x00\x06"), exif_ifd_pointer], 8))


@cache
def exif_60kb() -> bytes:
    """A JPEG with 60 KB of EXIF (an ImageDescription of 60,000 bytes), near APP1's 64 KB limit."""
    exif = Image.Exif()
    exif[_ORIENTATION] = 1
    exif[0x010E] = "门诊病历" * 5000  # 60,000 bytes of UTF-8 in an ASCII field: odd, but what phones write
    return _jpeg(_photo(), exif=exif.tobytes())


def _strip_image(width: int, height: int) -> Image.Image:
    """A long thin page with Chinese text along its length."""
    font_path = cjk_font_path()
    font = ImageFont.truetype(str(font_path), 40) if font_path else ImageFont.load_default()
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    if width > height:
        for x in range(20, width - 400, 800):
            draw.text((x, 120), f"{SCAN_WORD} 第{x // 800 + 1}段", fill="black", font=font)
    else:
        for y in range(20, height - 60, 400):
            draw.text((20, y), f"第{y // 400 + 1}段", fill="black", font=font)
    return image


@cache
def long_strip() -> bytes:
    buffer = io.BytesIO()
    _strip_image(20_000, 300).save(buffer, "PNG")
    return buffer.getvalue()


@cache
def tall_strip() -> bytes:
    buffer = io.BytesIO()
    _strip_image(300, 20_000).save(buffer, "PNG")
    return buffer.getvalue()


@cache
def mirrored_text_photo() -> bytes:
    """A photo of printed Chinese text, flipped left to right (a selfie camera, a scan face down)."""
    return _jpeg(ImageOps.mirror(_scan_image()))


@cache
def certificate_image() -> bytes:
    """A readable 疾病诊断证明书 without a seal: read, and named in the notice (no seal), so that
    its file name is shown where a hostile name would do harm."""
    return text_image(["某某市第一人民医院", "疾病诊断证明书", "姓名：张三  性别：男", "诊断：2型糖尿病",
                       "日期：2026年02月20日"], width=760, size=36)


# --- the corpus -------------------------------------------------------------------------------------------

HOSTILE_NAMES = (
    "a\n2. 伪造的条目.jpg",
    "<script>alert(1)</script>.png",
    "诊断证明" * 124 + ".png",  # 500 characters
    "病历\u202egnp.exe",  # shows as 病历exe.png
    "../../etc/passwd.jpg",
)


def corpus() -> list[HostileInput]:
    """The files of this corpus (≥ 25, none of badinputs.py's), each with what must happen to it."""
    refused, failed_or_refused, done = frozenset({REFUSED}), frozenset({FAILED, REFUSED}), frozenset({DONE})
    s422, s415 = frozenset({422}), frozenset({415})
    too_complex = frozenset({"too_complex"})
    clear = frozenset({"too_complex", "corrupt_file", "image_too_large"})
    animation = frozenset({REFUSED, DONE})
    items = [
        # PDFs whose cost is in the drawing
        HostileInput("fanout_forms_12x8.pdf", fanout_forms_pdf, failed_or_refused, s422, "too_complex",
                     max_seconds=90, why="8^12 form drawings in 5 KB: over the parse budget, failed for good"),
        HostileInput("deep_forms_2000.pdf", deep_forms_pdf, failed_or_refused, s422, codes=clear, max_seconds=90,
                     why="a 2,000-deep chain of forms: a clear error, not a RecursionError or a crash"),
        HostileInput("inline_image_2000000x2000000.pdf", inline_image_claim_pdf, failed_or_refused, s422,
                     codes=clear, max_seconds=90, why="an inline image claiming 4 T pixels"),
        HostileInput("image_xobject_40000x40000.pdf", image_xobject_bomb_pdf, frozenset({DONE, FAILED, REFUSED}),
                     s422, codes=clear | too_complex, max_seconds=90,
                     why="1.6 G pixels of image in 200 KB of PDF: drawn small within budget, or refused"),
        # PDFs that are odd but fine
        HostileInput("page_14400x14400pt.pdf", huge_page_pdf, done, media_type="application/pdf", max_seconds=90,
                     text="糖尿病", why="a text layer on a 200-inch page: read, never drawn at 30,000² pixels"),
        HostileInput("scan_junk_text_layer.pdf", scan_with_junk_layer_pdf, done, media_type="application/pdf",
                     text=SCAN_WORD, why="mojibake text layer over a scan: the scan must be OCR'd"),
        HostileInput("scan_footer_only_text_layer.pdf", scan_with_footer_layer_pdf, done,
                     media_type="application/pdf", text=SCAN_WORD,
                     why="only the scanner's footer as text: the scan must be OCR'd"),
        # more pixels than the first header says
        HostileInput("tiff_second_frame_144mp.tiff", tiff_huge_later_frame, refused, s422, "image_too_large",
                     why="every frame's header counts, not the first one's"),
        HostileInput("tiff_4_frames_324mp.tiff", tiff_frames_over_total, refused, s422, "image_too_large",
                     why="81 MP frames, 324 MP in all: over max_total_pixels"),
        HostileInput("mpo_second_picture_121mp.jpg", mpo_huge_second, refused, s422, "image_too_large",
                     why="an MPO's second picture is a frame too"),
        HostileInput("apng_50_frames_3000x3000.png", apng_fifty_frames, animation, s422, "image_too_large",
                     max_seconds=60, why="450 MP of animation: refused, or its first frame read, in seconds"),
        HostileInput("animated_50_frames_3000x3000.webp", animated_webp_fifty_frames, animation, s422,
                     "image_too_large", max_seconds=60,
                     why="450 MP of animation: refused, or its first frame read, in seconds"),
        HostileInput("animated_gif_65535_screen.jpg", gif_huge_screen, refused, s415, "unsupported_type",
                     why="GIF is not a document format, whatever the name says"),
        # polyglots and containers
        HostileInput("jpeg_comment_says_pdf.jpg", jpeg_comment_pdf_marker, done, media_type="image/jpeg",
                     why="'%PDF-1.7' as text in a comment does not make a JPEG a PDF"),
        HostileInput("jpeg_comment_holds_pdf.jpg", jpeg_comment_whole_pdf, refused, s415, "ambiguous_type",
                     why="a JPEG and a PDF at once: which one the reviewer sees is the attacker's choice"),
        HostileInput("png_then_pdf.pdf", png_then_pdf, refused, s415,
                     codes=frozenset({"ambiguous_type", "unsupported_type"}), why="a PNG and a PDF at once"),
        HostileInput("zip_first_member_png.png", zip_first_png, refused, s415,
                     codes=frozenset({"ambiguous_type", "unsupported_type"}), why="an archive, not a photo"),
        HostileInput("zip_first_member_pdf.pdf", zip_first_pdf, refused, s415,
                     codes=frozenset({"ambiguous_type", "unsupported_type"}),
                     why="an archive whose stored PDF puts '%PDF-' in the first KB"),
        HostileInput("诊断证明.docx", real_docx, refused, s415, "unsupported_type", why="a real OOXML document"),
        # odd EXIF, odd shapes
        HostileInput("exif_orientation_9.jpg", exif_orientation_9, done, media_type="image/jpeg"),
        HostileInput("exif_orientation_0.jpg", exif_orientation_0, done, media_type="image/jpeg"),
        HostileInput("exif_ifd_offset_past_end.jpg", exif_broken_ifd_offset, frozenset({DONE, FAILED}),
                     codes=frozenset({"corrupt_file"}), why="broken EXIF: read the photo, or say it is corrupt"),
        HostileInput("exif_ifd_loop.jpg", exif_ifd_loop, frozenset({DONE, FAILED}), codes=frozenset({"corrupt_file"}),
                     max_seconds=60, why="an IFD that is its own successor must not loop"),
        HostileInput("exif_60kb.jpg", exif_60kb, done, media_type="image/jpeg"),
        HostileInput("long_20000x300.png", long_strip, frozenset({DONE, FAILED}), codes=clear, max_seconds=60,
                     why="6 MP in a 67:1 strip: read (its text tiny once scaled) or a clear failure"),
        HostileInput("tall_300x20000.png", tall_strip, frozenset({DONE, FAILED}), codes=clear, max_seconds=60,
                     why="a 1:67 strip, as a long screenshot: read or a clear failure"),
        HostileInput("mirrored_text.jpg", mirrored_text_photo, done, media_type="image/jpeg"),
    ]
    items += [HostileInput(name, certificate_image, done, media_type="image/png", name_case=True,
                           why="a valid image under a hostile name") for name in HOSTILE_NAMES]
    return items
