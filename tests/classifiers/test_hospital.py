"""Hospital resolution and grade checks: tolerant of OCR and campus names, never loose."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from classifiers.hospital import (
    HospitalRegistry,
    RegistryError,
    check_hospital,
    grade_level,
    meets_min_grade,
)
from classifiers.types import Outcome

REGISTRY_CSV = Path(__file__).parents[2] / "fixtures" / "registry" / "hospitals.csv"


@pytest.fixture(scope="module")
def registry() -> HospitalRegistry:
    return HospitalRegistry.from_csv(REGISTRY_CSV)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("绥化市第一医院", "绥化市第一医院"),
        ("绥化一院", "绥化市第一医院"),  # alias
        ("哈医大二院", "哈尔滨医科大学附属第二医院"),  # abbreviation
        ("绥化市第一医院北院区", "绥化市第一医院"),  # campus listed as alias
        ("绥化市第一医院南院区", "绥化市第一医院"),  # campus not listed
        ("哈医大一院群力院区", "哈尔滨医科大学附属第一医院"),
        ("哈医大一院松北院区", "哈尔滨医科大学附属第一医院"),
        ("湖北省人民医院东院", "湖北省人民医院"),
        ("黑龙江省医院南岗分院", "黑龙江省医院"),
        ("绥化市第一医筅", "绥化市第一医院"),  # OCR: one wrong character
        ("绥化市第一医", "绥化市第一医院"),  # OCR: one missing character
        ("六盘水市人民匡院", "六盘水市人民医院"),
        ("六盘水巿人民医院", "六盘水市人民医院"),  # 巿 (U+5E02) for 市
        ("华中科技大学同济医学院附属协和匡院", "华中科技大学同济医学院附属协和医院"),
        ("绥化市第一医院疾病诊断证明书", "绥化市第一医院"),  # whole header line
        ("独墅湖科教创新区医院化验报告单", "独墅湖科教创新区医院"),
        ("绥化市第一医筅疾病诊断证明书", "绥化市第一医院"),  # header line with an OCR error
        ("绥化市第一医院诊断专用章", "绥化市第一医院"),  # seal text
        ("贵州省人民医院检验科", "贵州省人民医院"),
        ("医疗机构名称：绥化市中医医院", "绥化市中医医院"),  # label before the name
        ("绥化市　第一医院", "绥化市第一医院"),  # full-width space
        ("ＮＯ.0012 绥化市第一医院", "绥化市第一医院"),  # full-width noise in front
    ],
)
def test_resolves_aliases_campuses_ocr_errors_and_surrounding_text(
    registry: HospitalRegistry, text: str, canonical: str
) -> None:
    match = registry.resolve(text)
    assert match is not None, text
    assert match.canonical_name == canonical


@pytest.mark.parametrize(
    ("text", "must_not_be"),
    [
        ("绥化市第五医院", "绥化市第一医院"),  # another ordinal, not in the registry
        ("绥化市第医院", "绥化市第一医院"),  # ordinal lost: 第一 or 第二?
        ("北京天坛医院", None),  # not in the registry at all
        ("泉州市人民医院", "盘州市人民医院"),  # one character of a two-character place name
        ("海伦市中医医院", "海伦市人民医院"),  # other institution type, same city
        ("六盘水市医院", "六盘水市人民医院"),
        ("福建医科大学附属协和医院", "华中科技大学同济医学院附属协和医院"),
        ("协和医院", "北京协和医院"),  # bare 协和医院 is several hospitals
        ("四川大学华西口腔医院", "四川大学华西医院"),
        ("绥比市第一医院", "绥化市第一医院"),  # two-character place name changed
    ],
)
def test_does_not_resolve_a_different_hospital(registry: HospitalRegistry, text: str, must_not_be: str | None) -> None:
    assert registry.resolve(text) is None


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("绥化市第二医院", "绥化市第二医院"),
        ("六盘水市第三人民医院", "六盘水市第三人民医院"),
        ("六盘水市第三人民匡院", "六盘水市第三人民医院"),
        ("六盘水市人民医院", "六盘水市人民医院"),
        ("六盘水市三院", "六盘水市第三人民医院"),
        ("哈医大一院", "哈尔滨医科大学附属第一医院"),
        ("六盘水市中医匡院", "六盘水市中医医院"),
    ],
)
def test_ordinals_and_institution_types_pick_the_right_one_of_similar_names(
    registry: HospitalRegistry, text: str, canonical: str
) -> None:
    match = registry.resolve(text)
    assert match is not None and match.canonical_name == canonical


def test_match_carries_registry_data(registry: HospitalRegistry) -> None:
    exact = registry.resolve("绥化一院")
    assert exact is not None
    assert (exact.grade, exact.region, exact.score, exact.matched) == ("三级甲等", "绥化市", 100.0, "绥化一院")
    assert "绥化市第一医院北院区" in exact.aliases
    corrected = registry.resolve("绥化市第一医筅")
    assert corrected is not None and corrected.score < 100


def test_names_for_lists_canonical_then_aliases(registry: HospitalRegistry) -> None:
    assert registry.names_for("绥化市第一医院") == ["绥化市第一医院", "绥化一院", "绥化市一院", "绥化市第一医院北院区"]
    assert registry.names_for("不存在的医院") == []


def test_a_name_two_hospitals_share_resolves_to_neither() -> None:
    reg = HospitalRegistry(
        [("甲市人民医院", ["人民医院"], "二级甲等", "甲"), ("乙市人民医院", ["人民医院"], "二级甲等", "乙")]
    )
    assert reg.resolve("人民医院") is None
    assert reg.resolve("甲市人民医院").canonical_name == "甲市人民医院"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        ("name,aliases,grade\n绥化市第一医院,,三级甲等\n", 1, "header"),
        (
            "name,aliases,grade,region\n绥化市第一医院,,三级甲等,绥化市\n安达市人民医院,二级甲等,绥化市\n",
            3,
            "4 columns",
        ),
        ("name,aliases,grade,region\n绥化市第一医院,,特级,绥化市\n", 2, "not a grade"),
        ("name,aliases,grade,region\n,别名,二级甲等,绥化市\n", 2, "empty"),
        ("name,aliases,grade,region\nA医院,,二级,x\n\nA医院,,二级,x\n", 4, "twice"),
    ],
)
def test_malformed_csv_raises_registry_error_with_line(tmp_path: Path, content: str, line: int, fragment: str) -> None:
    path = tmp_path / "reg.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        HospitalRegistry.from_csv(path)
    assert info.value.line == line
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_csv_with_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "reg.csv"
    path.write_text("name,aliases,grade,region\n安达市人民医院,安达人民医院,二级甲等,绥化市\n", encoding="utf-8-sig")
    assert HospitalRegistry.from_csv(path).resolve("安达人民医院") is not None


def test_resolving_1000_names_against_5000_hospitals_is_fast() -> None:
    rng = random.Random(7)
    han = (
        "安北昌城川春大德东丰福阜广贵海汉和河鹤华怀淮吉嘉江金锦荆靖九开康兰乐"
        "丽辽林临龙泸鲁洛马茂梅南宁平莆齐黔青清庆泉荣瑞"
    )
    kinds = ["人民医院", "中医医院", "第一人民医院", "第二人民医院", "妇幼保健院", "中心医院", "肿瘤医院", "第一医院"]
    names: set[str] = set()
    while len(names) < 5000:
        names.add("".join(rng.sample(han, rng.choice([2, 3]))) + rng.choice("市县区") + rng.choice(kinds))
    rows: list[tuple[str, list[str], str, str]] = [(n, [], "二级甲等", "x") for n in sorted(names)]
    reg = HospitalRegistry(rows)
    picks = rng.sample(sorted(names), 1000)
    queries = [n if i % 3 else n[:-2] + "匡院" + "疾病诊断证明书" for i, n in enumerate(picks)]
    start = time.perf_counter()
    results = [reg.resolve(q) for q in queries]
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, elapsed
    assert sum(r is not None and r.canonical_name == n for r, n in zip(results, picks, strict=True)) >= 950


@pytest.mark.parametrize(
    ("grade", "level"),
    [
        ("三级甲等", 3),
        ("三级特等", 3),
        ("二级乙等", 2),
        ("二级", 2),
        ("一级", 1),
        ("一级甲等", 1),
        ("未定级", 0),
        ("三甲", 3),
        ("二乙", 2),
        ("３级", 3),
        ("特级", None),
        ("社区医院", None),
        ("", None),
    ],
)
def test_grade_level(grade: str, level: int | None) -> None:
    assert grade_level(grade) == level


@pytest.mark.parametrize(
    ("grade", "minimum", "ok"),
    [
        ("二级丙等", "二级", True),
        ("二级乙等", "二级", True),
        ("三级甲等", "二级", True),
        ("一级", "二级", False),
        ("未定级", "二级", False),
        ("三级乙等", "三级甲等", False),
        ("三级甲等", "三级甲等", True),
        ("三级", "三级甲等", None),  # 等次 unknown
        ("乱码", "二级", None),
    ],
)
def test_meets_min_grade(grade: str, minimum: str, ok: bool | None) -> None:
    assert meets_min_grade(grade, minimum) is ok


def test_check_hospital_outcomes(registry: HospitalRegistry) -> None:
    passed = check_hospital("绥化市第一医院疾病诊断证明书", None, registry, "二级")
    assert (passed.outcome, passed.canonical_name, passed.grade) == (Outcome.PASS, "绥化市第一医院", "三级甲等")

    low = check_hospital("津河镇卫生院", None, registry, "二级")
    assert low.outcome == Outcome.FAIL and low.grade == "一级" and "二级" in (low.reason or "")

    unknown = check_hospital("北京天坛医院", None, registry, "二级")
    assert unknown.outcome == Outcome.UNKNOWN and "未在定点医疗机构名录中找到" in (unknown.reason or "")
    assert check_hospital(None, None, registry, "二级").outcome == Outcome.UNKNOWN

    na = check_hospital("绥化一院", None, registry, None)
    assert (na.outcome, na.canonical_name, na.grade) == (Outcome.NOT_APPLICABLE, "绥化市第一医院", "三级甲等")


def test_check_hospital_falls_back_to_the_seal(registry: HospitalRegistry) -> None:
    check = check_hospital("化验报告单", "六盘水市人民医院检验专用章", registry, "二级")
    assert check.outcome == Outcome.PASS
    assert check.canonical_name == "六盘水市人民医院"
    assert check.matched_from == "六盘水市人民医院检验专用章"


def test_unresolved_issuer_without_grade_policy_is_not_applicable(registry: HospitalRegistry) -> None:
    check = check_hospital("北京天坛医院", None, registry, None)
    assert check.outcome == Outcome.NOT_APPLICABLE and check.canonical_name is None


# --- confidence ------------------------------------------------------------------------------


def test_not_in_registry_is_sure_only_for_a_full_name_read_clearly(registry: HospitalRegistry) -> None:
    clear = check_hospital("乌鲁木齐市友谊医院", None, registry, "二级", read_confidence=0.99)
    assert clear.outcome == Outcome.UNKNOWN and clear.confidence >= 0.9
    poor = check_hospital("乌鲁木齐市友谊医院", None, registry, "二级", read_confidence=0.6)
    assert poor.outcome == Outcome.UNKNOWN and poor.confidence < 0.5
    unmeasured = check_hospital("乌鲁木齐市友谊医院", None, registry, "二级")
    assert poor.confidence < unmeasured.confidence < clear.confidence


@pytest.mark.parametrize(
    ("hospital_text", "seal_text"),
    [
        (None, None),  # no name read at all
        ("", "某某医院诊断专用章"),  # only the seal's curved text
        ("某某县某某镇某某村民委员会", None),  # not a medical institution's name
        ("内分泌科", None),  # a fragment
        ("绥化市第五医院", None),  # one character from a registered hospital: a misreading, perhaps
    ],
)
def test_not_in_registry_is_a_reviewer_question_when_the_name_is_weak(
    registry: HospitalRegistry, hospital_text: str | None, seal_text: str | None
) -> None:
    check = check_hospital(hospital_text, seal_text, registry, "二级", read_confidence=0.99)
    assert check.outcome == Outcome.UNKNOWN
    assert check.confidence < 0.6, check


def test_not_in_registry_is_sure_when_the_seal_spells_the_same_name(registry: HospitalRegistry) -> None:
    """A township clinic two characters from a registered one of its county (红坪镇 / 松柏镇) may be
    that one misread; its seal's ring, read on its own, spelling the same name says it is not. The
    name read off the seal itself is one reading, not two."""
    name = "神农架林区红坪镇卫生院"
    alone = check_hospital(name, None, registry, "二级", read_confidence=0.99)
    assert alone.outcome == Outcome.UNKNOWN and alone.confidence < 0.8
    borne_out = check_hospital(name, name, registry, "二级", read_confidence=0.99)
    assert borne_out.outcome == Outcome.UNKNOWN and borne_out.confidence >= 0.9
    other_seal = check_hospital(name, "神农架林区松柏镇卫生院", registry, "二级", read_confidence=0.99)
    assert other_seal.matched_from == "神农架林区松柏镇卫生院"  # a seal of a registered clinic resolves it
    off_seal = check_hospital(name, name, registry, "二级", read_confidence=0.99, name_off_seal=False)
    assert off_seal.confidence == alone.confidence


@pytest.mark.parametrize(("seal", "sure"), [
    ("神农架林区红坪 新证明", True),  # the arc cut short after the place that differs
    ("区红坪镇卫", True),
    ("神农型林区红 为科", False),  # only 红 of 红坪: half of the difference
    ("神农架林区 诊断证明专用章", False),  # nothing of the difference
    ("红坪", False),  # the difference with nothing of the name beside it
])
def test_not_in_registry_is_sure_when_the_seal_spells_what_sets_the_name_apart(
    registry: HospitalRegistry, seal: str, sure: bool,
) -> None:
    """A seal on a blurred photo is often read only in part. What a second reading must bear out is
    the part of the printed name that differs from the nearest registered one (红坪 for 松柏), with
    some of the name beside it; a part that leaves that out proves nothing."""
    check = check_hospital("神农架林区红坪镇卫生院", seal, registry, "二级", read_confidence=0.99)
    assert check.outcome == Outcome.UNKNOWN
    assert (check.confidence >= 0.9) is sure, check


def test_grade_too_low_is_sure_on_an_exact_or_alias_match_and_less_on_a_corrected_one(
    registry: HospitalRegistry,
) -> None:
    exact = check_hospital("神农架林区松柏镇卫生院", None, registry, "二级", read_confidence=0.7)
    alias = check_hospital("松柏镇卫生院", None, registry, "二级")
    corrected = check_hospital("神衣架林区松柏镇卫生院", None, registry, "二级", read_confidence=0.99)
    assert exact.outcome == alias.outcome == corrected.outcome == Outcome.FAIL
    assert exact.confidence >= 0.9 and alias.confidence >= 0.9
    assert corrected.canonical_name == "神农架林区松柏镇卫生院"
    assert corrected.confidence < 0.8
    poorly_read = check_hospital("神衣架林区松柏镇卫生院", None, registry, "二级", read_confidence=0.5)
    assert poorly_read.confidence < corrected.confidence


def test_closest_names_the_nearest_registered_hospital(registry: HospitalRegistry) -> None:
    near = registry.closest("绥化市第五医院")
    assert near is not None and near[0] == "绥化市第一医院" and near[1] > 80
    far = registry.closest("乌鲁木齐市友谊医院")
    assert far is not None and far[1] < 60
    assert HospitalRegistry([]).closest("绥化市第一医院") is None


def test_not_applicable_and_uncomparable_grades_are_sure(registry: HospitalRegistry) -> None:
    assert check_hospital("北京天坛医院", None, registry, None).confidence == 1.0
    assert check_hospital(None, None, registry, None).confidence == 1.0
