"""Checklist templates as data: the shipped ones hold what S1, S2, S5 and S9 ask; a broken file is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from yuexiu_desk import paths
from yuexiu_desk.errors import UserError
from yuexiu_desk.inspection_templates import (
    DangerGrade,
    Level,
    Result,
    TemplateError,
    load_all_templates,
    load_template,
)


def labels(template_id: str) -> str:
    return " ".join(f"{i.label} {i.look}" for i in load_template(template_id).items)


def test_every_shipped_template_loads_with_a_cadence_and_scope() -> None:
    templates = load_all_templates()
    assert set(templates) == {
        "quarterly_inspection",
        "quarterly_safety",
        "monthly_fire",
        "elevator_maintenance",
    }
    assert {t.id: t.scope for t in templates.values()} == {
        "quarterly_inspection": Level.BUILDING,
        "quarterly_safety": Level.BUILDING,
        "monthly_fire": Level.BUILDING,
        "elevator_maintenance": Level.ENTRANCE,
    }
    for template in templates.values():
        for item in template.items:
            assert Result.OK in item.results and item.look


def test_s9_quarterly_safety_check_covers_the_bids_items() -> None:
    text = labels("quarterly_safety")
    for words in ("沉降", "倾斜", "面砖", "空调外机支架", "外窗", "井盖", "电梯"):
        assert words in text
    assert load_template("quarterly_safety").cadence.label == "每季度"


def test_s1_settlement_and_tilt_are_structural_so_a_defect_needs_a_danger_grade() -> None:
    items = {i.id: i for i in load_template("quarterly_safety").items}
    assert items["settlement.settlement"].structural and items["settlement.tilt"].structural
    assert [g.escalates for g in DangerGrade] == [False, False, True, True]


def test_s2_monthly_fire_check_covers_the_61_order_contents_and_two_signers() -> None:
    template = load_template("monthly_fire")
    text = labels("monthly_fire")
    for words in (
        "疏散通道",
        "疏散指示标志",
        "应急照明",
        "安全出口",
        "消防车通道",
        "消火栓",
        "灭火器",
        "电气",
    ):
        assert words in text
    assert template.cadence.label == "每月"
    assert [label for _id, label in template.signatures] == ["检查人员（签名）", "被检查部门负责人（签名）"]


def test_s5_elevator_visits_every_15_days_with_a_30_day_certificate_alert() -> None:
    template = load_template("elevator_maintenance")
    assert template.cadence.days == 15 and template.certificate_alert_days == 30


def test_the_quarterly_inspection_record_has_structure_facilities_and_hygiene() -> None:
    titles = [s.title for s in load_template("quarterly_inspection").sections]
    assert titles[:3] == ["房屋结构安全", "设施设备", "公共区域卫生"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "inspections"
    shutil.copytree(paths.forms_dir() / "inspections", copy)
    return copy


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('cadence = "monthly"', 'cadence = "weekly"', "cadence"),
        ('scope = "building"', 'scope = "street"', "scope"),
        ('id = "routes"', 'id = "Routes"', "id 应由小写英文字母"),
        ('responsible = "fire"', 'responsible = "nobody"', "responsible"),
        ('label = "灭火器"', 'lable = "灭火器"', "不认识的键 lable"),
        ('per = "entrance"\nkind = "fire"\nresponsible = "property"', 'per = "unit"\nper = "x"', "TOML"),
    ],
)
def test_a_broken_template_names_the_file_and_what_to_correct(
    folder: Path, old: str, new: str, words: str
) -> None:
    path = folder / "monthly_fire.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_template("monthly_fire", folder)
    assert "monthly_fire.toml" in caught.value.message and words in caught.value.message


def test_an_unknown_template_lists_the_ones_there_are() -> None:
    with pytest.raises(UserError, match="quarterly_safety"):
        load_template("weekly_walk")
