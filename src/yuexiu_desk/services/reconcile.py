"""Bank reconciliation (对账): reading the station account's bank statements (xlsx or csv as the banks export
them), storing a month's credit lines, matching them to the payments that came through the bank, and the
month's reconciliation state that month close requires.

Owns the statement_line rows and the remembered column mappings (setting keys "statement_mapping:…").
Lines are never deleted (the database refuses it); matching only sets or clears their payment link.
A statement with any bad line is refused whole, naming file, row and column of each problem.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import uuid
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from yuexiu_desk.domain.billing import CHANNEL_LABELS, Channel, Period
from yuexiu_desk.domain.money import FEN_PER_YUAN, format_yuan
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.services import audit
from yuexiu_desk.services.access import require
from yuexiu_desk.services.billing import find_payment, require_open
from yuexiu_desk.storage.billing_models import MoneyVoid, Payment, Setting, StatementLine
from yuexiu_desk.storage.models import Unit

# ---- statement fields and how banks name their columns --------------------------------------------------

# The fields a caller may map to columns; booked_on and amount are required. "debit" and "direction" are
# only needed for statements that keep outgoing money in its own column or mark it with a flag.
FIELD_LABELS: dict[str, str] = {
    "booked_on": "交易日期",
    "amount": "金额",
    "reference": "流水号",
    "counterparty": "对方户名",
    "summary": "摘要",
    "debit": "借方金额",
    "direction": "借贷标志",
}
REQUIRED_FIELDS = ("booked_on", "amount")
_FIELD_ALIASES = {label: name for name, label in FIELD_LABELS.items()} | {
    "日期": "booked_on",
    "对方": "counterparty",
    "付款人": "counterparty",
    "备注": "summary",
}


def _names(words: str) -> tuple[str, ...]:
    return tuple(words.split())


# Column names as Chinese banks print them, most specific first: when a header holds several of them, the
# earlier one wins (a credit column beats a signed "交易金额", a date beats a time-of-day column).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "booked_on": _names("交易日期 记账日期 入账日期 交易日 发生日期 日期 交易时间 记账时间 入账时间 时间"),
    "amount": _names(
        "贷方金额 贷方发生额 贷方发生金额 收入金额 收入 贷方 收款金额 存入金额 转入金额 入账金额 交易金额 金额 发生额 交易发生额"
    ),
    "reference": _names(
        "交易流水号 流水号 银行流水号 银行单号 业务流水号 凭证号 凭证号码 交易参考号 参考号 交易序号 交易号 交易编号 流水编号 交易单号 支付单号 商户订单号 订单号"
    ),
    "counterparty": _names(
        "对方户名 对方名称 对方账户名 对方账户名称 对方户名称 付款人 付款人名称 付款人户名 付款方 付款方名称 对方单位 对方单位名称 交易对手 交易对手名称 收付方名称 对方"
    ),
    "summary": _names("摘要 交易摘要 用途 交易用途 附言 交易附言 备注 交易备注 附加信息 说明"),
    "debit": _names("借方金额 借方发生额 借方发生金额 支出金额 支出 借方 付款金额 转出金额 取出金额"),
    "direction": _names(
        "借贷标志 借贷方向 借贷 借/贷 收支标志 收支方向 收支 收/支 收付标志 交易方向 资金方向 方向"
    ),
}
_DEBIT_MARKS = {"借", "借方", "支", "支出", "付", "付出", "出", "转出", "d", "dr", "debit", "-"}
_CREDIT_MARKS = {"贷", "贷方", "收", "收入", "入", "存入", "转入", "c", "cr", "credit", "+"}
# Total lines banks print under the table; their date cell holds words, and they are not transactions.
_FOOTER = re.compile(r"合计|小计|总计|共计|累计|笔数|本页|期末余额|期初余额|^共\s*\d+\s*笔")

HEADER_SCAN_ROWS = 50  # banks put a title and a few account lines above the header; never this many
MAX_PROBLEMS_SHOWN = 10
MAPPING_KEY_PREFIX = "statement_mapping:"
MATCH_WINDOW_DAYS = 3  # a transfer shows on the statement up to this many days from the day it was taken

MATCHED_BY_LABELS = {"reference": "流水号相同", "amount_date": "金额日期相符", "manual": "手工匹配"}


# ---- reading a statement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    """One credit line of a statement as read from the file."""

    line_no: int  # the row number a clerk sees when opening the file
    booked_on: date
    amount_fen: int
    reference: str
    counterparty: str
    summary: str


@dataclass(frozen=True)
class Statement:
    source: str  # the file's name
    header_row: int  # row number of the header
    header: tuple[str, ...]
    header_key: str  # the setting key a mapping for this header is remembered under
    columns: tuple[tuple[str, str], ...]  # (field, column name) used to read it
    mapping_from: str  # "auto", "remembered" or "given"
    rows: tuple[StatementRow, ...]  # credit lines, in file order
    debits: int  # outgoing lines skipped


def read_statement(
    path: str | Path,
    mapping: Mapping[str, str] | None = None,
    remembered: Callable[[str], Mapping[str, str] | None] | None = None,
) -> Statement:
    """Read the credit lines of a bank statement (xlsx, or csv in UTF-8, UTF-8 with BOM or GBK).

    The header row is found among the first rows; its columns are recognised by their usual bank names,
    or taken from mapping ({field: column name}) or from remembered(header_key) when the header is
    unusual. Raises UserError listing the bad rows when any line cannot be read.
    """
    path = Path(path)
    source = path.name[:200]
    given = _check_mapping(mapping or {})
    table = _read_cells(path)
    header_index, header, columns, mapping_from = _find_header(table, source, given, remembered)
    key = header_key(header)
    rows, debits = _read_rows(table, header_index, header, columns, source)
    used = tuple((name, header[index]) for name, indices in columns.items() for index in indices)
    return Statement(source, header_index + 1, header, key, used, mapping_from, tuple(rows), debits)


def header_key(header: Sequence[str]) -> str:
    """The setting key under which a mapping for this exact header is remembered."""
    names = [_clean_text(cell) for cell in header]
    while names and not names[-1]:
        names.pop()
    digest = hashlib.sha256("\x1f".join(names).encode()).hexdigest()
    return MAPPING_KEY_PREFIX + digest[:32]  # the setting key column holds 80 characters


def _check_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for raw_field, column in mapping.items():
        name = raw_field.strip()
        name = _FIELD_ALIASES.get(name, name)
        if name not in FIELD_LABELS:
            known = "、".join(f"{f}（{label}）" for f, label in FIELD_LABELS.items())
            raise UserError(f"列对应里的“{raw_field}”不是可指定的字段，可用的有：{known}。")
        if not _clean_text(column):
            raise UserError(f"列对应里的 {name} 没有写列名，请写成 {name}=列名。")
        checked[name] = _clean_text(column)
    return checked


def _read_cells(path: Path) -> list[list[Any]]:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt"):
        if suffix == ".xls":
            raise UserError(
                f"“{path.name}”是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 .csv 后再导入。"
            )
        raise UserError(f"“{path.name}”不是 xlsx 或 csv 文件，请从网银导出 Excel（.xlsx）或 CSV 格式的流水。")
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(path)
        return _read_csv(path)
    except FileNotFoundError:
        raise UserError(f"找不到文件“{path}”，请重新选择银行流水文件。") from None
    except PermissionError:
        raise EnvironmentProblem(
            f"没有权限读取“{path}”，请确认文件没有被其他程序独占打开，或复制到本机后再导入。"
        ) from None


def _read_xlsx(path: Path) -> list[list[Any]]:
    # openpyxl costs ≈150 ms to import: only when a workbook is read.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Bank-generated workbooks often lack a default style, which openpyxl warns about; that is noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True, data_only=True)
    except (FileNotFoundError, PermissionError):
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise UserError(f"“{path.name}”打不开，可能已损坏或不是 Excel 文件，请重新从网银导出。") from None
    try:
        sheet = book.worksheets[0]
        # Some banks write a wrong sheet size into the file; forgetting it makes openpyxl read every row.
        sheet.reset_dimensions()
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _read_csv(path: Path) -> list[list[Any]]:
    raw = path.read_bytes()
    text = _decode(raw, path.name)
    sample = text[:20000]
    best: tuple[int, str] = (0, ",")
    try:
        # Banks export comma-, tab- or semicolon-separated text under the name csv; the separator that
        # splits the widest row (the header) is the one used.
        for delimiter in (",", "\t", ";", "|"):
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            rows = (len(row) for _, row in zip(range(HEADER_SCAN_ROWS), reader, strict=False))
            widest = max(rows, default=0)
            if widest > best[0]:
                best = (widest, delimiter)
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=best[1])]
    except csv.Error:
        raise UserError(f"“{path.name}”不是有效的 CSV 文件（引号不配对），请重新从网银导出。") from None


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        # Chinese banks mostly export GBK; GB18030 is its superset and decodes every GBK file.
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(f"“{name}”的文字编码无法识别（不是 UTF-8 或 GBK），请在 Excel 中另存为 .xlsx 后再导入。")


def _clean_text(value: Any) -> str:
    """A cell as text: numbers without a spurious .0, whitespace collapsed, Excel's ="…" wrapper removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.isoformat(sep=" ")
    text = re.sub(r"\s+", " ", str(value).replace("\u3000", " ")).strip()
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        text = text[2:-1].strip()
    return text


