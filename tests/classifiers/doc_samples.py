"""OcrResult builders for the doctype / fields tests, so they run without the OCR models.

``recorded(name)`` loads real PaddleOCR output captured from /work/shared/realworld photos (text,
score and box of every line, as the engine returned them). ``page(...)`` lays out hand-written
rows the way the engine returns a clean form: one box per cell, cells of a row side by side.
"""

from __future__ import annotations

import json
from pathlib import Path

from ocr.types import Box, OcrLine, OcrPage, OcrResult

RECORDED = Path(__file__).parent / "data" / "recorded_ocr"

ROW_HEIGHT = 30.0
ROW_GAP = 12.0
CHAR_WIDTH = 26.0
CELL_GAP = 40.0
LEFT = 60.0


def recorded(name: str) -> OcrResult:
    data = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))
    lines = [
        OcrLine(
            text=item["text"],
            score=item["score"],
            box=Box(x0=item["box"][0], y0=item["box"][1], x1=item["box"][2], y1=item["box"][3]),
        )
        for item in data["lines"]
    ]
    width = int(max(line.box.x1 for line in lines)) + 20
    height = int(max(line.box.y1 for line in lines)) + 20
    page = OcrPage(index=0, width=width, height=height, source="ocr", lines=lines)
    return OcrResult(media_type="image/jpeg", pages=[page], fingerprint="recorded")


def page_lines(
    rows: list[str | list[str]], *, top: float = 40.0, indent: dict[int, float] | None = None
) -> list[OcrLine]:
    """One OcrLine per cell; a ``str`` row is one cell, a list row several cells left to right."""
    lines = []
    for i, row in enumerate(rows):
        cells = [row] if isinstance(row, str) else row
        y0 = top + i * (ROW_HEIGHT + ROW_GAP)
        x = LEFT + (indent or {}).get(i, 0.0)
        for cell in cells:
            width = CHAR_WIDTH * max(len(cell), 1)
            lines.append(OcrLine(text=cell, score=0.99, box=Box(x0=x, y0=y0, x1=x + width, y1=y0 + ROW_HEIGHT)))
            x += width + CELL_GAP
    return lines


def page(*rows: str | list[str], indent: dict[int, float] | None = None, height: int = 1700) -> OcrResult:
    """A one-page OcrResult laid out from ``rows`` (A4 proportions, 150 dpi-ish)."""
    lines = page_lines(list(rows), indent=indent)
    return OcrResult(
        media_type="image/png",
        pages=[OcrPage(index=0, width=1240, height=height, source="ocr", lines=lines)],
        fingerprint="test",
    )


# --------------------------------------------------------------------------------------------
# Hand-written pages of each type, laid out like the real forms (cells as OCR boxes them).
# --------------------------------------------------------------------------------------------


def diagnosis_certificate(title: str = "疾病诊断证明书") -> OcrResult:
    return page(
        "苏州市立医院",
        title,
        ["姓名：张三", "性别：男", "年龄：56岁", "科室：内分泌科"],
        ["身份证号：", "320102195001011234"],
        ["就诊日期：2026-01-10", "门诊号：20260110001"],
        "诊断：",
        "1.2型糖尿病",
        "2.高血压病3级(极高危)",
        "建议：长期门诊随访治疗，低盐低脂糖尿病饮食。",
        "特此证明",
        ["医师签名：李四", "(医院盖章)"],
        "2026年1月12日",
    )


def discharge_summary(title: str = "出院小结") -> OcrResult:
    return page(
        "南京鼓楼医院",
        title,
        ["姓名：王芳", "性别：女", "年龄：63岁", "科别：心血管内科", "住院号：A00123"],
        ["入院日期：2025-11-02", "出院日期：2025-11-15", "住院天数：13天"],
        "入院诊断：胸痛待查",
        "出院诊断：1.冠状动脉粥样硬化性心脏病",
        "2.高血压病2级",
        "诊疗经过：入院后完善相关检查，予抗血小板、调脂治疗。",
        "出院医嘱：1.低盐低脂饮食 2.按时服药 3.门诊随访",
        ["医师：赵六", "记录日期：2025-11-15"],
    )


def outpatient_record() -> OcrResult:
    return page(
        "江苏省人民医院",
        "门诊病历",
        ["姓名：刘强", "性别：男", "年龄：48岁", "科室：呼吸内科"],
        ["就诊时间：2026-02-03 09:12", "出生日期：1977-05-06"],
        "主诉：反复咳嗽咳痰10年，加重1周。",
        "现病史：患者10年前无明显诱因出现咳嗽咳痰，冬春季加重。",
        "既往史：吸烟30年。",
        "体格检查：双肺可闻及散在干啰音。",
        "诊断：慢性阻塞性肺疾病",
        "处理：沙美特罗替卡松吸入",
        "医师：钱七",
    )


def imaging_report() -> OcrResult:
    return page(
        "苏州大学附属第一医院",
        "CT检查报告单",
        ["姓名：周敏", "性别：女", "年龄：70岁", "检查号：CT123456"],
        ["检查部位：头颅", "检查方法：平扫"],
        "检查所见：",
        "左侧基底节区见斑片状低密度影，边界欠清。",
        "诊断意见：",
        "左侧基底节区腔隙性脑梗死",
        ["检查日期：2026-02-01", "报告日期：2026-02-02"],
        ["报告医师：孙八", "审核医师：吴九"],
    )


def hospital_invoice() -> OcrResult:
    return page(
        "江苏省医疗门诊收费票据（电子）",
        ["票据代码：32060123", "票据号码：0012345678"],
        ["交款人：张三", "开票日期：2026-01-12"],
        ["项目名称", "数量", "单价", "金额"],
        ["西药费", "1", "128.50", "128.50"],
        ["检查费", "1", "300.00", "300.00"],
        ["合计（大写）肆佰贰拾捌元伍角", "¥428.50"],
        ["医保统筹支付：300.00", "个人自付：128.50"],
        ["收款单位：苏州市立医院", "收款人：王五"],
    )


def prescription() -> OcrResult:
    return page(
        "苏州市立医院",
        "处方笺",
        ["姓名：张三", "性别：男", "年龄：56岁", "科别：内分泌科"],
        "临床诊断：2型糖尿病",
        "Rp:",
        "二甲双胍片 0.5g×60片",
        "用法：0.5g 每日两次 口服",
        ["医师：李四", "审核药师：陈十", "调配：周一", "核对/发药：吴二"],
        ["药品金额：36.00元", "日期：2026-01-12"],
    )


def id_card_back() -> OcrResult:
    return page(
        "中华人民共和国",
        "居民身份证",
        ["签发机关", "苏州市公安局姑苏分局"],
        ["有效期限", "2016.08.01-2036.08.01"],
    )


def social_security_card() -> OcrResult:
    return page(
        "中华人民共和国社会保障卡",
        ["姓名", "张三"],
        ["社会保障号码", "320102195001011234"],
        ["卡号", "A12345678"],
        "江苏省人力资源和社会保障厅",
    )
