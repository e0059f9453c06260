"""What the app and the reviewer each see of one report: the app never the reviewer flags."""

from api.schemas import ReportOut, ReviewReportOut
from intake.report import DocumentReport, Evidence, Report, unknown_checks

FLAG = Evidence(code="identity_mismatch:card.jpg", file="card.jpg", page=0, box=[1, 2, 3, 4], read="张叁",
                expected="张三", rule="材料须为申请人本人的材料", confidence=0.55, reason="姓名相差一个形近字")


def report() -> Report:
    doc = DocumentReport(file="card.jpg", sha256="0" * 64, checks=unknown_checks("—"), text="张叁 OCR text",
                         error_detail="internal", review_flags=[FLAG.code])
    return Report(case_id="c", verdict="ready_for_review", problems=[], notice="ok", documents=[doc],
                  applicant_name="张三", id_number="110105194912310029", disease="糖尿病", region="绥化市",
                  policy="绥化市", application_date="2026-03-05", as_of="2026-03-05", review_due="2026-03-10",
                  materials={}, fingerprint="f", review_flags=[FLAG])


def test_the_app_never_sees_reviewer_flags() -> None:
    app_view = ReportOut.model_validate(report().model_dump()).model_dump(mode="json")
    assert "review_flags" not in app_view
    assert all("review_flags" not in d and "text" not in d and "error_detail" not in d
               for d in app_view["documents"])
    assert app_view["problems"] == [] and app_view["evidence"] == []


def test_the_reviewer_sees_every_flag_with_its_evidence() -> None:
    view = ReviewReportOut.model_validate(report().model_dump()).model_dump(mode="json")
    assert view["review_flags"] == [FLAG.model_dump(mode="json")]
    assert view["documents"][0]["review_flags"] == [FLAG.code]
    assert "text" not in view["documents"][0] and "error_detail" not in view["documents"][0]