def _header_name(value: Any) -> str:
    """A header cell reduced to what identifies it: no spaces, no unit in brackets, no trailing colon."""
    text = re.sub(r"\s+", "", _clean_text(value))
    text = re.sub(r"[（(][^）)]*[）)]$", "", text)
    return text.rstrip(":：*")


def _auto_columns(names: Sequence[str]) -> dict[str, list[int]]:
    columns: dict[str, list[int]] = {}
    used: set[int] = set()
    for name, synonyms in _SYNONYMS.items():
        for synonym in synonyms:
            hits = [i for i, cell in enumerate(names) if cell == synonym and i not in used]
            if hits:
                columns[name] = [hits[0]]
                used.add(hits[0])
                break
        if name == "booked_on" and name not in columns:
            hits = [i for i, cell in enumerate(names) if "日期" in cell and "起息" not in cell]
            if hits:
                columns[name] = [hits[0]]
                used.add(hits[0])
        if name == "summary" and name in columns:
            # A statement may carry its purpose in several columns (摘要 and 附言); all of them are kept so a
            # payment reference written in any of them can be found.
            extra = [i for i, cell in enumerate(names) if cell in synonyms and i not in used]
            columns[name] = sorted(columns[name] + extra)
            used.update(extra)
    return columns


def _find_header(
    table: Sequence[Sequence[Any]],
    source: str,
    given: Mapping[str, str],
    remembered: Callable[[str], Mapping[str, str] | None] | None,
) -> tuple[int, tuple[str, ...], dict[str, list[int]], str]:
    scanned = table[:HEADER_SCAN_ROWS]
    for index, row in enumerate(scanned):
        header = tuple(_clean_text(cell) for cell in row)
        if not any(header):
            continue
        names = [_header_name(cell) for cell in header]
        mapping: Mapping[str, str] = given
        origin = "given"
        if not given and remembered is not None:
            mapping = _check_mapping(remembered(header_key(header)) or {})
            origin = "remembered"
        if mapping:
            placed = _place(mapping, names)
            if placed is None:
                continue
            columns = _auto_columns([n if i not in _flat(placed) else "" for i, n in enumerate(names)])
            columns.update(placed)
            if all(f in columns for f in REQUIRED_FIELDS):
                return index, header, columns, origin
            if given:
                _missing(source, header, columns)
            continue
        columns = _auto_columns(names)
        if all(f in columns for f in REQUIRED_FIELDS):
            return index, header, columns, "auto"
    if given:
        absent = [c for c in given.values() if not any(_matches(c, row) for row in scanned)]
        listed = "、".join(f"“{c}”" for c in absent or given.values())
        raise UserError(f"银行流水“{source}”里找不到列 {listed}，请核对列名（须与表头文字一致）后重试。")
    widest = max(
        (tuple(_clean_text(c) for c in row) for row in scanned),
        key=lambda h: sum(1 for c in h if c),
        default=(),
    )
    _missing(source, widest, _auto_columns([_header_name(c) for c in widest]))
    raise AssertionError("unreachable")


