"""The household import template: the columns of its sheets (住户, 合同) and the .xlsx a clerk fills in.

The column definitions here are the file format: the template is written from them and
services.household_import reads files by the same header names, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from yuexiu_desk.domain.households import RELATIONS, SpecialGroup
from yuexiu_desk.domain.leases import DEFAULT_RULES, RentTier
from yuexiu_desk.errors import UserError
from yuexiu_desk.files import write_atomically

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

MEMBER_SHEET = "住户"
LEASE_SHEET = "合同"
GUIDE_SHEET = "说明"

COL_UNIT = "房号"
COL_HOUSEHOLD = "户序号"
COL_NAME = "姓名"
COL_RELATION = "与承租人关系"
COL_ID = "身份证号"
COL_PHONE = "联系电话"
COL_EMPLOYER = "工作单位"
COL_INCOME = "年收入(元)"
COL_ELDERLY = SpecialGroup.ELDERLY_ALONE.label
COL_DISABLED = SpecialGroup.DISABLED.label
COL_MOBILITY = SpecialGroup.MOBILITY_IMPAIRED.label
COL_START = "合同开始日期"
COL_TERM = "租期(月)"
COL_SIGNED = "签约日期"
COL_DEPOSIT = "押金(元)"
COL_TIER = "租金档次"
COL_OVERRIDE = "超5年理由"
COL_FILED = "备案日期"
COL_FILING_REF = "备案编号"

YES, NO = "是", "否"
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
# Validations and formats cover whole columns, so they apply however many rows the clerk fills.
LAST_ROW = 1_048_576


@dataclass(frozen=True)
class TemplateColumn:
    header: str
    required: bool
    need: str  # as shown in 说明: 必填 / 选填 / a condition
    help: str
    example: str
    width: int
    number_format: str = "General"
    choices: tuple[str, ...] = ()


_MAX_MONTHS = DEFAULT_RULES.max_term_years * 12

MEMBER_COLUMNS: tuple[TemplateColumn, ...] = (
    TemplateColumn(
        COL_UNIT,
        True,
        "必填",
        "栋-单元-楼层房号，例如 1-2-1603（也可写 1栋2单元1603室）。同一户的每一行都要填，且与“合同”表一致。",
        "1-2-1603",
        12,
        TEXT_FORMAT,
    ),
    TemplateColumn(
        COL_HOUSEHOLD,
        True,
        "必填",
        "本文件内区分各户的编号，如 1、2、3……；同一户的全部成员填同一个户序号，“合同”表用它找到这一户。",
        "1",
        8,
        TEXT_FORMAT,
    ),
    TemplateColumn(COL_NAME, True, "必填", "与身份证一致的姓名。", "张三", 10),
    TemplateColumn(
        COL_RELATION,
        True,
        "必填",
        "从下拉列表选择；承租人自己填“本人”，每户有且只有一位“本人”。",
        "本人",
        12,
        choices=RELATIONS,
    ),
    TemplateColumn(
        COL_ID,
        True,
        "必填",
        "18 位公民身份号码（最后一位可以是 X）；旧版 15 位号码也可，导入时自动升级为 18 位；"
        "外国人永久居留身份证（9 开头）也可。本列已设为“文本”格式，请保持，"
        "否则 Excel 会把号码显示成 4.2E+17 并丢掉最后几位。",
        "42010219580704002X",
        22,
        TEXT_FORMAT,
    ),
    TemplateColumn(
        COL_PHONE,
        False,
        "承租人必填",
        "手机号 11 位，或带区号的座机（例如 027-82801234）；其他成员可不填。",
        "13912345678",
        15,
        TEXT_FORMAT,
    ),
    TemplateColumn(COL_EMPLOYER, False, "选填", "工作单位；退休、无业也可照实填写。", "江岸区环卫所", 18),
    TemplateColumn(
        COL_INCOME, False, "选填", "全年收入，单位元，最多两位小数；未申报可不填。", "36000", 12, "0.00"
    ),
    TemplateColumn(
        COL_ELDERLY, False, "选填", "从下拉列表选“是”或“否”；不填视为“否”。", NO, 13, choices=(YES, NO)
    ),
    TemplateColumn(
        COL_DISABLED, False, "选填", "从下拉列表选“是”或“否”；不填视为“否”。", NO, 8, choices=(YES, NO)
    ),
    TemplateColumn(
        COL_MOBILITY, False, "选填", "从下拉列表选“是”或“否”；不填视为“否”。", NO, 10, choices=(YES, NO)
    ),
)

LEASE_COLUMNS: tuple[TemplateColumn, ...] = (
    TemplateColumn(
        COL_HOUSEHOLD, True, "必填", "与“住户”表中这一户的户序号相同；每户一行。", "1", 8, TEXT_FORMAT
    ),
    TemplateColumn(
        COL_UNIT, True, "必填", "这份合同租住的房号，与“住户”表一致。", "1-2-1603", 12, TEXT_FORMAT
    ),
    TemplateColumn(
        COL_START,
        True,
        "必填",
        "合同生效的第一天。Excel 日期，或写成 2024-03-01、2024/3/1、2024年3月1日。",
        "2024-03-01",
        14,
        DATE_FORMAT,
    ),
    TemplateColumn(
        COL_TERM,
        True,
        "必填",
        f"整月数，例如 36；合同在开始日期之后满这么多个月的前一天结束。"
        f"超过 {_MAX_MONTHS} 个月（{DEFAULT_RULES.max_term_years} 年）须填写“{COL_OVERRIDE}”。",
        "36",
        10,
    ),
    TemplateColumn(
        COL_SIGNED,
        True,
        "必填",
        "双方签订合同的日期，不能晚于今天；写法同合同开始日期。",
        "2024-02-20",
        14,
        DATE_FORMAT,
    ),
    TemplateColumn(COL_DEPOSIT, False, "选填", "单位元，最多两位小数；不填视为 0。", "1000", 10, "0.00"),
    TemplateColumn(
        COL_TIER,
        True,
        "必填",
        "从下拉列表选择。月租金不必填写：系统按 建筑面积 × 合同开始日期当时生效的该档租金标准 自动计算。",
        RentTier.STANDARD.label,
        12,
        choices=tuple(t.label for t in RentTier),
    ),
    TemplateColumn(
        COL_OVERRIDE,
        False,
        f"租期超过 {DEFAULT_RULES.max_term_years} 年时必填",
        f"公租房租期一般不超过 {DEFAULT_RULES.max_term_years} 年；超过时写明理由，否则不填。",
        "",
        20,
    ),
    TemplateColumn(
        COL_FILED,
        False,
        "已备案时填",
        "合同报房管局备案的日期，不能早于签约日期；与备案编号一起填写，尚未备案则两项都不填。",
        "2024-03-05",
        14,
        DATE_FORMAT,
    ),
    TemplateColumn(
        COL_FILING_REF,
        False,
        "已备案时填",
        "房管局给出的备案编号，与备案日期一起填写。",
        "江岸备字2024-0088",
        18,
        TEXT_FORMAT,
    ),
)

SHEETS: dict[str, tuple[TemplateColumn, ...]] = {MEMBER_SHEET: MEMBER_COLUMNS, LEASE_SHEET: LEASE_COLUMNS}

# One worked example: a couple and a child in 1-2-1603, shown only in 说明 so it is never imported.
_EXAMPLE_MEMBERS = (
    ("1-2-1603", "1", "张三", "本人", "42010219580704002X", "13912345678", "退休", "36000", NO, NO, NO),
    ("1-2-1603", "1", "李四", "配偶", "42010219600211003X", "", "退休", "24000", NO, NO, YES),
    ("1-2-1603", "1", "张小五", "子女", "420102198809090040", "", "某物流公司", "60000", NO, NO, NO),
)
_EXAMPLE_LEASES = (
    (
        "1",
        "1-2-1603",
        "2024-03-01",
        "36",
        "2024-02-20",
        "1000",
        RentTier.STANDARD.label,
        "",
        "2024-03-05",
        "江岸备字2024-0088",
    ),
)

_FONT = "等线"  # the default CJK font of current Chinese Office; WPS and LibreOffice substitute cleanly


def write_household_template(out: Path) -> Path:
    """Write the empty import template to out (.xlsx), replacing any file there only once it is complete."""
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"模板文件“{out.name}”应以 .xlsx 结尾。")
    book = _build_workbook()
    write_atomically(out, book.save, "模板文件")
    return out


def _build_workbook() -> Workbook:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, columns in SHEETS.items():
        _data_sheet(book.create_sheet(name), columns)
    _guide_sheet(book.create_sheet(GUIDE_SHEET))
    return book


def _data_sheet(sheet: Worksheet, columns: tuple[TemplateColumn, ...]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    required_font = Font(name=_FONT, size=11, bold=True, color="9C0006")
    optional_font = Font(name=_FONT, size=11, bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    border = Border(bottom=Side(style="thin", color="5B9BD5"))
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = required_font if column.required else optional_font
        cell.fill = fill
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center")
        # Cell notes, so the rule is at hand while the clerk types; 说明 has the same text.
        note = Comment(f"{column.need}。{column.help}", "悦秀苑服务站")
        note.width, note.height = 300, 120
        cell.comment = note
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width + 2
        # A column style, not per-cell formats: the file stays small and no empty rows are created
        # that an importer would have to skip.
        dimension.number_format = column.number_format
        dimension.font = Font(name=_FONT, size=11)
        if column.choices:
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(column.choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="请从列表中选择",
                error=f"“{column.header}”只能填写：{'、'.join(column.choices)}",
            )
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
    sheet.row_dimensions[1].height = 22
    sheet.freeze_panes = "A2"


def _guide_sheet(sheet: Worksheet) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    title = Font(name=_FONT, size=14, bold=True)
    bold = Font(name=_FONT, size=11, bold=True)
    plain = Font(name=_FONT, size=11)
    example_font = Font(name=_FONT, size=11, italic=True, color="7F7F7F")
    example_fill = PatternFill("solid", fgColor="FFF2CC")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")

    def put(row: int, values: tuple[str, ...], font: Font, fill: PatternFill | None = None) -> None:
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=col, value=value)
            cell.font = font
            cell.alignment = wrap
            if fill is not None:
                cell.fill = fill

    lines = [
        "悦秀苑服务站 住户与合同导入模板 填写说明",
        "用途：把服务站原有 Excel 台账中的住户和现行有效的租赁合同一次性导入本系统。",
        f"“{MEMBER_SHEET}”表每行一位家庭成员；“{LEASE_SHEET}”表每户一行，填这一户当前生效的合同。"
        "两表用“户序号”对应。",
        "表头请勿改名；列的顺序可以调整，多出来的列会被忽略。红色表头为必填列。",
        "导入前会检查全部内容；只要有一处问题，就一条也不导入，并列出每处问题所在的工作表、行号和列名。"
        "可先用“试导入”（--dry-run）检查。",
    ]
    row = 1
    for index, text in enumerate(lines):
        sheet.cell(row=row, column=1, value=text).font = title if index == 0 else plain
        row += 1
    row += 1
    put(row, ("工作表", "列名", "是否必填", "填写说明", "示例"), bold, header_fill)
    row += 1
    for name, columns in SHEETS.items():
        for column in columns:
            put(row, (name, column.header, column.need, column.help, column.example), plain)
            row += 1
    row += 1
    sheet.cell(row=row, column=1, value="填写示例（仅供参考，请勿把示例复制到数据表中）").font = bold
    for name, columns, examples in (
        (MEMBER_SHEET, MEMBER_COLUMNS, _EXAMPLE_MEMBERS),
        (LEASE_SHEET, LEASE_COLUMNS, _EXAMPLE_LEASES),
    ):
        row += 1
        sheet.cell(row=row, column=1, value=f"“{name}”表示例：").font = plain
        row += 1
        put(row, tuple(c.header for c in columns), bold, header_fill)
        for example in examples:
            row += 1
            put(row, example, example_font, example_fill)
        row += 1
    for letter, width in zip("ABCDEFGHIJK", (12, 16, 14, 70, 20, 14, 10, 14, 14, 10, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
