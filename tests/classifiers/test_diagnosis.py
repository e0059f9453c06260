"""Diagnosis vs claimed 病种: support passes, a clear other disease fails, vague text is unknown.

The seed materials (docs/seeds/, one write-up per region; the text came through a lossy conversion,
so they are quoted here in simplified characters) name the 病种 of each region's list: the tests per
region hold the catalogue to every name they write.
"""

from __future__ import annotations

import csv

import pytest

from classifiers.diagnosis import ICD10_PATH, DiseaseCatalogue, check_diagnosis
from classifiers.types import Outcome

# The policy threshold the lead uses: a FAIL at or above it is a problem for the applicant.
PROBLEM_THRESHOLD = 0.8


@pytest.fixture(scope="module")
def catalogue() -> DiseaseCatalogue:
    return DiseaseCatalogue.load()


# ---- the catalogue against the seed lists ------------------------------------------------------------

# 000 (黑龙江省绥化市): "常见门诊特病包括恶性肿瘤、尿毒症透析、器官移植术后抗排异治疗等"
SUIHUA = {"恶性肿瘤": "门诊特殊疾病", "尿毒症透析": "门诊特殊疾病", "器官移植术后抗排异治疗": "门诊特殊疾病"}
# 001 (湖北省神农架林区): "门诊特殊疾病通常有11种，例如恶性肿瘤门诊治疗、慢性肾功能衰竭透析、器官移植抗排异治疗、
# 重性精神病、血友病等" and "为恶性肿瘤、慢性肾功能衰竭等符合条件的患者"
HUBEI = {
    "恶性肿瘤门诊治疗": "门诊特殊疾病",
    "慢性肾功能衰竭透析": "门诊特殊疾病",
    "器官移植抗排异治疗": "门诊特殊疾病",
    "重性精神病": "门诊特殊疾病",
    "血友病": "门诊特殊疾病",
    "恶性肿瘤": "门诊特殊疾病",
    "慢性肾功能衰竭": "门诊特殊疾病",
}
# 002 (贵州省六盘水市): "门诊慢性病（19种）：如风湿性心脏病、高血压（有心、脑、肾、眼并发症）、糖尿病（有并发症）等";
# "门诊特殊疾病（12种）：如恶性肿瘤、慢性白血病、慢性肾功能衰竭透析治疗、再生障碍性贫血、器官移植术后抗排异治疗等";
# "本地扩展病种（18种）：如支气管哮喘、重性精神病（含精神分裂症、双相情感障碍等）"; and its table:
# "风湿性心脏病、高血压、糖尿病 | 恶性肿瘤、慢性肾功能衰竭透析、器官移植术后抗排异 | 支气管哮喘、重性精神病、癫痫"
LIUPANSHUI = {
    "风湿性心脏病": "门诊慢性病",
    "高血压（有心、脑、肾、眼并发症）": "门诊慢性病",
    "糖尿病（有并发症）": "门诊慢性病",
    "高血压": "门诊慢性病",
    "糖尿病": "门诊慢性病",
    "恶性肿瘤": "门诊特殊疾病",
    "慢性白血病": "门诊特殊疾病",
    "慢性肾功能衰竭透析治疗": "门诊特殊疾病",
    "再生障碍性贫血": "门诊特殊疾病",
    "器官移植术后抗排异治疗": "门诊特殊疾病",
    "慢性肾功能衰竭透析": "门诊特殊疾病",
    "器官移植术后抗排异": "门诊特殊疾病",
    "支气管哮喘": "本地扩展病种",
    "重性精神病": "本地扩展病种",
    "癫痫": "本地扩展病种",
}
# "重性精神病（含精神分裂症、双相情感障碍等）": named inside the 重性精神病 entry, not as 病种 of their own.
LIUPANSHUI_MEMBERS = {"精神分裂症": "重性精神病", "双相情感障碍": "重性精神病"}


@pytest.mark.parametrize(
    ("region", "seed_names"),
    [("绥化市", SUIHUA), ("神农架林区", HUBEI), ("六盘水市", LIUPANSHUI)],
)
def test_every_disease_a_seed_names_is_in_the_catalogue_under_its_region(
    catalogue: DiseaseCatalogue, region: str, seed_names: dict[str, str]
) -> None:
    """GIVEN the names a region's seed writes WHEN each is looked up THEN it resolves to a 病种 that
    records the region and the seed's class, and a diagnosis written that way supports the claim."""
    for name, seed_class in seed_names.items():
        disease = catalogue.find(name)
        assert disease is not None, name
        assert dict(disease.regions).get(region) == seed_class, (name, disease.name, disease.regions)
        check = check_diagnosis(name, name, catalogue)
        assert check.outcome == Outcome.PASS and check.confidence >= 0.9, (name, check)