def _flat(columns: Mapping[str, list[int]]) -> set[int]:
    return {i for indices in columns.values() for i in indices}


def _matches(column: str, row: Sequence[Any]) -> bool:
    wanted = _header_name(column)
    return any(_header_name(cell) == wanted for cell in row)


def _place(mapping: Mapping[str, str], names: Sequence[str]) -> dict[str, list[int]] | None:
    placed: dict[str, list[int]] = {}
    for name, column in mapping.items():
        wanted = _header_name(column)
        if wanted not in names:
            return None
        placed[name] = [names.index(wanted)]
    return placed


def _missing(source: str, header: Sequence[str], columns: Mapping[str, list[int]]) -> None:
    absent = [f for f in REQUIRED_FIELDS if f not in columns]
    needed = "、".join(f"{FIELD_LABELS[f]}（{f}）" for f in absent)
    shown = "、".join(c for c in header if c) or "（空）"
    example = f"{absent[0]}=表头里的列名"
    raise UserError(
        f"银行流水“{source}”里认不出{needed}列（表头为：{shown}），请指定列的对应关系，例如 {example}，"
        "指定一次后同样表头的流水会自动识别。"
    )


_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2}(?:\.\d+)?)?)?$"
)
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\s*\d{2}:?\d{2}:?\d{2})?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_booked_on(value: Any) -> date | None:
    """A statement's date cell (2026-10-05, 2026/10/05, 20261005, 2026年10月5日, Excel dates, with a time
    or without); None when it is not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 19000101 <= value <= 99991231:
            value = str(int(value))
        elif 20000 <= value < 80001:  # an Excel day number (with the time as a fraction), 1954–2119
            return _EXCEL_EPOCH + timedelta(days=int(value))
        else:
            return None
    text = _clean_text(value)
    match = _DATE_TEXT.match(text) or _DATE_DIGITS.match(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class _BadAmount(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_amount_fen(value: Any) -> int | None:
    """A statement's amount cell in fen (signed); None when empty. Floats from Excel are taken as the
    decimal they display (rounded to the fen), never kept as floats. Raises ValueError (with .reason, the
    words for the clerk) when the cell is not an amount."""
    if value is None:
        return None
    if isinstance(value, bool | datetime | date):
        raise _BadAmount("不是金额")
    if isinstance(value, int):
        return value * FEN_PER_YUAN
    if isinstance(value, float):
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return int(amount * FEN_PER_YUAN)
    text = _clean_text(value)
    for noise in (",", "，", " ", "¥", "￥", "元", "RMB", "CNY"):
        text = text.replace(noise, "")
    if not text or text in ("-", "--"):
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _BadAmount("不是金额") from None
    if not amount.is_finite():
        raise _BadAmount("不是金额")
    if amount != amount.quantize(Decimal("0.01")):
        raise _BadAmount("超过两位小数")
    return int(amount * FEN_PER_YUAN)


def _read_rows(
    table: Sequence[Sequence[Any]],
    header_index: int,
    header: Sequence[str],
    columns: Mapping[str, list[int]],
    source: str,
) -> tuple[list[StatementRow], int]:
    problems: list[str] = []
    rows: list[StatementRow] = []
    debits = 0

    def cell(row: Sequence[Any], index: int) -> Any:
        value = row[index] if index < len(row) else None
        return None if isinstance(value, str) and not value.strip() else value

    def first(row: Sequence[Any], name: str) -> Any:
        indices = columns.get(name)
        return cell(row, indices[0]) if indices else None

    def text(row: Sequence[Any], name: str) -> str:
        parts = [_clean_text(cell(row, i)) for i in columns.get(name, [])]
        return "；".join(p for p in parts if p)

    def problem(line_no: int, name: str, value: Any, what: str) -> None:
        column = header[columns[name][0]]
        shown = _clean_text(value)
        problems.append(
            f"第 {line_no} 行“{column}”列“{shown}”{what}" if shown else f"第 {line_no} 行“{column}”列为空"
        )

    for index in range(header_index + 1, len(table)):
        row = table[index]
        line_no = index + 1
        if not any(_clean_text(v) for v in row):
            continue
        raw_amount = first(row, "amount")
        raw_debit = first(row, "debit")
        raw_direction = first(row, "direction")
        raw_date = first(row, "booked_on")
        booked_on = parse_booked_on(raw_date) if raw_date is not None else None
        if booked_on is None and _is_footer(row, raw_date):
            continue
        if raw_amount is None:
            # No credit on this line: a payment out (in its own column), or a note line under the table.
            if raw_debit is not None:
                debits += 1
            continue
        try:
            fen = parse_amount_fen(raw_amount)
        except _BadAmount as bad:
            problem(line_no, "amount", raw_amount, bad.reason)
            fen = None
        if booked_on is None:
            problem(line_no, "booked_on", raw_date, "不是日期")
        if fen is None or booked_on is None:
            continue
        if raw_direction is not None:
            mark = _clean_text(raw_direction).casefold()
            if mark in _DEBIT_MARKS:
                debits += 1
                continue
            if mark not in _CREDIT_MARKS:
                problem(line_no, "direction", raw_direction, "看不出是收入还是支出")
                continue
        if fen <= 0:
            if fen < 0 or raw_debit is not None:
                debits += 1
            continue
        rows.append(
            StatementRow(
                line_no,
                booked_on,
                fen,
                text(row, "reference"),
                text(row, "counterparty"),
                text(row, "summary"),
            )
        )
    if problems:
        shown = "；".join(problems[:MAX_PROBLEMS_SHOWN])
        more = f"等 {len(problems)} 处" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise UserError(f"银行流水“{source}”有问题，未导入任何一行：{shown}{more}。请改正后重新导入。")
    return rows, debits


def _is_footer(row: Sequence[Any], date_cell: Any) -> bool:
    first = next((text for text in map(_clean_text, row) if text), "")
    return bool(_FOOTER.search(first) or _FOOTER.search(_clean_text(date_cell)))


def fingerprint(row: StatementRow, occurrence: int) -> str:
    """What identifies a line across imports: its content, and which of several identical lines it is."""
    parts = (
        row.booked_on.isoformat(),
        str(row.amount_fen),
        row.reference,
        row.counterparty,
        row.summary,
        str(occurrence),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# ---- importing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchResult:
    by_reference: int = 0
    by_amount_date: int = 0
    released: int = 0  # links to payments voided since they were matched, removed
    ambiguous: int = 0  # lines left unmatched because several payments (or lines) fit equally
    unmatched: int = 0  # lines of the month still without a payment afterwards

    @property
    def matched(self) -> int:
        return self.by_reference + self.by_amount_date


@dataclass(frozen=True)
class ImportResult:
    source: str
    period: Period
    credits: int  # credit lines read from the file
    added: int  # stored now
    duplicates: int  # in the month but already imported earlier
    outside: int  # booked in another month: not stored
    outside_periods: tuple[str, ...]
    debits: int  # outgoing lines skipped
    columns: tuple[tuple[str, str], ...]  # (field, column name) used
    mapping_from: str  # "auto", "remembered" or "given"
    match: MatchResult = field(default_factory=MatchResult)


def remembered_mappings(session: Session) -> dict[str, dict[str, str]]:
    """Column mappings that worked before, by header key."""
    found: dict[str, dict[str, str]] = {}
    for key, value in session.execute(
        select(Setting.key, Setting.value).where(Setting.key.startswith(MAPPING_KEY_PREFIX))
    ):
        try:
            loaded = json.loads(value)
        except ValueError:
            continue
        if isinstance(loaded, dict):
            found[key] = {str(k): str(v) for k, v in loaded.items()}
    return found


def import_statement(
    session: Session,
    path: str | Path,
    period: Period,
    operator: str,
    mapping: Mapping[str, str] | None = None,
) -> ImportResult:
    """Store the credit lines of a statement booked in the period, then match the month automatically.

    Lines of other months are counted, not stored; lines imported before are skipped, so the same file
    (or an overlapping one) can be imported again. A mapping that reads the file is remembered for
    statements with the same header.
    """
    require(session, "reconcile.edit")
    require_open(session, period, "导入银行流水")
    known = remembered_mappings(session)
    statement = read_statement(path, mapping, known.get)
    if mapping and statement.mapping_from == "given":
        checked = _check_mapping(mapping)
        value = json.dumps(checked, ensure_ascii=False, sort_keys=True)
        setting = session.get(Setting, statement.header_key)
        if setting is None:
            session.add(Setting(key=statement.header_key, value=value))
        else:
            setting.value = value
    now = session.info["clock"].now()
    seen: Counter[tuple[date, int, str, str, str]] = Counter()
    wanted: dict[str, StatementRow] = {}
    outside: Counter[str] = Counter()
    for row in statement.rows:
        content = (row.booked_on, row.amount_fen, row.reference, row.counterparty, row.summary)
        occurrence = seen[content]
        seen[content] += 1
        if Period.of(row.booked_on) != period:
            outside[str(Period.of(row.booked_on))] += 1
            continue
        wanted[fingerprint(row, occurrence)] = row
    existing: set[str] = set()
    prints = list(wanted)
    for start in range(0, len(prints), 500):
        chunk = prints[start : start + 500]
        existing.update(
            session.scalars(select(StatementLine.fingerprint).where(StatementLine.fingerprint.in_(chunk)))
        )
    for print_, row in wanted.items():
        if print_ in existing:
            continue
        session.add(
            StatementLine(
                period=str(period),
                fingerprint=print_,
                source=statement.source,
                line_no=row.line_no,
                booked_on=row.booked_on,
                amount_fen=row.amount_fen,
                reference=row.reference,
                counterparty=row.counterparty,
                summary=row.summary,
                payment_id=None,
                matched_by="",
                confirmed_at=None,
                operator=operator,
                created_at=now,
            )
        )
    session.flush()
    matched = match_month(session, period, operator)
    audit.record(
        session,
        operator,
        "import",
        Path(path).name,
        {"kind": "statement", "period": str(period), "added": len(wanted) - len(existing)},
    )
    return ImportResult(
        source=statement.source,
        period=period,
        credits=len(statement.rows),
        added=len(wanted) - len(existing),
        duplicates=len(existing),
        outside=sum(outside.values()),
        outside_periods=tuple(sorted(outside)),
        debits=statement.debits,
        columns=statement.columns,
        mapping_from=statement.mapping_from,
        match=matched,
    )


# ---- matching -------------------------------------------------------------------------------------------


def _norm_ref(text: str) -> str:
    return text.strip().casefold()


# A payment reference found inside a statement's summary (附言/备注) must be at least this long, so that
# short numbers (amounts, room numbers) never pass for one.
_TOKEN = re.compile(r"[0-9A-Za-z_-]{6,}")
_BANK_CHANNELS = tuple(c.value for c in Channel if c.via_bank)


def _voided_payment_ids(session: Session) -> set[uuid.UUID]:
    return {
        i for i in session.scalars(select(MoneyVoid.payment_id).where(MoneyVoid.payment_id.is_not(None))) if i
    }


def _matched_payment_ids(session: Session) -> set[uuid.UUID]:
    query = select(StatementLine.payment_id).where(StatementLine.payment_id.is_not(None))
    return {i for i in session.scalars(query) if i}


def _candidate_payments(session: Session, *conditions: Any) -> list[Payment]:
    query = select(Payment).where(Payment.channel.in_(_BANK_CHANNELS), *conditions)
    return list(session.scalars(query.order_by(Payment.paid_on, Payment.receipt_no)))


def match_month(session: Session, period: Period, operator: str) -> MatchResult:
    """Propose a payment for each unmatched line of the month: first a bank-channel payment with the same
    reference (in the reference column, or written in the summary) and amount, then the only payment of
    the same amount within MATCH_WINDOW_DAYS when that payment fits no other line. Proposals wait for
    confirm_matches; anything ambiguous stays unmatched for a person to decide."""
    require(session, "reconcile.edit")
    require_open(session, period, "匹配银行流水")
    voided = _voided_payment_ids(session)
    lines = list(
        session.scalars(
            select(StatementLine)
            .where(StatementLine.period == str(period))
            .order_by(StatementLine.booked_on, StatementLine.source, StatementLine.line_no)
        )
    )
    released = 0
    for line in lines:
        if line.payment_id is not None and line.payment_id in voided:
            _clear(line)
            released += 1
    session.flush()
    taken = _matched_payment_ids(session)
    open_lines = [line for line in lines if line.payment_id is None]

    by_reference = _match_by_reference(session, open_lines, voided, taken)
    open_lines = [line for line in open_lines if line.payment_id is None]

    window = timedelta(days=MATCH_WINDOW_DAYS)
    payments = [
        p
        for p in _candidate_payments(
            session,
            Payment.paid_on >= period.first_day - window,
            Payment.paid_on <= period.last_day + window,
        )
        if p.id not in voided and p.id not in taken
    ]
    # Unmatched lines of the neighbouring months compete for the same payments: a payment that fits two
    # lines is ambiguous even when one of them belongs to another month.
    rivals = list(
        session.scalars(
            select(StatementLine).where(
                StatementLine.payment_id.is_(None),
                StatementLine.booked_on >= period.first_day - 2 * window,
                StatementLine.booked_on <= period.last_day + 2 * window,
            )
        )
    )

    def fits(line: StatementLine, payment: Payment) -> bool:
        return line.amount_fen == payment.amount_fen and abs((line.booked_on - payment.paid_on).days) <= (
            MATCH_WINDOW_DAYS
        )

    by_amount_date = 0
    ambiguous = 0
    for line in open_lines:
        candidates = [p for p in payments if p.id not in taken and fits(line, p)]
        if not candidates:
            continue
        if len(candidates) == 1:
            payment = candidates[0]
            competing = [r for r in rivals if r.payment_id is None and fits(r, payment)]
            if len(competing) == 1:
                _link(line, payment.id, "amount_date")
                taken.add(payment.id)
                by_amount_date += 1
                continue
        ambiguous += 1
    session.flush()
    return MatchResult(
        by_reference=by_reference,
        by_amount_date=by_amount_date,
        released=released,
        ambiguous=ambiguous,
        unmatched=sum(1 for line in lines if line.payment_id is None),
    )


def _match_by_reference(
    session: Session, lines: Sequence[StatementLine], voided: set[uuid.UUID], taken: set[uuid.UUID]
) -> int:
    wanted: dict[uuid.UUID, tuple[str, set[str]]] = {}
    keys: set[str] = set()
    for line in lines:
        own = _norm_ref(line.reference)
        tokens = {t.casefold() for t in _TOKEN.findall(f"{line.summary} {line.reference}")} - {own}
        wanted[line.id] = (own, tokens)
        keys.update(tokens | ({own} if own else set()))
    by_ref: dict[str, list[Payment]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for payment in _candidate_payments(session, func.lower(func.trim(Payment.reference)).in_(chunk)):
            if payment.id not in voided and payment.reference.strip():
                by_ref.setdefault(_norm_ref(payment.reference), []).append(payment)
    count = 0
    for line in lines:
        own, tokens = wanted[line.id]
        # Two live payments whose references differ only in case make the reference ambiguous: no match.
        found = by_ref[own] if own in by_ref else [p for t in sorted(tokens) for p in by_ref.get(t, [])]
        found = [p for p in found if p.id not in taken and p.amount_fen == line.amount_fen]
        if len({p.id for p in found}) != 1:
            continue
        _link(line, found[0].id, "reference")
        taken.add(found[0].id)
        count += 1
    return count


def _link(line: StatementLine, payment_id: uuid.UUID, how: str) -> None:
    line.payment_id = payment_id
    line.matched_by = how
    line.confirmed_at = None


def _clear(line: StatementLine) -> None:
    line.payment_id = None
    line.matched_by = ""
    line.confirmed_at = None


def _line(session: Session, line_id: uuid.UUID) -> StatementLine:
    line = session.get(StatementLine, line_id)
    if line is None:
        raise UserError("找不到这条银行流水，请刷新对账页后重试。")
    return line


def confirm_matches(
    session: Session, period: Period, line_ids: Sequence[uuid.UUID] | None, operator: str
) -> int:
    """Confirm proposed matches of the month (all of them when line_ids is None); returns how many."""
    require(session, "reconcile.edit")
    require_open(session, period, "确认对账")
    voided = _voided_payment_ids(session)
    if line_ids is None:
        lines = list(
            session.scalars(
                select(StatementLine).where(
                    StatementLine.period == str(period),
                    StatementLine.payment_id.is_not(None),
                    StatementLine.confirmed_at.is_(None),
                )
            )
        )
        lines = [line for line in lines if line.payment_id not in voided]
    else:
        lines = [_line(session, line_id) for line_id in line_ids]
        for line in lines:
            if line.period != str(period):
                raise UserError(
                    f"第 {line.line_no} 行流水（{line.booked_on}）不属于{period.label}，请在其所在月份确认。"
                )
            if line.payment_id is None:
                raise UserError(f"第 {line.line_no} 行流水（{line.booked_on}）还没有匹配收款，不能确认。")
            if line.payment_id in voided:
                raise UserError(
                    f"第 {line.line_no} 行流水（{line.booked_on}）匹配的收款已作废，请取消匹配后重新匹配。"
                )
    now = session.info["clock"].now()
    count = 0
    for line in lines:
        if line.confirmed_at is None:
            line.confirmed_at = now
            count += 1
    session.flush()
    return count


def match_manually(session: Session, line_id: uuid.UUID, receipt_no: str, operator: str) -> None:
    """A person pairs a statement line with a payment by its receipt number; the pair counts as confirmed.
    Amounts may differ (a fee deducted, two transfers for one receipt): the difference stays visible and
    keeps the month from reconciling until it is explained."""
    require(session, "reconcile.edit")
    line = _line(session, line_id)
    require_open(session, Period.parse(line.period), "匹配银行流水")
    if line.payment_id is not None:
        raise UserError(f"第 {line.line_no} 行流水（{line.booked_on}）已经匹配了收款，请先取消匹配。")
    payment = find_payment(session, receipt_no)
    if payment.id in _voided_payment_ids(session):
        raise UserError(f"收据 {payment.receipt_no} 已作废，不能用于对账。")
    channel = Channel(payment.channel)
    if not channel.via_bank:
        raise UserError(
            f"收据 {payment.receipt_no} 是{channel.label}收款，不经过银行账户，不能与银行流水匹配。"
        )
    other = session.scalar(select(StatementLine).where(StatementLine.payment_id == payment.id))
    if other is not None:
        raise UserError(
            f"收据 {payment.receipt_no} 已与 {other.booked_on} 的流水（{other.source} 第 {other.line_no} 行）匹配，"
            "请先取消那条匹配。"
        )
    _link(line, payment.id, "manual")
    line.confirmed_at = session.info["clock"].now()
    session.flush()


def unmatch(session: Session, line_id: uuid.UUID, operator: str) -> None:
    """Undo a match (proposed or confirmed); a confirmed one only while its month is open."""
    require(session, "reconcile.edit")
    line = _line(session, line_id)
    if line.payment_id is None:
        raise UserError(f"第 {line.line_no} 行流水（{line.booked_on}）没有匹配收款。")
    if line.confirmed_at is not None:
        require_open(session, Period.parse(line.period), "取消已确认的对账匹配")
    _clear(line)
    session.flush()


# ---- the month's state ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineView:
    line_id: uuid.UUID
    period: str
    source: str
    line_no: int
    booked_on: date
    amount_fen: int
    reference: str
    counterparty: str
    summary: str
    voided_receipt_no: str = ""  # matched to this receipt, which has since been voided


@dataclass(frozen=True)
class PaymentView:
    payment_id: uuid.UUID
    receipt_no: str
    unit_code: str
    payer: str
    amount_fen: int
    channel: Channel
    reference: str
    paid_on: date


@dataclass(frozen=True)
class MatchedPair:
    line: LineView
    payment: PaymentView
    matched_by: str  # "reference", "amount_date" or "manual"
    confirmed: bool

    @property
    def difference_fen(self) -> int:
        """Statement minus payment; only a manual match can differ."""
        return self.line.amount_fen - self.payment.amount_fen

    @property
    def receipt_no(self) -> str:
        return self.payment.receipt_no


@dataclass(frozen=True)
class Reconciliation:
    """A month's bank reconciliation. Pairs include those whose other side lies in a neighbouring month
    (a transfer taken on the 31st and booked on the 2nd): that money is in transit, not a difference."""

    period: Period
    pairs: tuple[MatchedPair, ...]
    unmatched_lines: tuple[LineView, ...]
    unmatched_payments: tuple[PaymentView, ...]
    statement_fen: int  # the month's statement credits
    statement_count: int
    payments_fen: int  # the month's payments through the bank (not voided)
    payments_count: int
    in_transit_fen: int  # of the difference: pairs whose two sides fall in different months

    @property
    def difference_fen(self) -> int:
        return self.statement_fen - self.payments_fen

    @property
    def unexplained_fen(self) -> int:
        return self.difference_fen - self.in_transit_fen

    @property
    def unconfirmed(self) -> tuple[MatchedPair, ...]:
        return tuple(p for p in self.pairs if not p.confirmed)

    @property
    def differing(self) -> tuple[MatchedPair, ...]:
        return tuple(p for p in self.pairs if p.difference_fen)

    @property
    def reconciles(self) -> bool:
        return (
            not self.unmatched_lines
            and not self.unmatched_payments
            and not self.unconfirmed
            and not self.differing
            and self.unexplained_fen == 0
        )

    def as_json(self) -> dict[str, Any]:
        def line(view: LineView) -> dict[str, Any]:
            return {
                "line_id": str(view.line_id),
                "period": view.period,
                "source": view.source,
                "line_no": view.line_no,
                "booked_on": view.booked_on.isoformat(),
                "amount": format_yuan(view.amount_fen),
                "reference": view.reference,
                "counterparty": view.counterparty,
                "summary": view.summary,
                "voided_receipt_no": view.voided_receipt_no,
            }

        def payment(view: PaymentView) -> dict[str, Any]:
            return {
                "receipt_no": view.receipt_no,
                "unit": view.unit_code,
                "payer": view.payer,
                "amount": format_yuan(view.amount_fen),
                "channel": view.channel.value,
                "reference": view.reference,
                "paid_on": view.paid_on.isoformat(),
            }

        return {
            "period": str(self.period),
            "reconciles": self.reconciles,
            "statement": format_yuan(self.statement_fen),
            "statement_count": self.statement_count,
            "payments": format_yuan(self.payments_fen),
            "payments_count": self.payments_count,
            "difference": format_yuan(self.difference_fen),
            "in_transit": format_yuan(self.in_transit_fen),
            "pairs": [
                {
                    "line": line(p.line),
                    "payment": payment(p.payment),
                    "matched_by": p.matched_by,
                    "confirmed": p.confirmed,
                    "difference": format_yuan(p.difference_fen),
                }
                for p in self.pairs
            ],
            "unmatched_lines": [line(v) for v in self.unmatched_lines],
            "unmatched_payments": [payment(v) for v in self.unmatched_payments],
        }


def _line_view(line: StatementLine, voided_receipt_no: str = "") -> LineView:
    return LineView(
        line.id,
        line.period,
        line.source,
        line.line_no,
        line.booked_on,
        line.amount_fen,
        line.reference,
        line.counterparty,
        line.summary,
        voided_receipt_no,
    )


def _payment_views(session: Session, payments: Iterable[Payment]) -> dict[uuid.UUID, PaymentView]:
    payments = list(payments)
    query = select(Unit.id, Unit.code).where(Unit.id.in_({p.unit_id for p in payments}))
    units: dict[uuid.UUID, str] = {unit_id: code for unit_id, code in session.execute(query)}
    return {
        p.id: PaymentView(
            p.id,
            p.receipt_no,
            units.get(p.unit_id, ""),
            p.payer,
            p.amount_fen,
            Channel(p.channel),
            p.reference,
            p.paid_on,
        )
        for p in payments
    }


def reconciliation(session: Session, period: Period) -> Reconciliation:
    """Where the month's bank reconciliation stands; month close requires .reconciles."""
    voided = _voided_payment_ids(session)
    month = str(period)
    month_payments = [
        p
        for p in _candidate_payments(
            session, Payment.paid_on >= period.first_day, Payment.paid_on <= period.last_day
        )
        if p.id not in voided
    ]
    month_payment_ids = {p.id for p in month_payments}
    lines = list(
        session.scalars(
            select(StatementLine)
            .where(
                or_(
                    StatementLine.period == month,
                    StatementLine.payment_id.in_(month_payment_ids),
                )
            )
            .order_by(StatementLine.booked_on, StatementLine.source, StatementLine.line_no)
        )
    )
    linked_ids = {line.payment_id for line in lines if line.payment_id is not None}
    linked = {p.id: p for p in session.scalars(select(Payment).where(Payment.id.in_(linked_ids)))}
    views = _payment_views(session, [*month_payments, *linked.values()])

    pairs: list[MatchedPair] = []
    unmatched_lines: list[LineView] = []
    matched_payments: set[uuid.UUID] = set()
    in_transit = 0
    for line in lines:
        in_month = line.period == month
        payment_id = line.payment_id
        if payment_id is None or payment_id in voided:
            if in_month:
                receipt = linked[payment_id].receipt_no if payment_id is not None else ""
                unmatched_lines.append(_line_view(line, receipt))
            continue
        pair = MatchedPair(
            _line_view(line), views[payment_id], line.matched_by, line.confirmed_at is not None
        )
        pairs.append(pair)
        matched_payments.add(payment_id)
        payment_in_month = payment_id in month_payment_ids
        if in_month and not payment_in_month:
            in_transit += line.amount_fen
        elif payment_in_month and not in_month:
            in_transit -= linked[payment_id].amount_fen
    statement = [line for line in lines if line.period == month]
    return Reconciliation(
        period=period,
        pairs=tuple(pairs),
        unmatched_lines=tuple(unmatched_lines),
        unmatched_payments=tuple(views[p.id] for p in month_payments if p.id not in matched_payments),
        statement_fen=sum(line.amount_fen for line in statement),
        statement_count=len(statement),
        payments_fen=sum(p.amount_fen for p in month_payments),
        payments_count=len(month_payments),
        in_transit_fen=in_transit,
    )


