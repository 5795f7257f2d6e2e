"""Form definitions: the shipped forms hold what the rules ask for, and a broken definition says where and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from yuexiu_desk import paths
from yuexiu_desk.errors import UserError
from yuexiu_desk.formdefs import (
    FormDefinitionError,
    RecordType,
    SectionType,
    form_for_code,
    form_kinds,
    load_all_forms,
    load_form,
)

# -- the shipped forms ----------------------------------------------------------------------------------


def test_the_four_forms_ship_and_load_from_the_forms_folder() -> None:
    assert (paths.forms_dir() / "checkin.toml").is_file()
    assert form_kinds() == ["checkin", "household", "lease", "moveout"]
    forms = load_all_forms()
    assert {k: f.title for k, f in forms.items()} == {
        "checkin": "入住交接单",
        "household": "住户登记表",
        "lease": "公共租赁住房租赁合同摘要",
        "moveout": "退出查验及结算单",
    }
    assert forms["household"].record is RecordType.HOUSEHOLD
    assert {forms[k].record for k in ("checkin", "moveout", "lease")} == {RecordType.LEASE}


def test_check_in_has_meters_keys_and_a_room_by_room_checklist() -> None:
    form = load_form("checkin")

    meters = form.section("meters")
    assert meters.type is SectionType.READINGS
    assert [(f.label, f.unit) for f in meters.fields] == [
        ("水表", "吨"),
        ("电表", "度"),
        ("燃气表", "立方米"),
    ]
    keys = form.section("keys")
    assert keys.type is SectionType.COUNTS
    assert {"入户门钥匙", "单元门禁卡", "信报箱钥匙"} <= {f.label for f in keys.fields}
    rooms = form.section("rooms")
    assert [g.label for g in rooms.groups] == ["客厅", "卧室", "厨房", "卫生间", "阳台"]
    by_id = {item.id: item for item in rooms.items}
    assert by_id["kitchen.gas_stove"].label == "燃气灶"
    assert by_id["bathroom.water_heater"].label == "热水器"
    assert by_id["bathroom.toilet"].label == "马桶"
    assert by_id["kitchen.cabinets"].label == "橱柜"
    assert by_id["kitchen.taps_drain"].label == "水龙头/下水"
    assert by_id["bathroom.toilet"].results == ("完好", "损坏", "缺失")
    # An item may allow its own results.
    assert by_id["living.intercom"].results == ("完好", "损坏", "缺失", "无此项")
    assert len(by_id) == len(rooms.items)  # ids are unique
    assert [f.label for f in form.section("signatures").fields] == ["承租人（签字）", "经办人（签字）"]


def test_move_out_includes_the_check_in_sections_instead_of_copying_them() -> None:
    checkin, moveout = load_form("checkin"), load_form("moveout")

    assert moveout.compare_labels == ("入住时", "退出时")
    for section_id in ("meters", "keys", "rooms"):
        included = moveout.section(section_id)
        assert included.compare
        assert included.origin == "checkin"
        assert included.fields == checkin.section(section_id).fields
        assert included.groups == checkin.section(section_id).groups
    assert moveout.items == checkin.items
    settlement = [f.id for f in moveout.section("settlement").fields]
    assert {"rent_due", "unpaid_bills", "damages_total", "deposit_held", "deposit_refund"} <= set(settlement)
    assert moveout.section("damages").type is SectionType.TABLE


def test_the_lease_summary_covers_every_l4_contract_field() -> None:
    """L4 (Art.17): parties; location, use, area, structure, fixtures, use requirements; term, rent, payment
    method; repairs; who pays the utilities; conditions for giving the unit back; breach and disputes; other."""
    form = load_form("lease")
    labels = {f.label for section in form.sections for f in section.fields}

    for required in (
        "出租人",
        "承租人",
        "房屋坐落",
        "房屋用途",
        "建筑面积",
        "房屋结构",
        "附属设施设备",
        "使用要求",
        "租赁期限",
        "月租金",
        "租金缴纳方式",
        "维修责任",
        "费用承担",
        "退还房屋的条件",
        "违约责任",
        "争议解决",
        "其他约定",
    ):
        assert required in labels, required
    charges = next(f for f in form.section("terms").fields if f.id == "charges")
    for utility in ("物业", "水", "电", "燃气", "采暖"):
        assert utility in charges.text


def test_the_household_form_carries_the_pipl_notice_p3() -> None:
    """P3: processor and contact, purpose, method, categories, retention period, how to exercise rights."""
    form = load_form("household")
    notice = {f.id: f for f in form.section("privacy_notice").fields}

    assert {"processor", "purpose", "method", "categories", "retention", "rights"} <= set(notice)
    assert all(f.text for f in notice.values())
    assert "联系" in notice["processor"].label
    assert "保存期限" in notice["retention"].label
    assert "敏感个人信息" in notice["categories"].text
    for right in ("查阅", "复制", "更正", "删除", "撤回"):
        assert right in notice["rights"].text
    members = form.section("members")
    assert members.source == "household.members"
    sources = {f.source for f in members.fields}
    # Only masked personal data is ever named for printing.
    assert "member.id_number_masked" in sources
    assert "member.phone_masked" in sources
    assert not any(s.endswith(("id_number", "phone")) for s in sources)


def test_form_for_code_finds_the_form_a_scan_names() -> None:
    assert form_for_code("M").kind == "moveout"
    with pytest.raises(UserError, match="表单代码 Z") as caught:
        form_for_code("Z")
    assert caught.value.message.endswith("。")


def test_an_unknown_kind_lists_the_forms_there_are() -> None:
    with pytest.raises(UserError) as caught:
        load_form("checkout")
    assert "没有“checkout”这种表单" in caught.value.message
    assert "checkin（入住交接单）" in caught.value.message
    assert "moveout（退出查验及结算单）" in caught.value.message


@pytest.mark.parametrize("kind", ["../checkin", "Checkin ", "", "check in"])
def test_a_kind_is_a_plain_name_not_a_path(kind: str) -> None:
    if kind.strip().lower() == "checkin":
        assert load_form(kind).kind == "checkin"
        return
    with pytest.raises(UserError, match="这种表单"):
        load_form(kind)


# -- broken definitions ---------------------------------------------------------------------------------

CHECKLIST = """
title = "测试单"
code = "T"
record = "lease"