def test_the_members_liupanshui_lists_under_severe_mental_illness_support_it(catalogue: DiseaseCatalogue) -> None:
    """'重性精神病（含精神分裂症、双相情感障碍等）': the members are 病种 of their own and support the group."""
    for member, group in LIUPANSHUI_MEMBERS.items():
        assert catalogue.find(member).name == member  # type: ignore[union-attr]
        assert group in [g.name for g in catalogue.groups_of(catalogue.find(member))]  # type: ignore[arg-type]
        check = check_diagnosis(member, group, catalogue)
        assert check.outcome == Outcome.PASS, check


def test_catalogue_size_per_region(catalogue: DiseaseCatalogue) -> None:
    per_region: dict[str, int] = {}
    for d in catalogue.diseases:
        for region, _ in d.regions:
            per_region[region] = per_region.get(region, 0) + 1
    # Every distinct 病种 the seeds name (aliases fold 慢性肾功能衰竭透析 into 慢性肾功能衰竭 and so on).
    assert per_region == {"六盘水市": 11, "神农架林区": 5, "绥化市": 3}
    assert len(catalogue.diseases) >= 45


def test_find_accepts_names_aliases_and_written_variants(catalogue: DiseaseCatalogue) -> None:
    assert catalogue.find("高血压病").name == "高血压病"  # type: ignore[union-attr]
    assert catalogue.find("慢阻肺").name == "慢性阻塞性肺疾病"  # type: ignore[union-attr]
    assert catalogue.find("２型糖尿病").name == "糖尿病"  # type: ignore[union-attr]  # full-width digit
    assert catalogue.find("高血压(有心脑肾眼并发症)").name == "高血压病"  # type: ignore[union-attr]
    assert catalogue.find("高血压（有并发症）").name == "高血压病"  # type: ignore[union-attr]
    assert catalogue.find("尿毒症透析").name == "慢性肾功能衰竭"  # type: ignore[union-attr]
    assert catalogue.find("恶性肿瘤门诊治疗").name == "恶性肿瘤"  # type: ignore[union-attr]
    assert catalogue.find("感冒") is None


# ---- the catalogue against ICD-10 ---------------------------------------------------------------------


def test_icd10_table_is_loaded(catalogue: DiseaseCatalogue) -> None:
    assert catalogue.icd10_names["K35"] == "急性阑尾炎"
    assert len(catalogue.icd10_names) > 1500


def test_every_icd10_range_is_made_of_categories_of_the_table(catalogue: DiseaseCatalogue) -> None:
    """The table (icd10cn) has chapters A-T; only Z codes (chapter XXI, absent) may fall outside it."""
    with ICD10_PATH.open(encoding="utf-8-sig", newline="") as fh:
        table = {row["code"].rstrip("*+")[:3] for row in csv.DictReader(fh, delimiter="\t")}
    for d in catalogue.diseases:
        assert d.icd10, d.name
        for lo, hi in d.icd10:
            for cat in (lo, hi):
                assert cat in table or cat.startswith("Z"), (d.name, cat)
    for wording, category in catalogue.other_conditions.items():
        assert category is None or category in table, wording


def test_ranges_of_two_diseases_are_disjoint_or_nested(catalogue: DiseaseCatalogue) -> None:
    from classifiers.diagnosis import _inside, _overlap

    for a in catalogue.diseases:
        for b in catalogue.diseases:
            if a is not b and _overlap(a.icd10, b.icd10):
                assert _inside(a.icd10, b.icd10) or _inside(b.icd10, a.icd10), (a.name, b.name)


def test_every_wording_of_a_disease_supports_it_and_its_related_ones_do_not_contradict(
    catalogue: DiseaseCatalogue,
) -> None:
    for d in catalogue.diseases:
        for wording in (d.name, *d.aliases, *d.terms, *d.wordings):
            assert check_diagnosis(wording, d.name, catalogue).outcome == Outcome.PASS, (d.name, wording)
        for wording in (d.name, *d.aliases):
            assert catalogue.find(wording) is d, (d.name, wording)
        for wording in d.related:
            assert check_diagnosis(wording, d.name, catalogue).outcome == Outcome.UNKNOWN, (d.name, wording)