# ---- text for the CLI and the log -----------------------------------------------------------------------


def describe_import(result: ImportResult) -> str:
    columns = "、".join(f"{FIELD_LABELS[f]}←“{c}”" for f, c in result.columns)
    how = {"auto": "自动识别", "remembered": "按记住的列对应", "given": "按指定的列对应（已记住）"}
    lines = [
        f"已读取“{result.source}”：收入 {result.credits} 笔，跳过支出 {result.debits} 笔；"
        f"{how.get(result.mapping_from, '')}列：{columns}。",
        f"{result.period.label}新增 {result.added} 笔，已导入过 {result.duplicates} 笔。",
    ]
    if result.outside:
        periods = "、".join(result.outside_periods)
        lines.append(
            f"另有 {result.outside} 笔不属于{result.period.label}（{periods}），未导入，请在相应月份导入。"
        )
    match = result.match
    lines.append(
        f"自动匹配：流水号相同 {match.by_reference} 笔，金额日期相符 {match.by_amount_date} 笔；"
        f"无法唯一确定 {match.ambiguous} 笔；尚未匹配 {match.unmatched} 笔。"
    )
    if match.released:
        lines.append(f"有 {match.released} 笔原匹配的收款已作废，已取消其匹配。")
    return "\n".join(lines)


