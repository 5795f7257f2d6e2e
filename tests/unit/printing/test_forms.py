"""Printed forms as the clerk and the tenant see them: look at each page, scan the QR code in its corner,
read the Chinese on it; and a checklist item added to the TOML appears on paper without a code change."""

from __future__ import annotations

import errno
import os
import re
import shutil
import string
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.iso7064 import mod_37_36

from yuexiu_desk import paths
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.formdefs import FormDefinitionError, form_for_code, load_all_forms, load_form
from yuexiu_desk.labels.decode import decode_qr_texts
from yuexiu_desk.labels.payload import Payload, RecordKind, parse
from yuexiu_desk.printing import fonts
from yuexiu_desk.printing.forms import FormValues, write_form
from yuexiu_desk.services import people
from yuexiu_desk.services.form_print import NO_RECORD, print_form
from yuexiu_desk.services.leases import list_leases
from yuexiu_desk.services.units import UnitFilter, search_unit_ids
from yuexiu_desk.storage.db import Store, require_station
from yuexiu_desk.storage.models import HouseholdMember, Lease, Unit

DPI = 150
A4_MM = (210.0, 297.0)
# Where the QR code must be: the top-right corner, worked out from what a person would call the corner,
# not from the layout constants under test.
CORNER_MM = (150.0, 0.0, 210.0, 45.0)  # left, top, right, bottom
STATION = "YXY01"
KINDS = ("checkin", "moveout", "lease", "household")

# What a person looks for on each form.
EXPECTED = {
    "checkin": [
        "入住交接单",
        "水表",
        "电表",
        "燃气表",
        "吨",
        "度",
        "入户门钥匙",
        "单元门禁卡",
        "信报箱钥匙",
        "客厅",
        "卧室",
        "厨房",
        "卫生间",
        "阳台",
        "燃气灶",
        "热水器",
        "马桶",
        "水龙头/下水",
        "□完好",
        "□损坏",
        "□缺失",
        "承租人（签字）",
        "经办人（签字）",
    ],
    "moveout": [
        "退出查验及结算单",
        "入住时读数",
        "退出时读数",
        "入住时状况",
        "退出时状况",
        "水表",
        "卫生间",
        "马桶",
        "入户门钥匙",
        "损坏及赔偿",
        "费用结算",
        "应缴租金（计至退出当日）",
        "已收押金",
        "应退押金",
        "财务复核（签字）",
    ],
    "lease": [
        "租赁合同摘要",
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
    ],
    "household": [
        "住户登记表",
        "家庭成员",
        "与承租人关系",
        "身份证号",
        "个人信息处理告知",
        "个人信息保护法",
        "处理者及联系方式",
        "处理目的",
        "处理方式",
        "个人信息种类",
        "保存期限",
        "您的权利",
        "敏感个人信息",
        "查阅、复制、更正、补充",
        "承租人（签字）",
    ],
}


@dataclass(frozen=True)
class PrintedPage:
    image: Image.Image
    text: str


def read_pdf(pdf_path: Path, dpi: int = DPI) -> list[PrintedPage]:
    """Every page as a scanner would see it (greyscale at dpi) and as its text layer reads."""
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        return [
            PrintedPage(
                pdf[n].render(scale=dpi / 72, grayscale=True).to_pil(), pdf[n].get_textpage().get_text_range()
            )
            for n in range(len(pdf))
        ]
    finally:
        pdf.close()


def corner(image: Image.Image, dpi: int = DPI) -> Image.Image:
    left, top, right, bottom = (round(v * dpi / 25.4) for v in CORNER_MM)
    return image.crop((left, top, right, bottom))


def squeeze(text: str) -> str:
    """Text with line breaks and spaces removed: a phrase wrapped in its cell still reads as one."""
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True)
class DemoLease:
    id: uuid.UUID
    lease_no: str
    unit_code: str
    household_id: uuid.UUID
    leaseholder: str
    members: list[tuple[str, str]]  # (name, full ID number) of the current members