# ---- wordings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "claim", "term"),
    [
        ("1.高血压病3级 2.2型糖尿病", "糖尿病", "2型糖尿病"),  # one of several fits
        ("1.高血压病3级 2.2型糖尿病", "高血压病", "高血压病3级"),
        ("原发性高血压", "高血压", "原发性高血压"),
        ("高血压病 糖尿病史", "高血压病", "高血压病"),  # history of another disease does not matter
        ("特发性(原发性)高血压", "高血压病", None),  # ICD-10 category wording
        ("非胰岛素依赖型糖尿病", "糖尿病", "非胰岛素依赖型糖尿病"),  # E11 name
        ("Ⅱ型糖尿病", "糖尿病", None),
        ("I10", "高血压病", "I10"),  # bare ICD code
        ("冠状动脉粥样硬化性心脏病；不稳定型心绞痛", "冠心病", None),
        ("慢性肾脏病5期 维持性血液透析", "慢性肾功能衰竭", None),
        ("急性阑尾炎；2型糖尿病", "糖尿病", "2型糖尿病"),  # a support beats an unrelated disease
        # 重性精神病 and the wordings of its six conditions
        ("精神分裂症", "重性精神病", "精神分裂症"),
        ("双相情感障碍，目前为躁狂发作", "重性精神病", "双相情感障碍"),
        ("偏执性精神病", "重性精神病", "偏执性精神病"),
        ("分裂情感性障碍", "重性精神病", "分裂情感性障碍"),
        ("癫痫所致精神障碍", "重性精神病", "癫痫所致精神障碍"),
        ("精神发育迟滞伴发精神障碍", "重性精神病", "精神发育迟滞伴发精神障碍"),
        # abbreviations, stage, grade and type suffixes
        ("T2DM", "糖尿病", "T2DM"),
        ("2型糖尿病伴多个并发症", "糖尿病（有并发症）", "2型糖尿病伴多个并发症"),
        ("2型糖尿病性周围神经病", "糖尿病", None),
        ("慢性肾功能不全 CKD 5期", "慢性肾功能衰竭透析", "慢性肾功能不全"),
        ("慢性肾脏病5期", "尿毒症透析", None),
        ("冠心病 PCI术后", "冠心病", "冠心病"),
        ("COPD", "慢性阻塞性肺疾病", "COPD"),
        ("AECOPD", "慢阻肺", "AECOPD"),
        ("肝硬化失代偿期", "肝硬化", "肝硬化失代偿期"),
        ("高血压病3级（极高危）", "高血压（有心、脑、肾、眼并发症）", "高血压病3级"),
        ("心功能III级", "慢性心力衰竭", None),
        ("扩张型心肌病 心功能Ⅳ级（NYHA分级）", "慢性心力衰竭", None),
        ("慢性粒细胞白血病", "慢性白血病", "慢性粒细胞白血病"),
        ("慢性粒细胞白血病", "恶性肿瘤", "慢性粒细胞白血病"),  # 恶性肿瘤's ranges hold 慢性白血病
        ("风湿性心脏病 二尖瓣狭窄", "风湿性心脏病", "风湿性心脏病"),
        ("同种异体肾移植术后", "器官移植术后抗排异治疗", None),
    ],
)
def test_supported_claim_passes(catalogue: DiseaseCatalogue, text: str, claim: str, term: str | None) -> None:
    check = check_diagnosis(text, claim, catalogue)
    assert check.outcome == Outcome.PASS, check
    assert check.disease == catalogue.find(claim).name  # type: ignore[union-attr]
    assert check.confidence >= 0.9
    if term:
        assert check.matched_term == term


def test_a_printed_code_is_reported_with_the_wording(catalogue: DiseaseCatalogue) -> None:
    check = check_diagnosis("诊断：2型糖尿病（E11.900）", "糖尿病", catalogue)
    assert (check.outcome, check.matched_term, check.icd10) == (Outcome.PASS, "2型糖尿病", "E11.900")
    only_code = check_diagnosis("E11.900", "糖尿病", catalogue)
    assert only_code.outcome == Outcome.PASS and only_code.icd10 == "E11.900"
    assert only_code.confidence < check.confidence  # a bare code can be one misread digit off