[[sections]]
id = "rooms"
type = "checklist"
title = "房屋"
results = ["完好", "损坏"]

[[sections.groups]]
id = "kitchen"
label = "厨房"
items = [
  { id = "stove", label = "燃气灶" },
  { id = "sink", label = "水槽" },
]

[[sections]]
id = "meters"
type = "readings"
title = "表读数"
fields = [ { id = "water", label = "水表", unit = "吨" } ]
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def forms(tmp_path: Path) -> Path:
    folder = tmp_path / "forms"
    write(folder, "base", CHECKLIST)
    return folder


def refused(folder: Path, kind: str, *fragments: str) -> str:
    with pytest.raises(FormDefinitionError) as caught:
        load_form(kind, folder)
    message = caught.value.message
    assert f"{kind}.toml" in message
    assert message.endswith("。")
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_a_small_definition_loads_with_composed_item_ids(forms: Path) -> None:
    form = load_form("base", forms)
    assert [i.id for i in form.items] == ["kitchen.stove", "kitchen.sink"]
    assert form.items[0].results == ("完好", "损坏")
    assert form.section("rooms").value_label == "状况"
    assert form.section("rooms").group_label == "房间"
    assert form.section("meters").value_label == "读数"
    assert form.path == forms / "base.toml"


def test_a_duplicate_item_id_is_refused(forms: Path) -> None:
    write(
        forms, "dup", CHECKLIST.replace('{ id = "sink", label = "水槽" }', '{ id = "stove", label = "灶台" }')
    )
    refused(forms, "dup", "kitchen.stove", "两次")


def test_the_same_id_in_two_sections_is_refused(forms: Path) -> None:
    text = (
        CHECKLIST
        + '\n[[sections]]\nid = "more"\ntype = "fields"\ntitle = "其他"\nfields = [ { id = "water", label = "水" } ]\n'
    )
    write(forms, "dup", text)
    refused(forms, "dup", "“water”", "meters", "more")


def test_a_duplicate_section_id_is_refused(forms: Path) -> None:
    write(forms, "dup", CHECKLIST + CHECKLIST[CHECKLIST.index('[[sections]]\nid = "meters"') :])
    refused(forms, "dup", "栏目 id“meters”出现了两次")


def test_a_duplicate_group_id_is_refused(forms: Path) -> None:
    group = CHECKLIST[CHECKLIST.index("[[sections.groups]]") : CHECKLIST.index('[[sections]]\nid = "meters"')]
    write(
        forms,
        "dup",
        CHECKLIST.replace(group, group + group.replace('"stove"', '"oven"').replace('"sink"', '"tap"')),
    )
    refused(forms, "dup", "分组 id“kitchen”")


@pytest.mark.parametrize(
    ("include", "fragments"),
    [
        ("nowhere:rooms", ("引用的表单 nowhere 不存在",)),
        ("base:roomz", ("引用的栏目 roomz", "base.toml", "rooms、meters")),
        ("ref:rooms", ("本表自己的栏目",)),
        ("base", ("表单:栏目id",)),
    ],
)
def test_an_unknown_reference_is_refused(forms: Path, include: str, fragments: tuple[str, ...]) -> None:
    write(
        forms, "ref", f'title = "引用"\ncode = "Q"\nrecord = "lease"\n\n[[sections]]\ninclude = "{include}"\n'
    )
    refused(forms, "ref", *fragments)