def _demo_lease(session: Session) -> DemoLease:
    """An active demo lease whose household has at least two people."""
    for row in list_leases(session, active_only=True):
        lease = session.get(Lease, row.id)
        assert lease is not None
        members = session.scalars(
            select(HouseholdMember).where(
                HouseholdMember.household_id == lease.household_id, HouseholdMember.left_on.is_(None)
            )
        ).all()
        if len(members) >= 2:
            return DemoLease(
                row.id,
                row.lease_no,
                row.unit_code,
                lease.household_id,
                row.leaseholder,
                [(m.name, people.unsealed(m).id_number) for m in members],
            )
    raise AssertionError("the demo estate has no household of two")


@pytest.fixture
def demo_lease(demo_store: Store) -> DemoLease:
    with demo_store.read() as session:
        return _demo_lease(session)


def _vacant_unit(session: Session) -> str:
    unit = session.get(Unit, search_unit_ids(session, UnitFilter(status=UnitStatus.VACANT))[0])
    assert unit is not None
    return unit.code


# -- every form, blank and filled ---------------------------------------------------------------------


@pytest.mark.parametrize("blank", [False, True], ids=["filled", "blank"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_page_scans_back_to_its_record_and_form_and_reads_in_chinese(
    demo_store: Store, demo_lease: DemoLease, tmp_path: Path, kind: str, blank: bool
) -> None:
    out = tmp_path / f"{kind}.pdf"
    with demo_store.read() as session:
        printed = print_form(session, kind, out, unit_code=demo_lease.unit_code, blank=blank)

    record = demo_lease.household_id if kind == "household" else demo_lease.id
    pages = read_pdf(out)
    assert len(pages) == printed.pages >= 1
    for number, page in enumerate(pages, start=1):
        # The whole page holds one code, and it sits in the top-right corner.
        assert decode_qr_texts(page.image) == [printed.payload]
        (text,) = decode_qr_texts(corner(page.image))
        payload = parse(text, station_code=STATION)
        assert payload.kind is RecordKind.FORM
        assert payload.form is not None
        assert form_for_code(payload.form).kind == kind
        assert payload.record_id == record
        assert f"第 {number} 页 共 {len(pages)} 页" in page.text
    assert printed.record_id == record
    assert printed.blank is blank

    words = squeeze("".join(page.text for page in pages))
    for expected in EXPECTED[kind]:
        assert expected in words, expected
    # Blank or filled, the header names the unit and the lease, so a loose page finds its way home.
    assert demo_lease.unit_code in words
    assert demo_lease.lease_no in words
    if blank:
        assert demo_lease.leaseholder not in words
    else:
        assert demo_lease.leaseholder in words
    # No full ID number on paper; the masked form shows on the filled household form.
    for name, id_number in demo_lease.members:
        assert id_number not in words
        if kind == "household" and not blank:
            assert name in words
            assert f"{id_number[:4]}**********{id_number[-4:]}" in words


def test_filled_lease_summary_shows_the_l4_facts_of_the_lease(
    demo_store: Store, demo_lease: DemoLease, tmp_path: Path
) -> None:
    out = tmp_path / "lease.pdf"
    with demo_store.read() as session:
        lease = session.get(Lease, demo_lease.id)
        assert lease is not None
        print_form(session, "lease", out, lease_no=f" {demo_lease.lease_no.lower()} ")
        unit = session.get(Unit, lease.unit_id)
        assert unit is not None
        fittings = unit.fittings

    words = squeeze("".join(page.text for page in read_pdf(out)))
    rent = f"{lease.monthly_rent_fen // 100:,}.{lease.monthly_rent_fen % 100:02d}"
    assert f"{rent}元" in words
    start = lease.start_date
    assert f"{start.year}年{start.month}月{start.day}日至" in words
    assert "武汉市江岸区悦秀苑" in words
    assert squeeze(fittings) in words
    assert "居住" in words
    assert "江岸区公租房租金标准批复" in words  # the rent standard the rate comes from (L5)


def test_a_blank_form_for_no_record_is_still_recognised_as_that_form(
    demo_store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "blank.pdf"
    with demo_store.read() as session:
        printed = print_form(session, "checkin", out, blank=True)

    assert printed.record_id is None
    pages = read_pdf(out)
    (text,) = decode_qr_texts(corner(pages[0].image))
    payload = parse(text, station_code=STATION)
    assert (payload.kind, payload.form, payload.record_id) == (RecordKind.FORM, "C", NO_RECORD)
    words = squeeze(pages[0].text)
    assert "入住交接单" in words
    assert "合同编号YXY01" not in words


def test_the_move_out_form_prints_beside_the_move_in_values(tmp_path: Path) -> None:
    definition = load_form("moveout")
    check_in = FormValues(
        readings={"water_meter": "120.5", "door_keys": "3"},
        results={"kitchen.gas_stove": ("损坏", "点火器失灵"), "bathroom.toilet": ("完好", "")},
    )
    values = FormValues(
        fields={"leaseholder": "测试甲"},
        readings={"water_meter": "180", "door_keys": "2"},
        results={"kitchen.gas_stove": ("损坏", "旋钮缺失"), "bathroom.toilet": ("完好", "")},
        baseline=check_in,
    )
    out = tmp_path / "moveout.pdf"
    payload = Payload(RecordKind.FORM, STATION, uuid.uuid4(), definition.code).encode()

    write_form(definition, values, out, payload)

    text = "\n".join(page.text for page in read_pdf(out))
    lines = [squeeze(line) for line in text.splitlines()]
    # One table row: the meter, its unit, the move-in reading, the move-out reading, what was used.
    assert "水表吨120.518059.5" in lines
    assert "入户门钥匙把32" in lines
    # The check-in result with its note first, then the move-out choice ticked, then the move-out note.
    stove = next(line for line in lines if line.startswith("燃气灶"))
    assert stove == "燃气灶损坏：点火器失灵□完好■损坏□缺失旋钮缺失"
    assert "马桶完好■完好□损坏□缺失" in lines


def test_the_check_in_form_ticks_the_recorded_result(tmp_path: Path) -> None:
    definition = load_form("checkin")
    values = FormValues(
        readings={"electricity_meter": "5321"},
        results={"living.intercom": ("无此项", ""), "balcony.drying_rack": ("缺失", "已报修")},
    )
    out = tmp_path / "checkin.pdf"

    write_form(definition, values, out, Payload(RecordKind.FORM, STATION, uuid.uuid4(), "C").encode())

    lines = [squeeze(line) for line in "\n".join(p.text for p in read_pdf(out)).splitlines()]
    assert "可视对讲门铃□完好□损坏□缺失■无此项" in lines
    assert "晾衣架□完好□损坏■缺失已报修" in lines
    assert "电表5321度" in lines


# -- forms as data --------------------------------------------------------------------------------------


@pytest.fixture
def forms_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped forms/ that the app reads instead of the original."""
    copy = tmp_path / "forms"
    shutil.copytree(paths.forms_dir(), copy)
    monkeypatch.setattr(paths, "forms_dir", lambda: copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_item_added_to_the_toml_prints_on_both_forms_with_no_code_change(
    demo_store: Store, demo_lease: DemoLease, forms_copy: Path, tmp_path: Path
) -> None:
    checkin = forms_copy / "checkin.toml"
    _edit(
        checkin,
        '{ id = "exhaust_fan", label = "排气扇" },',
        '{ id = "exhaust_fan", label = "排气扇" },\n  { id = "towel_rail", label = "毛巾架" },',
    )
    _edit(
        checkin,
        '{ id = "gas_card", label = "燃气卡", unit = "张" },',
        '{ id = "gas_card", label = "燃气卡", unit = "张" },\n  { id = "meter_box_key", label = "电表箱钥匙", unit = "把" },',
    )

    assert "bathroom.towel_rail" in {item.id for item in load_form("checkin").items}
    with demo_store.read() as session:
        for kind in ("checkin", "moveout"):
            out = tmp_path / f"{kind}.pdf"
            print_form(session, kind, out, unit_code=demo_lease.unit_code)
            words = squeeze("".join(page.text for page in read_pdf(out)))
            # The move-out form includes the check-in checklist, so the new item is there too.
            assert "毛巾架" in words, kind
            assert "电表箱钥匙" in words, kind

    # And its result prints like any other.
    out = tmp_path / "recorded.pdf"
    values = FormValues(results={"bathroom.towel_rail": ("损坏", "松动")})
    write_form(
        load_form("checkin"), values, out, Payload(RecordKind.FORM, STATION, uuid.uuid4(), "C").encode()
    )
    lines = [squeeze(line) for line in read_pdf(out)[-1].text.splitlines()]
    assert "毛巾架□完好■损坏□缺失松动" in lines


def test_a_source_that_does_not_exist_is_reported_before_anything_is_printed(
    demo_store: Store, demo_lease: DemoLease, forms_copy: Path, tmp_path: Path
) -> None:
    _edit(forms_copy / "lease.toml", 'source = "unit.fittings"', 'source = "unit.fitings"')
    out = tmp_path / "prints" / "lease.pdf"

    with demo_store.read() as session, pytest.raises(FormDefinitionError) as caught:
        print_form(session, "lease", out, unit_code=demo_lease.unit_code, blank=True)

    assert "unit.fitings" in caught.value.message
    assert "lease.toml" in caught.value.message
    assert not out.parent.exists()


def test_every_character_of_every_form_is_in_the_embedded_font() -> None:
    from reportlab.pdfbase import pdfmetrics

    glyphs = pdfmetrics.getFont(fonts.cjk_font()).face.charToGlyph
    for path in sorted(paths.forms_dir().glob("*.toml")):
        text = "".join(
            line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
            for line in path.read_text(encoding="utf-8").splitlines()
        )
        missing = sorted({c for c in text if not c.isspace() and ord(c) not in glyphs})
        assert missing == [], f"{path.name}: {missing}"


# -- the file -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_pdffonts_reports_only_the_embedded_cjk_font(
    demo_store: Store, demo_lease: DemoLease, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / f"{kind}.pdf"
    with demo_store.read() as session:
        print_form(session, kind, out, unit_code=demo_lease.unit_code)

    report = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    listed = report.splitlines()[2:]
    assert listed, report
    for line in listed:
        name, _type, _encoding, embedded, *_rest = line.split()
        assert "WenQuanYiMicroHei" in name
        assert embedded == "yes", report
    data = out.read_bytes()
    assert b"/FontFile2" in data
    assert b"Helvetica" not in data


def test_the_pdf_is_titled_after_the_form(demo_store: Store, demo_lease: DemoLease, tmp_path: Path) -> None:
    out = tmp_path / "moveout.pdf"
    with demo_store.read() as session:
        print_form(session, "moveout", out, lease_no=demo_lease.lease_no)
    pdf = pdfium.PdfDocument(out)
    try:
        metadata = pdf.get_metadata_dict()
    finally:
        pdf.close()
    assert metadata["Title"] == "退出查验及结算单"
    assert demo_lease.unit_code in metadata["Subject"]


def test_a_failed_write_reports_the_path_and_keeps_the_old_file(
    demo_store: Store, demo_lease: DemoLease, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prints = tmp_path / "prints"
    prints.mkdir()
    out = prints / "checkin.pdf"
    out.write_bytes(b"%PDF- printed yesterday")

    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with demo_store.read() as session:
        monkeypatch.setattr(os, "replace", disk_full)
        with pytest.raises(EnvironmentProblem) as caught:
            print_form(session, "checkin", out, unit_code=demo_lease.unit_code)
        monkeypatch.undo()

    assert str(out) in caught.value.message
    assert out.read_bytes() == b"%PDF- printed yesterday"
    assert list(prints.iterdir()) == [out]


# -- bad input ------------------------------------------------------------------------------------------


def _no_pdf_left(folder: Path) -> None:
    assert not list(folder.glob("*.pdf"))
    assert not list(folder.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("checkout", {"blank": True}, "没有“checkout”这种表单"),
        ("checkin", {"lease_no": "YXY01-1999-9999"}, "没有编号为 YXY01-1999-9999 的租赁合同"),
        ("checkin", {"lease_no": "  "}, "合同编号是空的"),
        ("checkin", {"unit_code": "9-9-999"}, "没有房号为 9-9-999 的房源"),
        ("checkin", {"unit_code": "一栋"}, "不是有效的房号"),
        ("lease", {}, "需要指定合同编号或房号"),
    ],
)
def test_bad_input_is_one_chinese_sentence_and_prints_nothing(
    demo_store: Store, tmp_path: Path, kind: str, options: dict[str, object], message: str
) -> None:
    with demo_store.read() as session, pytest.raises(UserError, match=message) as caught:
        print_form(session, kind, tmp_path / "form.pdf", **options)  # type: ignore[arg-type]

    assert caught.value.message.endswith("。")
    assert caught.value.message.count("。") == 1
    _no_pdf_left(tmp_path)


def test_an_unknown_kind_names_the_forms_there_are(demo_store: Store, tmp_path: Path) -> None:
    with demo_store.read() as session, pytest.raises(UserError) as caught:
        print_form(session, "checkout", tmp_path / "form.pdf")

    for kind in KINDS:
        assert kind in caught.value.message
    assert "入住交接单" in caught.value.message


def test_a_unit_without_a_lease_is_refused(demo_store: Store, tmp_path: Path) -> None:
    with demo_store.read() as session:
        code = _vacant_unit(session)
        for blank in (False, True):
            with pytest.raises(UserError, match=f"房源 {code} 目前没有生效的租赁合同") as caught:
                print_form(session, "checkin", tmp_path / "form.pdf", unit_code=code, blank=blank)
            assert caught.value.message.count("。") == 1
    _no_pdf_left(tmp_path)


def test_lease_and_unit_together_are_refused(
    demo_store: Store, demo_lease: DemoLease, tmp_path: Path
) -> None:
    with demo_store.read() as session, pytest.raises(UserError, match="只需指定一个"):
        print_form(
            session, "lease", tmp_path / "f.pdf", lease_no=demo_lease.lease_no, unit_code=demo_lease.unit_code
        )
    _no_pdf_left(tmp_path)


def test_output_must_be_a_pdf(demo_store: Store, demo_lease: DemoLease, tmp_path: Path) -> None:
    prints = tmp_path / "prints"
    with demo_store.read() as session, pytest.raises(UserError, match=r"\.pdf 结尾"):
        print_form(session, "lease", prints / "form.docx", unit_code=demo_lease.unit_code)
    assert not prints.exists()


def test_a_station_folder_without_a_station_says_so(empty_paths: paths.StationPaths, tmp_path: Path) -> None:
    store = Store.open(empty_paths)
    try:
        with store.read() as session, pytest.raises(UserError, match="还没有服务站数据"):
            print_form(session, "checkin", tmp_path / "form.pdf", blank=True)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (FormValues(results={"kitchen.gas_stove": ("坏了", "")}), "不在表单定义 checkin.toml 允许的结果"),
        (FormValues(results={"kitchen.dishwasher": ("完好", "")}), "没有检查项 kitchen.dishwasher"),
        (FormValues(readings={"heating_meter": "12"}), "没有读数或数量项 heating_meter"),
        (FormValues(fields={"nickname": "阿三"}), "没有字段 nickname"),
        (FormValues(tables={"pets": []}), "没有表格 pets"),
    ],
)
def test_values_the_form_has_no_place_for_are_refused(
    tmp_path: Path, values: FormValues, message: str
) -> None:
    out = tmp_path / "checkin.pdf"
    with pytest.raises(UserError, match=message):
        write_form(
            load_form("checkin"), values, out, Payload(RecordKind.FORM, STATION, uuid.uuid4(), "C").encode()
        )
    assert not out.exists()


def test_the_whole_check_in_record_can_be_the_baseline_and_its_results_are_checked(tmp_path: Path) -> None:
    check_in = FormValues(
        fields={"handover_date": "2026年1月5日"},
        readings={"water_meter": "1"},
        results={"living.wall": ("完好", "")},
    )
    payload = Payload(RecordKind.FORM, STATION, uuid.uuid4(), "M").encode()
    out = tmp_path / "moveout.pdf"

    write_form(load_form("moveout"), FormValues(baseline=check_in), out, payload)

    words = squeeze("".join(page.text for page in read_pdf(out)))
    assert "墙面完好□完好□损坏□缺失" in words
    assert "2026年1月5日" not in words  # the check-in header is not the move-out form's
    bad = FormValues(baseline=FormValues(results={"living.wall": ("很好", "")}))
    with pytest.raises(UserError, match="很好"):
        write_form(load_form("moveout"), bad, tmp_path / "bad.pdf", payload)
    assert not (tmp_path / "bad.pdf").exists()


# -- the QR payload of a form ---------------------------------------------------------------------------


def test_form_payload_round_trips_with_its_form_letter() -> None:
    record = uuid.UUID("6e2c6846-e699-4488-9e64-d36af8027ac6")
    text = Payload(RecordKind.FORM, STATION, record, "M").encode()

    assert text.startswith("YX1FM-YXY01-")
    assert set(text) <= set(string.ascii_uppercase + string.digits + "-*")
    assert parse(text.lower(), station_code=STATION) == Payload(RecordKind.FORM, STATION, record, "M")
    # Unit labels read exactly as before.
    unit = Payload(RecordKind.UNIT, STATION, record)
    assert unit.encode().startswith("YX1U-YXY01-")
    assert parse(unit.encode()) == unit


def _signed(body: str) -> str:
    return f"{body}-{mod_37_36.calc_check_digit(body.replace('-', ''))}"


@pytest.mark.parametrize("head", ["YX1F", "YX1UC"])
def test_a_form_without_its_letter_or_a_unit_with_one_asks_for_an_upgrade(head: str) -> None:
    ident = Payload(RecordKind.UNIT, STATION, uuid.uuid4()).encode().split("-")[2]

    with pytest.raises(UserError, match="升级"):
        parse(_signed(f"{head}-{STATION}-{ident}"))


def test_a_single_mistyped_form_letter_is_caught_by_the_check_character() -> None:
    text = Payload(RecordKind.FORM, STATION, uuid.uuid4(), "C").encode()
    for letter in string.ascii_uppercase.replace("C", ""):
        with pytest.raises(UserError):
            parse(text.replace("YX1FC", f"YX1F{letter}", 1))


def test_a_payload_must_say_which_form_exactly_when_it_is_a_form() -> None:
    with pytest.raises(ValueError, match="form letter"):
        Payload(RecordKind.FORM, STATION, uuid.uuid4())
    with pytest.raises(ValueError, match="form letter"):
        Payload(RecordKind.UNIT, STATION, uuid.uuid4(), "C")
    with pytest.raises(ValueError, match="one letter"):
        Payload(RecordKind.FORM, STATION, uuid.uuid4(), "c")


def test_every_shipped_form_has_its_own_letter() -> None:
    forms = load_all_forms()
    assert {kind: form.code for kind, form in forms.items()} == {
        "checkin": "C",
        "household": "H",
        "lease": "L",
        "moveout": "M",
    }
    with pytest.raises(UserError, match="升级"):
        form_for_code("Q")


def test_printing_uses_the_station_of_the_database(
    demo_store: Store, demo_lease: DemoLease, tmp_path: Path
) -> None:
    with demo_store.read() as session:
        printed = print_form(session, "household", tmp_path / "h.pdf", unit_code=demo_lease.unit_code)
        assert require_station(session).code == STATION
    assert printed.payload.startswith(f"YX1FH-{STATION}-")