def _describe_line(view: LineView) -> str:
    parts = [
        f"{view.booked_on}",
        f"{format_yuan(view.amount_fen)} 元",
        view.counterparty,
        view.reference,
        view.summary,
    ]
    text = "  ".join(p for p in parts if p)
    note = f"（原匹配收据 {view.voided_receipt_no} 已作废）" if view.voided_receipt_no else ""
    return f"  {view.source} 第 {view.line_no} 行：{text}{note}"


def _describe_payment(view: PaymentView) -> str:
    parts = [
        f"收据 {view.receipt_no}",
        f"{view.paid_on}",
        f"{format_yuan(view.amount_fen)} 元",
        CHANNEL_LABELS[view.channel],
        view.unit_code,
        view.payer,
        f"流水号 {view.reference}" if view.reference else "",
    ]
    return "  " + "  ".join(p for p in parts if p)


def describe(state: Reconciliation) -> str:
    verdict = "已对平" if state.reconciles else "未对平"
    lines = [
        f"{state.period.label}银行对账：{verdict}",
        f"银行流水收入 {state.statement_count} 笔 {format_yuan(state.statement_fen)} 元；"
        f"银行渠道收款 {state.payments_count} 笔 {format_yuan(state.payments_fen)} 元；"
        f"差额 {format_yuan(state.difference_fen)} 元（其中跨月在途 {format_yuan(state.in_transit_fen)} 元）。",
    ]
    if state.pairs:
        lines.append(f"已匹配 {len(state.pairs)} 笔（待确认 {len(state.unconfirmed)} 笔）：")
        for pair in state.pairs:
            flags = [MATCHED_BY_LABELS.get(pair.matched_by, pair.matched_by)]
            flags.append("已确认" if pair.confirmed else "待确认")
            if pair.difference_fen:
                flags.append(f"差额 {format_yuan(pair.difference_fen)} 元")
            lines.append(
                f"  {pair.line.booked_on} {format_yuan(pair.line.amount_fen)} 元 ↔ 收据 {pair.receipt_no}"
                f"（{'，'.join(flags)}）"
            )
    if state.unmatched_lines:
        lines.append(f"未匹配的银行流水 {len(state.unmatched_lines)} 笔：")
        lines.extend(_describe_line(v) for v in state.unmatched_lines)
    if state.unmatched_payments:
        lines.append(f"未在银行流水中找到的收款 {len(state.unmatched_payments)} 笔：")
        lines.extend(_describe_payment(v) for v in state.unmatched_payments)
    return "\n".join(lines)