def test_an_included_section_keeps_its_ids_and_can_be_compared(forms: Path) -> None:
    write(
        forms,
        "ref",
        'title = "退出"\ncode = "Q"\nrecord = "lease"\ncompare_labels = ["之前", "之后"]\n\n'
        '[[sections]]\ninclude = "base:rooms"\ntitle = "复查"\ncompare = true\n',
    )
    form = load_form("ref", forms)
    (section,) = form.sections
    assert (section.title, section.compare, section.origin) == ("复查", True, "base")
    assert [i.id for i in section.items] == ["kitchen.stove", "kitchen.sink"]


def test_compare_needs_labels_and_a_comparable_section(forms: Path) -> None:
    write(
        forms,
        "ref",
        'title = "x"\ncode = "Q"\nrecord = "lease"\n[[sections]]\ninclude = "base:rooms"\ncompare = true\n',
    )
    refused(forms, "ref", "compare_labels")
    write(
        forms,
        "base2",
        'title = "y"\ncode = "Y"\nrecord = "lease"\n[[sections]]\nid = "sig"\ntype = "signatures"\ntitle = "签字"\n'
        'fields = [ { id = "a", label = "甲" } ]\n',
    )
    write(
        forms,
        "ref",
        'title = "x"\ncode = "Q"\nrecord = "lease"\ncompare_labels = ["前", "后"]\n'
        '[[sections]]\ninclude = "base2:sig"\ncompare = true\n',
    )
    refused(forms, "ref", "compare = true 只能用于")


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ('label = "燃气灶"', 'lable = "燃气灶"', ("不认识的键 lable", "拼写错误")),
        ('{ id = "stove", label = "燃气灶" }', '{ id = "stove" }', ("缺少 label", "kitchen.stove")),
        ('type = "checklist"', 'type = "list"', ("type 应为",)),
        ('results = ["完好", "损坏"]', 'results = ["完好", "完好"]', ("重复的结果",)),
        ('results = ["完好", "损坏"]', "results = []", ("results 应为一组文字",)),
        ('results = ["完好", "损坏"]', "", ("缺少 results",)),
        ('code = "T"', 'code = "TT"', ("code 应为一个大写字母",)),
        ('record = "lease"', 'record = "unit"', ("record 应为 lease、household",)),
        ('{ id = "stove",', '{ id = "Stove",', ("小写英文字母",)),
        ('unit = "吨"', 'unit = "吨", source = "unit.code"', ("不能设置 source",)),
        ('fields = [ { id = "water"', 'rows = 3\nfields = [ { id = "water"', ("rows 只适用于 table",)),
        ('title = "表读数"', "title = 3", ("title 应为文字",)),
    ],
)
def test_a_broken_definition_says_where_and_what(
    forms: Path, old: str, new: str, fragments: tuple[str, ...]
) -> None:
    assert old in CHECKLIST
    write(forms, "broken", CHECKLIST.replace(old, new, 1))
    refused(forms, "broken", *fragments)


def test_a_checklist_without_groups_or_items_is_refused(forms: Path) -> None:
    start, end = CHECKLIST.index("[[sections.groups]]"), CHECKLIST.index('[[sections]]\nid = "meters"')
    write(forms, "broken", CHECKLIST[:start] + CHECKLIST[end:])
    refused(forms, "broken", "没有任何分组")
    write(
        forms,
        "broken",
        CHECKLIST.replace(
            CHECKLIST[CHECKLIST.index("items = [") : CHECKLIST.index("]\n\n[[sections]]") + 1], "items = []"
        ),
    )
    refused(forms, "broken", "没有任何检查项目")


def test_a_form_without_sections_is_refused(forms: Path) -> None:
    write(forms, "empty", 'title = "空"\ncode = "E"\nrecord = "lease"\n')
    refused(forms, "empty", "没有任何栏目")


def test_a_toml_syntax_error_names_the_line(forms: Path) -> None:
    write(forms, "syntax", 'title = "坏"\ncode = "S"\nrecord = \n')
    message = refused(forms, "syntax", "不是有效的 TOML")
    assert "line 3" in message


def test_two_forms_with_one_letter_are_refused_together(forms: Path) -> None:
    write(forms, "other", CHECKLIST)
    assert load_form("other", forms).code == load_form("base", forms).code == "T"
    with pytest.raises(FormDefinitionError, match="二维码代码都是 T"):
        load_all_forms(forms)


def test_the_receipt_and_notice_letters_are_kept_for_them(forms: Path) -> None:
    """R and N in a QR name a receipt (收据) and a reminder notice (催缴通知书): no form may take them."""
    for letter, what in (("R", "收据"), ("N", "催缴通知书")):
        write(forms, "extra", f'title = "附加"\ncode = "{letter}"\nrecord = "lease"\n')
        refused(forms, "extra", f"code “{letter}”已用于{what}")
