"""The `intake` command: bad input gets a message a person can act on and exit code 2."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from intake.cli import app

runner = CliRunner()


def test_missing_application_json_is_explained(tmp_path: Path) -> None:
    result = runner.invoke(app, ["prescreen", str(tmp_path)])
    assert result.exit_code == 2
    assert "application.json is missing" in result.output


def test_not_a_directory_is_explained(tmp_path: Path) -> None:
    result = runner.invoke(app, ["prescreen", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "is not a directory" in result.output


def test_bad_as_of_date_is_explained(tmp_path: Path) -> None:
    result = runner.invoke(app, ["prescreen", str(tmp_path), "--as-of", "03/05/2026"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_demo_without_samples_is_explained(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--samples", str(tmp_path)])
    assert result.exit_code == 2
    assert "no sample applications" in result.output


@pytest.mark.ocr
def test_json_report_keeps_the_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.settings import get_settings

    monkeypatch.setenv("INTAKE_DB__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    samples = Path(__file__).resolve().parents[2] / "fixtures" / "samples"
    folder = sorted(p for p in samples.iterdir() if (p / "application.json").is_file())[0]
    try:
        result = runner.invoke(app, ["prescreen", str(folder), "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"case_id", "verdict", "problems", "notice", "documents"} <= report.keys()
    assert report["verdict"] in ("ready_for_review", "needs_supplement")
    for doc in report["documents"]:
        assert {"file", "doc_type", "confidence", "error", "fields", "checks"} <= doc.keys()
        assert set(doc["fields"]) >= {"patient_name", "gender", "id_number", "hospital_name", "department",
                                      "diagnosis", "doc_date"}
        assert set(doc["checks"]) >= {"seal", "hospital", "recency", "identity", "quality"}
        for check in doc["checks"].values():
            assert check["outcome"] in ("pass", "fail", "unknown", "not_applicable")
        assert {"present", "text", "matches_issuer"} <= doc["checks"]["seal"].keys()
        assert {"canonical_name", "grade"} <= doc["checks"]["hospital"].keys()
        assert {"date", "age_days", "limit_days"} <= doc["checks"]["recency"].keys()
