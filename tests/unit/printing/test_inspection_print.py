"""Inspection records on paper and the quarterly report, tested as a person sees them: rendered pages, the QR
code decoded and resolved, the Chinese text extracted; the Excel workbook read back."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook
from PIL import Image

from yuexiu_desk import paths
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.errors import UserError
from yuexiu_desk.formdefs import RESERVED_CODES, load_form
from yuexiu_desk.inspection_templates import ROUND_FORM, load_template, template_ids
from yuexiu_desk.labels.decode import decode_qr_texts
from yuexiu_desk.labels.payload import RecordKind, parse
from yuexiu_desk.printing import fonts
from yuexiu_desk.services import inspection_print, inspections
from yuexiu_desk.services.lookup import resolve, round_no_of
from yuexiu_desk.storage.db import Store

OP = "测试"
DPI = 150


def read_pdf(path: Path) -> list[tuple[Image.Image, str]]:
    pdf = pdfium.PdfDocument(path)
    try:
        return [
            (pdf[n].render(scale=DPI / 72, grayscale=True).to_pil(), pdf[n].get_textpage().get_text_range())
            for n in range(len(pdf))
        ]
    finally:
        pdf.close()


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def corner(image: Image.Image) -> Image.Image:
    left, top, right, bottom = (round(v * DPI / 25.4) for v in (150.0, 0.0, 210.0, 45.0))
    return image.crop((left, top, right, bottom))


def test_the_round_letter_is_reserved_so_no_form_definition_can_take_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert RESERVED_CODES[ROUND_FORM] == "检查记录表"
    copy = tmp_path / "forms"
    shutil.copytree(paths.forms_dir(), copy)
    text = (copy / "lease.toml").read_text(encoding="utf-8")
    (copy / "lease.toml").write_text(re.sub(r'(?m)^code = "L"', 'code = "I"', text), encoding="utf-8")
    with pytest.raises(UserError, match="已用于检查记录表"):
        load_form("lease", copy)


def test_the_blank_form_carries_the_rounds_qr_every_item_and_both_signature_lines_s2(
    demo_store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "空白.pdf"
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no, pages, started = inspection_print.print_blank(
            session, "monthly_fire", "building:2", out, OP
        )
        payload = inspection_print.round_payload(session, inspections.find_round(session, round_no))
    assert started and pages >= 1
    printed = read_pdf(out)
    text = squeeze("".join(t for _image, t in printed))
    template = load_template("monthly_fire")
    for words in (
        "防火检查记录",
        round_no,
        "2栋1单元",
        "2栋2单元",
        "检查人员（签名）",
        "被检查部门负责人（签名）",
    ):
        assert words in text
    for item in template.items:
        assert squeeze(item.label) in text and squeeze(item.look) in text
    for image, _text in printed:
        assert decode_qr_texts(corner(image)) == [payload]
    decoded = parse(payload)
    assert decoded.kind is RecordKind.FORM and decoded.form == ROUND_FORM
    with demo_store.read() as session:
        assert round_no_of(session, payload) == round_no
        with pytest.raises(UserError) as caught:
            resolve(session, payload)  # a building's record is not a unit: the round is named instead
        assert round_no in caught.value.message and "防火检查记录" in caught.value.message
    # Printing the blank again uses the open round instead of starting another.
    with demo_store.unit_of_work(system_operator(OP)) as session:
        again, _pages, started = inspection_print.print_blank(session, "monthly_fire", "building:2", out, OP)
    assert again == round_no and not started


def test_the_filled_record_shows_the_answers_severity_grade_and_note(
    demo_store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "记录.pdf"
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = inspections.start_round(
            session, "quarterly_safety", "building:2", OP, "王建国", "悦秀物业"
        ).round_no
        inspections.record_result(
            session,
            round_no,
            inspections.Answer(
                "settlement.tilt", "building:2", "defect", "critical", "C", "东南角倾斜", "t.jpg"
            ),
            OP,
        )
        inspections.record_rest_ok(session, round_no, OP)
        inspections.close_round(session, round_no, OP)
        inspection_print.print_round(session, round_no, out)
    text = squeeze("".join(t for _image, t in read_pdf(out)))
    for words in (
        "季度房屋安全检查记录表",
        "已结束",
        "王建国",
        "悦秀物业",
        "程度：重大",
        "危险等级：C级",
        "东南角倾斜",
    ):
        assert words in text


def test_output_must_be_a_pdf(demo_store: Store, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"\.pdf"), demo_store.unit_of_work(system_operator(OP)) as session:
        inspection_print.print_blank(session, "monthly_fire", "building:1", tmp_path / "x.docx", OP)
    with demo_store.read() as session:
        assert not any(
            r.template == "monthly_fire" and r.scope == "building:1"
            for r in inspections.list_rounds(session, True)
        )


def test_the_quarterly_report_pdf_has_its_figures_and_chart_and_the_excel_reads_back(
    demo_store: Store, tmp_path: Path
) -> None:
    pdf, xlsx = tmp_path / "报告.pdf", tmp_path / "报告.xlsx"
    with demo_store.read() as session:
        report = inspection_print.export_quarter_report(session, "2026-Q3", pdf)
        inspection_print.export_quarter_report(session, "2026-Q3", xlsx)
    text = squeeze("".join(t for _image, t in read_pdf(pdf)))
    for words in (
        "悦秀苑2026年第3季度房屋巡查及安全检查报告",
        "应检轮次",
        "各检查表应检与已检轮次",
        "逾期未整改隐患",
    ):
        assert words in text
    book = load_workbook(xlsx)
    summary = book["巡查汇总"]
    rows = {r[0]: r[1:] for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert rows["合计"][0] == report.rounds_due and rows["合计"][1] == report.rounds_done
    assert rows["本季度新增隐患"][0] == report.hazards_opened
    detail = book[load_template("quarterly_inspection").title]
    header = [c.value for c in detail[1]]
    assert header[:4] == ["轮次编号", "结束日期", "检查范围", "位置"]
    assert header[4:] == [item.label for item in load_template("quarterly_inspection").items]
    assert detail.max_row > 1


def test_an_item_added_to_the_template_shows_on_screen_on_the_blank_and_in_excel_with_no_code_change(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "forms"
    shutil.copytree(paths.forms_dir(), copy)
    monkeypatch.setattr(paths, "forms_dir", lambda: copy)
    path = copy / "inspections" / "monthly_fire.toml"
    text = path.read_text(encoding="utf-8")
    anchor = '  { id = "hydrants", label = "室内外消火栓"'
    assert anchor in text
    path.write_text(
        text.replace(
            anchor, '  { id = "fire_doors", label = "防火卷帘门", look = "手动升降是否正常" },\n' + anchor
        ),
        encoding="utf-8",
    )
    out, xlsx = tmp_path / "空白.pdf", tmp_path / "报告.xlsx"
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no, _pages, _started = inspection_print.print_blank(
            session, "monthly_fire", "building:1", out, OP
        )
        screen = inspections.round_items(session, round_no)
        inspections.record_rest_ok(session, round_no, OP)
        inspections.close_round(session, round_no, OP)
        inspection_print.export_quarter_report(session, "2026-Q4", xlsx)
    assert ("site.fire_doors", "building:1") in {(i.item_id, i.location) for i in screen}
    assert "防火卷帘门" in squeeze("".join(t for _image, t in read_pdf(out)))
    header = [c.value for c in load_workbook(xlsx)["防火检查记录"][1]]
    assert "防火卷帘门" in header


def test_every_character_of_every_template_is_in_the_embedded_font() -> None:
    from reportlab.pdfbase import pdfmetrics

    glyphs = pdfmetrics.getFont(fonts.cjk_font()).face.charToGlyph
    folder = paths.forms_dir() / "inspections"
    assert template_ids() == sorted(p.stem for p in folder.glob("*.toml"))
    for path in sorted(folder.glob("*.toml")):
        text = "".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
        missing = sorted({c for c in text if not c.isspace() and ord(c) not in glyphs})
        assert missing == [], f"{path.name}: {missing}"


def test_a_unit_rounds_qr_resolves_to_that_unit_like_the_other_forms(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "forms"
    shutil.copytree(paths.forms_dir(), copy)
    monkeypatch.setattr(paths, "forms_dir", lambda: copy)
    (copy / "inspections" / "unit_visit.toml").write_text(
        'title = "入户走访记录"\nrule = "S9"\ncadence = "quarterly"\nscope = "unit"\n'
        '[[sections]]\nid = "visit"\ntitle = "走访"\nkind = "unit"\nresponsible = "station"\n'
        'items = [ { id = "safety", label = "户内用电用气安全", look = "插座、燃气软管" } ]\n',
        encoding="utf-8",
    )
    out = tmp_path / "visit.pdf"
    with demo_store.unit_of_work(system_operator(OP)) as session:
        assert any(
            r.template == "unit_visit" and r.scope == "unit:1-2-1603" for r in inspections.due(session)
        )
        round_no, _pages, _started = inspection_print.print_blank(
            session, "unit_visit", "unit:1-2-1603", out, OP
        )
        payload = inspection_print.round_payload(session, inspections.find_round(session, round_no))
        resolved = resolve(session, payload)
    assert resolved.code == "1-2-1603" and resolved.via == "form"
    ((image, text),) = read_pdf(out)
    assert decode_qr_texts(corner(image)) == [payload] and "入户走访记录" in squeeze(text)
