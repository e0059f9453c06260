"""Make PaddleX accept the project's ``opencv-python`` as the ``cv2`` it asks for.

PaddleX checks for OpenCV by *distribution name* (``opencv-contrib-python``) and, at import time of
many of its modules, only imports ``cv2`` when that distribution is installed. The project installs
``opencv-python`` instead (the same ``cv2`` module; pyproject drops the contrib and headless wheels so
three copies don't overwrite each other), so without this PaddleOCR refuses to start ("`OCR` requires
additional dependencies") or fails with ``NameError: cv2``. We answer PaddleX's metadata lookup for
``opencv-contrib-python`` with the installed ``opencv-python`` distribution. Must run before the
first ``import paddlex`` / ``import paddleocr``.
"""

from __future__ import annotations

import importlib.metadata as md
import sys
from collections.abc import Iterator
from typing import Any

_ALIASES = {"opencv-contrib-python", "opencv_contrib_python"}


class _OpenCvAliasFinder(md.DistributionFinder):
    """Answers ``opencv-contrib-python`` with the ``opencv-python`` distribution when only that exists."""

    def find_spec(self, *args: Any, **kwargs: Any) -> None:  # not an import finder
        return None

    def find_distributions(self, context: Any = None) -> Iterator[md.Distribution]:
        name = getattr(context, "name", None)
        if name is None or name.lower().replace(".", "-") not in _ALIASES:
            return iter(())
        try:
            return iter((md.distribution("opencv-python"),))
        except md.PackageNotFoundError:
            return iter(())


def install_opencv_alias() -> None:
    """Install the alias once, only where the contrib wheel itself is absent."""
    if any(isinstance(f, _OpenCvAliasFinder) for f in sys.meta_path):
        return
    try:
        md.distribution("opencv-contrib-python")
        return  # the real thing is installed; nothing to do
    except md.PackageNotFoundError:
        pass
    sys.meta_path.append(_OpenCvAliasFinder())
