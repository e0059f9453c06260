"""A corpus of bad (and awkward-but-valid) uploads, built in code: nothing big is committed.

Each ``BadInput`` names a file as an app would send it, its bytes, and what the service must do with
it: refuse it at upload (a 4xx with a file-level code), or accept it and end with the document
``failed`` (with a reason) or ``done``. Where the honest answer depends on a decoder's leniency
(a JPEG with damaged middle bytes may still decode), ``outcomes`` lists every acceptable end.

Also here: ``good_pdf`` — a small text-layer PDF (no OCR needed) used as the good document beside
each bad one, and ``text_pdf`` / ``text_image`` for the fault tests.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# The application each bad file is uploaded to (beside one good document).
APPLICATION = {
    "applicant_name": "张三",
    "id_number": "230102195703152419",
    "disease": "糖尿病",
    "region": "绥化市",
    "application_date": "2026-03-05",
}

REFUSED = "refused"  # 4xx at upload, nothing stored
FAILED = "failed"  # accepted; the worker records a document-level error with a reason
DONE = "done"  # accepted and read

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


@dataclass(frozen=True)
class BadInput:
    name: str  # the client's file name (its extension may lie)
    build: Callable[[], bytes]
    outcomes: frozenset[str]  # acceptable ends: REFUSED / FAILED / DONE
    http: frozenset[int] = field(default_factory=frozenset)  # expected 4xx when refused
    code: str | None = None  # expected file-level (or document error) code, when one is certain
    media_type: str | None = None  # what the service must read it as, when accepted
    why: str = ""

    @property
    def data(self) -> bytes:
        return _built(self.build)


@cache
def _built(build: Callable[[], bytes]) -> bytes:
    return build()


# --- building blocks ---------------------------------------------------------------------------------


def cjk_font_path() -> Path | None:
    return next((Path(p) for p in _FONT_CANDIDATES if Path(p).is_file()), None)


def _image_bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def small_png(width: int = 64, height: int = 48, color: str = "white") -> bytes:
    return _image_bytes(Image.new("RGB", (width, height), color), "PNG")


def small_jpeg(width: int = 160, height: int = 120) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 8):  # some detail, so the entropy-coded data is not trivially short
        draw.line([(x, 0), (width - x, height)], fill=(x % 255, 40, 200 - x % 200), width=2)
    return _image_bytes(image, "JPEG", quality=90)


def text_image(lines: list[str], *, width: int = 900, size: int = 34) -> bytes:
    """A PNG photo-like page with Chinese text: something for the OCR to read for a few seconds."""
    font_path = cjk_font_path()
    font = ImageFont.truetype(str(font_path), size) if font_path else ImageFont.load_default()
    height = 60 + len(lines) * (size + 18)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * (size + 18)), line, fill="black", font=font)
    return _image_bytes(image, "PNG")


def _reportlab_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = cjk_font_path()
    if path is None:
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        return "STSong-Light"
    if "BadInputsCJK" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("BadInputsCJK", str(path), subfontIndex=0))
    return "BadInputsCJK"


def text_pdf(lines: list[str], *, page_size: tuple[float, float] = (420, 300), encrypt: object = None) -> bytes:
    """A one-page PDF with a real text layer: read by pdfplumber, no OCR."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=page_size, encrypt=encrypt, invariant=1)  # same text, same bytes
    pdf.setFont(_reportlab_font(), 14)
    for i, line in enumerate(lines):
        pdf.drawString(30, page_size[1] - 40 - i * 22, line)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def good_pdf(tag: str = "") -> bytes:
    """A small, valid 门诊病历-like text PDF; ``tag`` makes the bytes (and the sha256) unique."""
    return text_pdf([
        "某某市第一人民医院 门诊病历",
        "姓名：张三  性别：男  年龄：68岁",
        "就诊日期：2026年02月20日",
        "诊断：2型糖尿病",
        f"处理：继续口服二甲双胍，定期复查。{tag}",
    ])