def test_latin_abbreviations_match_only_as_whole_words(catalogue: DiseaseCatalogue) -> None:
    assert check_diagnosis("SLEEP APNEA", "系统性红斑狼疮", catalogue).outcome == Outcome.UNKNOWN
    assert check_diagnosis("SLE", "系统性红斑狼疮", catalogue).outcome == Outcome.PASS


# ---- another condition --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "claim", "icd10"),
    [
        ("急性阑尾炎", "高血压病", "K35"),
        ("胆囊结石伴慢性胆囊炎", "糖尿病", "K80"),  # everyday wordings outside ICD-10's names
        ("腰椎间盘突出症", "糖尿病", "M51"),
        ("2型糖尿病", "高血压病", "E10-E14"),  # another 病种 of the catalogue
        ("脑梗死后遗症", "高血压病", "I60-I69"),
        ("系统性红斑狼疮", "类风湿关节炎", "M32"),
        ("慢性阻塞性肺疾病急性加重期", "糖尿病", "J41-J44"),
    ],
)
def test_other_disease_without_support_fails_with_high_confidence(
    catalogue: DiseaseCatalogue, text: str, claim: str, icd10: str | None
) -> None:
    check = check_diagnosis(text, claim, catalogue, read_confidence=0.97)
    assert check.outcome == Outcome.FAIL, check
    assert check.confidence >= 0.9
    assert check.reason and "不符" in check.reason
    if icd10:
        assert check.icd10 == icd10


@pytest.mark.parametrize(
    ("text", "claim"),
    [("右股骨颈骨折", "高血压病"), ("痛风", "类风湿关节炎"), ("社区获得性肺炎", "冠心病")],
)
def test_two_character_wordings_fail_as_problems_but_less_surely(
    catalogue: DiseaseCatalogue, text: str, claim: str
) -> None:
    check = check_diagnosis(text, claim, catalogue)
    assert check.outcome == Outcome.FAIL, check
    assert PROBLEM_THRESHOLD <= check.confidence < 0.9


def test_a_weak_reading_turns_a_fail_into_a_reviewer_matter(catalogue: DiseaseCatalogue) -> None:
    """GIVEN a diagnosis field read with a low OCR score THEN its fail falls below the problem threshold."""
    well = check_diagnosis("急性阑尾炎", "高血压病", catalogue, read_confidence=0.98)
    weak = check_diagnosis("急性阑尾炎", "高血压病", catalogue, read_confidence=0.55)
    assert well.outcome == weak.outcome == Outcome.FAIL
    assert well.confidence >= 0.9 > PROBLEM_THRESHOLD > weak.confidence
    passed = check_diagnosis("2型糖尿病", "糖尿病", catalogue, read_confidence=0.55)
    assert passed.outcome == Outcome.PASS and passed.confidence < PROBLEM_THRESHOLD


def test_another_condition_one_glyph_from_the_claim_is_a_weak_fail(catalogue: DiseaseCatalogue) -> None:
    """慢性心功能衰竭 is a real diagnosis, but one misread glyph away from 慢性肾功能衰竭: not for the applicant."""
    check = check_diagnosis("慢性心功能衰竭", "慢性肾功能衰竭", catalogue)
    assert check.outcome == Outcome.FAIL and check.confidence < PROBLEM_THRESHOLD


# ---- OCR-tolerant matching ----------------------------------------------------------------------------


def test_a_long_wording_with_one_misread_glyph_passes_with_lower_confidence(catalogue: DiseaseCatalogue) -> None:
    check = check_diagnosis("慢性阻塞性肺疾玻", "慢性阻塞性肺疾病", catalogue)
    assert check.outcome == Outcome.PASS
    assert check.matched_term == "慢性阻塞性肺疾病"
    assert 0.5 < check.confidence < 0.8


def test_a_long_wording_of_another_disease_with_one_misread_glyph_is_only_a_weak_fail(
    catalogue: DiseaseCatalogue,
) -> None:
    check = check_diagnosis("慢性阻塞性肺疾玻", "糖尿病", catalogue)
    assert check.outcome == Outcome.FAIL and check.confidence < PROBLEM_THRESHOLD


@pytest.mark.parametrize(
    ("text", "claim"), [("高血庄", "高血压病"), ("冠芯病", "冠心病"), ("慢阻肝", "慢性阻塞性肺疾病")]
)
def test_short_wordings_are_never_matched_approximately(catalogue: DiseaseCatalogue, text: str, claim: str) -> None:
    assert check_diagnosis(text, claim, catalogue).outcome == Outcome.UNKNOWN


