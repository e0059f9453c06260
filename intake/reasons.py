"""The reason codes a reviewer picks, with the Chinese labels shown in the workspace and sent to apps.

Reject reasons go with a rejection (``intake.workspace.decisions``) and travel in the
``application.decided`` callback (``intake.callbacks``); retake reasons go with a document marked for
a retake.
"""

from __future__ import annotations

REJECT_REASONS: dict[str, str] = {
    "diagnosis_mismatch": "诊断不符",
    "incomplete": "材料不全",
    "unclear": "材料不清晰",
    "not_designated_hospital": "非定点医院",
    "disease_not_covered": "病种不在范围",
    "other": "其他",
}

RETAKE_REASONS: dict[str, str] = {
    "unclear": "不清晰",
    "incomplete": "不完整（有遮挡或缺页）",
    "seal": "缺少或看不清公章",
    "wrong_person": "不是申请人本人的材料",
    "stale": "超过时限",
    "wrong_document": "材料类型不对",
    "other": "其他",
}