def _png_chunk(kind: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    value = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", value & 0xFFFFFFFF)


def _png(width: int, height: int, *, bit_depth: int, color_type: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _zero_rows(width_bytes: int, height: int) -> bytes:
    """zlib stream of ``height`` PNG rows (filter byte + zeros), compressed a row block at a time."""
    compressor = zlib.compressobj(9)
    block_rows = max(1, (1 << 22) // (width_bytes + 1))
    block = b"\x00" * ((width_bytes + 1) * block_rows)
    out = []
    for start in range(0, height, block_rows):
        rows = min(block_rows, height - start)
        out.append(compressor.compress(block if rows == block_rows else b"\x00" * ((width_bytes + 1) * rows)))
    out.append(compressor.flush())
    return b"".join(out)


def decompression_bomb() -> bytes:
    """A PNG whose header says 50000×50000 RGB (7.5 GB of pixels) in a few KB: the IDAT holds only the
    first rows. Decoding it would exhaust memory; the header check must refuse it first."""
    width = height = 50_000
    compressor = zlib.compressobj(9)
    idat = compressor.compress(b"\x00" * (width * 3 + 1) * 8) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return _png(width, height, bit_depth=8, color_type=2, idat=idat)


def huge_png() -> bytes:
    """A complete, valid 20000×20000 black-and-white PNG (~50 KB): 400 MP, over the pixel limit."""
    side = 20_000
    return _png(side, side, bit_depth=1, color_type=0, idat=_zero_rows(side // 8, side))


def png_with_wrong_crc(chunk: bytes = b"IDAT") -> bytes:
    """A PNG whose ``chunk`` CRC does not match its data. With the IDAT CRC wrong the pixels are
    intact and lenient decoders (Pillow, browsers) read them; with the IHDR CRC wrong it is no PNG."""
    data = bytearray(small_png(80, 60, "gray"))
    start = data.index(chunk)
    length = int.from_bytes(data[start - 4:start], "big")
    crc = start + 4 + length
    data[crc:crc + 4] = bytes(b ^ 0xFF for b in data[crc:crc + 4])
    return bytes(data)


def truncated(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


def jpeg_with_corrupt_middle() -> bytes:
    data = bytearray(small_jpeg(320, 240))
    rng = random.Random(7)
    start = len(data) // 2
    for i in range(start, start + 200):
        data[i] = rng.randrange(256) if rng.random() < 0.5 else 0xFF
    return bytes(data)


def encrypted_pdf() -> bytes:
    from reportlab.lib.pdfencrypt import StandardEncryption

    return text_pdf(["加密的诊断证明书"], encrypt=StandardEncryption("secret-user", "secret-owner", strength=128))


def many_pages_pdf(pages: int = 500) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(72, 72), invariant=1)
    for i in range(pages):
        pdf.drawString(10, 30, str(i + 1))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (object 1 must be the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty."""
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def garbage_text_layer_pdf() -> bytes:
    """A PDF whose text layer is private-use code points (what a subset font without a real
    ToUnicode map gives): the text is unusable, the page must be OCR'd or fail clearly."""
    rng = random.Random(11)
    junk = ["".join(chr(0xE000 + rng.randrange(0x1000)) for _ in range(24)) for _ in range(4)]
    return text_pdf(junk, page_size=(300, 160))


def heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = Image.new("RGB", (96, 64), "white")
    ImageDraw.Draw(image).rectangle([10, 10, 80, 50], outline="black", width=3)
    return _image_bytes(image, "HEIF", quality=80)


def gif() -> bytes:
    frames = [Image.new("P", (32, 32), i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def cmyk_jpeg() -> bytes:
    return _image_bytes(Image.new("CMYK", (96, 64), (0, 0, 0, 30)), "JPEG")


def gray16_png() -> bytes:
    return _image_bytes(Image.new("I;16", (96, 64), 40000), "PNG")


def tiff_three_pages() -> bytes:
    pages = [Image.new("RGB", (80, 60), color) for color in ("white", "lightgray", "white")]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    return buffer.getvalue()


def exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° CW to display
    return _image_bytes(Image.new("RGB", (120, 80), "white"), "JPEG", exif=exif.tobytes())


def svg_with_script() -> bytes:
    return (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
            b'<script>alert(document.cookie)</script><rect width="100" height="100"/></svg>\n')


def zip_file(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_like() -> bytes:
    return zip_file({
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                               b'2006/content-types"/>',
        "word/document.xml": "<w:document><w:body><w:p><w:r><w:t>诊断证明书</w:t></w:r></w:p></w:body>"
                             "</w:document>".encode(),
    })


def random_bytes() -> bytes:
    rng = random.Random(5)
    return b"\x13\x37" + bytes(rng.randrange(256) for _ in range(4096))


def _unsupported(name: str, build: Callable[[], bytes], why: str = "") -> BadInput:
    return BadInput(name, build, frozenset({REFUSED}), frozenset({415}), "unsupported_type", why=why)


def corpus() -> list[BadInput]:
    """At least 25 files; each states what the service must do with it."""
    any_end = frozenset({DONE, FAILED})
    refuse_422 = frozenset({422})
    return [
        BadInput("empty.jpg", lambda: b"", frozenset({REFUSED}), refuse_422, "empty_file"),
        _unsupported("one_byte.png", lambda: b"\x89", why="one byte: no type"),
        BadInput("whitespace.pdf", lambda: b" \n\t \r\n", frozenset({REFUSED}), refuse_422, "empty_file"),
        BadInput("truncated.jpg", lambda: truncated(small_jpeg(), 0.5), frozenset({FAILED}), code="corrupt_file",
                 why="header fine, data ends half way: found when decoding"),
        BadInput("truncated.png", lambda: truncated(small_jpeg_as_png(), 0.5), frozenset({REFUSED, FAILED}),
                 refuse_422, "corrupt_file"),
        BadInput("truncated.pdf", lambda: truncated(good_pdf("truncated"), 0.6), frozenset({REFUSED, FAILED, DONE}),
                 refuse_422, why="pdfium rebuilds a lost xref; if the page survives it may even be read"),
        BadInput("encrypted.pdf", encrypted_pdf, frozenset({REFUSED}), refuse_422, "encrypted_pdf"),
        BadInput("500_pages.pdf", many_pages_pdf, frozenset({REFUSED}), refuse_422, "too_many_pages"),
        BadInput("bomb_50000x50000.png", decompression_bomb, frozenset({REFUSED}), refuse_422, "image_too_large"),
        BadInput("huge_20000x20000.png", huge_png, frozenset({REFUSED}), refuse_422, "image_too_large"),
        BadInput("really_a_pdf.jpg", lambda: good_pdf("named .jpg"), frozenset({DONE}), media_type="application/pdf",
                 why="the name lies; the bytes decide"),
        BadInput("really_a_png.pdf", lambda: small_png(90, 60, "white"), frozenset({DONE}), media_type="image/png"),
        _unsupported("script.svg", svg_with_script),
        _unsupported("archive.zip", lambda: zip_file({"a.jpg": small_jpeg()})),
        _unsupported("报告.docx", docx_like),
        _unsupported("random.bin", random_bytes),
        _unsupported("page.html", lambda: "<!DOCTYPE html><html><body>诊断证明</body></html>".encode()),
        _unsupported("data.json", lambda: b'{"diagnosis": "\\u7cd6\\u5c3f\\u75c5"}'),
        BadInput("IMG_0001.HEIC", heic, frozenset({DONE}), why="iPhone photos must be accepted and read"),
        BadInput("garbage_text_layer.pdf", garbage_text_layer_pdf, any_end,
                 why="unusable text layer: OCR the page or fail with a reason"),
        BadInput("corrupt_middle.jpg", jpeg_with_corrupt_middle, any_end,
                 why="JPEG decoders resync at restart markers; may read, must not crash"),
        _unsupported("animated.gif", gif),
        BadInput("1x1.png", lambda: small_png(1, 1), any_end),
        BadInput("cmyk.jpg", cmyk_jpeg, frozenset({DONE}), media_type="image/jpeg"),
        BadInput("gray16.png", gray16_png, frozenset({DONE}), media_type="image/png"),
        BadInput("three_pages.tiff", tiff_three_pages, frozenset({DONE}), media_type="image/tiff"),
        BadInput("wrong_crc_idat.png", png_with_wrong_crc, frozenset({REFUSED, FAILED, DONE}), refuse_422,
                 why="pixels intact, only the checksum is wrong: reading them is fine, so is refusing"),
        BadInput("wrong_crc_ihdr.png", lambda: png_with_wrong_crc(b"IHDR"), frozenset({REFUSED}), refuse_422,
                 "corrupt_file"),
        BadInput("exif_orientation_6.jpg", exif_rotated_jpeg, frozenset({DONE})),
        BadInput("all_black.png", lambda: small_png(120, 90, "black"), any_end),
        BadInput("header_only.pdf", lambda: b"%PDF-1.7\n", frozenset({REFUSED}), refuse_422, "corrupt_file"),
        BadInput("zero_pages.pdf", zero_page_pdf, frozenset({REFUSED}), refuse_422, "corrupt_file"),
    ]


def small_jpeg_as_png() -> bytes:
    image = Image.open(io.BytesIO(small_jpeg(200, 150)))
    return _image_bytes(image, "PNG")