# ---- groups and related conditions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("双相情感障碍", "精神分裂症"),  # both under 重性精神病: not a contradiction
        ("白血病", "慢性白血病"),  # broader than the claim
        ("急性髓系白血病", "慢性白血病"),  # another member of 恶性肿瘤
        ("糖尿病肾病", "慢性肾功能衰竭"),  # a neighbouring condition
        ("乙肝后肝硬化", "慢性病毒性肝炎"),
        ("重度抑郁发作", "重性精神病"),
        ("心房颤动", "风湿性心脏病"),
    ],
)
def test_a_related_condition_is_unknown_not_a_mismatch(catalogue: DiseaseCatalogue, text: str, claim: str) -> None:
    check = check_diagnosis(text, claim, catalogue)
    assert check.outcome == Outcome.UNKNOWN, check
    assert check.reason and "需人工核对" in check.reason


# ---- negation, suspicion, history, vague ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("头晕待查", "高血压病"),  # symptom, not a diagnosis
        ("复查", "高血压病"),
        ("体检", "糖尿病"),
        ("咳嗽", "支气管哮喘"),
        ("", "糖尿病"),
        (None, "糖尿病"),
        ("否认糖尿病", "糖尿病"),  # negation is not support...
        ("否认高血压、糖尿病史", "糖尿病"),  # ...across a 、 list too
        ("无糖尿病", "糖尿病"),
        ("糖尿病已排除", "糖尿病"),
        ("冠心病?", "冠心病"),  # suspicion
        ("糖尿病待排", "糖尿病"),
        ("疑似精神分裂症", "重性精神病"),
        ("糖尿病史", "高血压病"),  # history of another disease does not fail
        ("阑尾炎术后", "高血压病"),
        ("否认肺结核", "高血压病"),  # a negated other disease does not fail
        ("冠心病待排", "高血压病"),  # a suspected other disease does not fail
        ("高血压家族史", "糖尿病"),  # somebody else's
        ("糖尿病？ 急性阑尾炎", "糖尿病"),  # the claim suspected beside another condition: a reviewer looks
        ("癌胚抗原升高", "恶性肿瘤"),  # a marker, not a diagnosis
    ],
)
def test_vague_negated_or_historic_text_is_unknown(catalogue: DiseaseCatalogue, text: str | None, claim: str) -> None:
    check = check_diagnosis(text, claim, catalogue)
    assert check.outcome == Outcome.UNKNOWN, check
    assert check.reason


@pytest.mark.parametrize(("text", "claim"), [("糖尿病史", "糖尿病"), ("左肺腺癌术后", "恶性肿瘤")])
def test_history_of_the_claim_supports_it_less_surely(catalogue: DiseaseCatalogue, text: str, claim: str) -> None:
    check = check_diagnosis(text, claim, catalogue)
    assert check.outcome == Outcome.PASS
    assert check.confidence < check_diagnosis(text.removesuffix("史").removesuffix("术后"), claim, catalogue).confidence


def test_unknown_wording_is_unknown(catalogue: DiseaseCatalogue) -> None:
    for text in ("神经官能症", "情绪低落原因待查", "左侧基底节区异常信号", "XYZ-123"):
        check = check_diagnosis(text, "重性精神病", catalogue)
        assert check.outcome == Outcome.UNKNOWN, (text, check)


def test_claim_not_in_catalogue_is_unknown_with_reason(catalogue: DiseaseCatalogue) -> None:
    check = check_diagnosis("高血压病", "脚气", catalogue)
    assert check.outcome == Outcome.UNKNOWN and "脚气" in (check.reason or "")
    assert check_diagnosis("高血压病", None, catalogue).outcome == Outcome.UNKNOWN


def test_an_unplaced_condition_beside_another_one_makes_the_fail_weak(catalogue: DiseaseCatalogue) -> None:
    """GIVEN '血糖升高待查 高脂血症' for 糖尿病 THEN 高脂血症 contradicts, but the unplaced part may be the
    claim in words the catalogue lacks: a reviewer's flag, not a problem for the applicant."""
    check = check_diagnosis("血糖升高待查 高脂血症", "糖尿病", catalogue)
    assert check.outcome == Outcome.FAIL and check.confidence < PROBLEM_THRESHOLD
    assert "血糖升高待查" in (check.reason or "")
    # a modifier left over is no such doubt
    assert check_diagnosis("左侧基底节区脑出血后遗症", "高血压病", catalogue).confidence >= 0.9
