"""Errors of the ``ocr`` package: bad input a person can act on, each with a short machine ``code``.

The tree::

    OcrError                      root; ``.code`` + a plain-Chinese message for the applicant
    ├── EmptyFile                 "empty_file"        zero bytes (or only whitespace)
    ├── UnsupportedFileType       "unsupported_type"  not JPEG/PNG/WebP/TIFF/BMP/HEIC/PDF
    │   └── AmbiguousFileType     "ambiguous_type"    two containers in one file (a polyglot)
    ├── CorruptFile               "corrupt_file"      truncated or malformed image or PDF
    ├── EncryptedPdf              "encrypted_pdf"     PDF protected by a password
    ├── TooManyPages              "too_many_pages"    more pages than ``max_pages``
    ├── ImageTooLarge             "image_too_large"   more pixels than ``max_image_pixels`` in a
    │                                                 frame or ``max_total_pixels`` in all of them
    │                                                 (checked from the headers, before decoding)
    ├── DocumentTooComplex        "too_complex"       reading it took more memory or time than a
    │                                                 document may (a PDF whose drawings fan out):
    │                                                 final, never retried
    └── OcrEngineError            "engine_error"      the OCR engine or its models failed (not the
                                                      applicant's fault; retry or alert operators)

``str(err)`` is the Chinese message followed by the English detail, so logs are readable by both.
"""

from __future__ import annotations


class OcrError(Exception):
    """Root of the package's errors: ``code`` for machines, ``message`` (Chinese) for people."""

    code: str = "ocr_error"
    default_message: str = "文件无法读取，请重新拍照或扫描后上传。"

    def __init__(self, detail: str = "", *, message: str | None = None) -> None:
        self.message = message or self.default_message
        self.detail = detail
        super().__init__(f"{self.message} ({detail})" if detail else self.message)


class EmptyFile(OcrError):
    code = "empty_file"
    default_message = "上传的文件是空的，请重新选择文件上传。"


class UnsupportedFileType(OcrError):
    code = "unsupported_type"
    default_message = "不支持该文件格式，请上传照片（JPG、PNG、HEIC 等）或 PDF 文件。"


class CorruptFile(OcrError):
    code = "corrupt_file"
    default_message = "文件已损坏或不完整，无法打开，请重新拍照或重新导出后上传。"


class EncryptedPdf(OcrError):
    code = "encrypted_pdf"
    default_message = "该 PDF 文件设置了密码，无法读取，请去除密码后重新上传。"


class TooManyPages(OcrError):
    code = "too_many_pages"
    default_message = "文件页数过多，请只上传与申请相关的页面，或拆分成多个文件上传。"

    def __init__(self, detail: str = "", *, pages: int = 0, max_pages: int = 0) -> None:
        self.pages = pages
        self.max_pages = max_pages
        super().__init__(
            detail,
            message=(
                f"文件共有 {pages} 页，超过了 {max_pages} 页的上限，"
                "请只上传与申请相关的页面，或拆分成多个文件上传。"
            ),
        )


class ImageTooLarge(OcrError):
    code = "image_too_large"
    default_message = "图片尺寸过大，请压缩图片或用手机正常拍照后重新上传。"

    def __init__(self, detail: str = "", *, pixels: int = 0, max_pixels: int = 0) -> None:
        self.pixels = pixels
        self.max_pixels = max_pixels
        super().__init__(detail)


class AmbiguousFileType(UnsupportedFileType):
    code = "ambiguous_type"
    default_message = "文件格式无法确定（同时含有多种文件格式），请重新拍照或导出为普通的JPG、PNG或PDF后上传。"


class DocumentTooComplex(OcrError):
    code = "too_complex"
    default_message = "文件内容过于复杂，系统无法读取，请将该材料打印后重新扫描或拍照上传。"


class OcrEngineError(OcrError):
    code = "engine_error"
    default_message = "系统暂时无法识别该文件，请稍后重试；如多次失败，请联系经办机构。"
