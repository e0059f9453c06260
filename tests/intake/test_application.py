import json
from pathlib import Path

import pytest

from intake.application import load_application
from intake.errors import ApplicationInvalid

GOOD = {
    "applicant_name": "张三",
    "id_number": "11010519491231002x",
    "disease": "糖尿病",
    "region": "绥化市",
    "application_date": "2026-03-05",
}


def test_application_and_its_files_are_loaded(tmp_path: Path) -> None:
    (tmp_path / "application.json").write_text(json.dumps(GOOD, ensure_ascii=False), "utf-8")
    (tmp_path / "b.jpg").write_bytes(b"x")
    (tmp_path / "a.pdf").write_bytes(b"x")
    (tmp_path / "truth.json").write_text("{}", "utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"x")
    application, files = load_application(tmp_path)
    assert application.id_number.endswith("X")
    assert application.case_id is None
    assert [f.name for f in files] == ["a.pdf", "b.jpg"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "application.json is missing"),
        ("{not json", "cannot read application.json"),
        (json.dumps({**GOOD, "application_date": "2026-13-40"}), "application_date"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "disease"}), "disease"),
    ],
)
def test_bad_application_json_says_what_to_fix(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "application.json").write_text(content, "utf-8")
    with pytest.raises(ApplicationInvalid, match=message):
        load_application(tmp_path)
