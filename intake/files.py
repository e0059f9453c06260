"""Content-addressed storage of uploaded files.

A file is stored once under its sha256 (``ab/cd/abcdef…``), written to a temporary file in the
same directory, flushed to disk and renamed into place, so a reader never sees half a file and a
crash never leaves one behind. Client file names are never used as paths. ``FileStore`` is the
interface an S3-compatible store can implement later.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from intake.errors import NotFound

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class FileStore(Protocol):
    def put(self, data: bytes, sha256: str | None = None) -> str:
        """Store the bytes; return their sha256. Storing the same bytes twice is a no-op.
        ``sha256``: the caller's own digest of these very bytes, to save hashing them again."""
        ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...


class LocalFileStore:
    """Files under a root directory on a local (or shared network) disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes, sha256: str | None = None) -> str:
        if sha256 is None:
            sha256 = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha256)
        if path.exists():
            return sha256
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(path)  # atomic on POSIX: the name appears with the whole content
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # make the rename itself durable
            finally:
                os.close(dir_fd)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def get(self, sha256: str) -> bytes:
        try:
            return self.path_for(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no stored file with sha256 {sha256}") from None

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()
