import hashlib
from pathlib import Path

import pytest

from intake.errors import NotFound
from intake.files import LocalFileStore


def test_files_are_stored_once_under_their_sha256(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    data = b"%PDF-1.7 fake"
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.get(sha) == data and store.exists(sha)
    assert store.put(data) == sha
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [tmp_path / sha[:2] / sha[2:4] / sha]


def test_no_temporary_file_is_left_behind_when_a_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalFileStore(tmp_path)

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("intake.files.os.fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"data")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_unknown_and_malformed_keys(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(NotFound):
        store.get("0" * 64)
    with pytest.raises(ValueError, match="sha256"):
        store.get("../../etc/passwd")
