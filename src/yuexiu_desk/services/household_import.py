"""Importing the station's existing ledgers: households, their members and each household's active lease,
from a workbook laid out like export.household_template (sheets 住户 and 合同).

Owns reading and checking such files. Every row is checked before anything is written; a file with any
problem is refused whole (ImportRejected names sheet, row and column of every problem) and the store is
left exactly as it was. The records are made by the station's own services (register_household,
sign_lease, record_filing); bureau-size files go through an equivalent bulk writer in this module that
relies on the same checks, because the services cost several queries per household.
"""

from __future__ import annotations

import gc
import re
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.households import LEASEHOLDER_RELATION, SpecialGroup, check_relation
from yuexiu_desk.domain.identity import IdNumber, mask_id_number, normalize_phone, parse_id_number
from yuexiu_desk.domain.leases import (
    CURRENT_STATUSES,
    DEFAULT_RULES,
    LeaseRules,
    LeaseStatus,
    RentTier,
    check_term,
    lease_end,
    monthly_rent_fen,
    parse_tier,
)
from yuexiu_desk.domain.money import fen_to_decimal, yuan_to_fen
from yuexiu_desk.domain.units import UnitCode, UnitStatus, change_kind
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.export.household_template import (
    COL_DEPOSIT,
    COL_DISABLED,
    COL_ELDERLY,
    COL_EMPLOYER,
    COL_FILED,
    COL_FILING_REF,
    COL_HOUSEHOLD,
    COL_ID,
    COL_INCOME,
    COL_MOBILITY,
    COL_NAME,
    COL_OVERRIDE,
    COL_PHONE,
    COL_RELATION,
    COL_SIGNED,
    COL_START,
    COL_TERM,
    COL_TIER,
    COL_UNIT,
    LEASE_COLUMNS,
    LEASE_SHEET,
    MEMBER_COLUMNS,
    MEMBER_SHEET,
    NO,
    YES,
    TemplateColumn,
)
from yuexiu_desk.services import audit, people
from yuexiu_desk.services.access import require
from yuexiu_desk.services.households import HouseholdInput, MemberInput, register_household
from yuexiu_desk.services.keys import session_keys
from yuexiu_desk.services.leases import SignLease, record_filing, sign_lease
from yuexiu_desk.storage.bulk import execute_many, new_ids, page_cache, stored_value
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import HouseholdMember, Lease, RentStandard, Unit
from yuexiu_desk.workbooks import ERROR_VALUES, CellError, SheetFileError, Workbook, open_workbook

# From this many households on, the bulk writer is used (a station has ~200; the bureau tens of thousands).
BULK_MIN_HOUSEHOLDS = 1000
# A clerk's own file may have a title or a blank line above the header.
HEADER_SEARCH_ROWS = 10
SUMMARY_PROBLEMS = 3
# SQLite allows 32766 bound parameters; stay far below for older builds.
_CHUNK = 900
# The 异动 reason sign_lease records; the bulk writer must record the same one.
MOVE_IN_REASON = "配租签约入住（合同 {lease_no}）"
# SQLite page cache for the bulk writer's inserts (KiB). Its default (2 MiB) is far smaller than the pages
# a bureau-size import touches: random UUID keys land all over every index, so pages are spilled and read
# back again and again. Measured at 50,000 households: the inserts took 5.9 s with the default, 4.2 s with
# this. Pages are allocated only as used, and the connection's own setting is restored afterwards.
_BULK_CACHE_KIB = 128 * 1024


@dataclass(frozen=True)
class ImportProblem:
    """One problem of the file. row is the Excel row number (0: the sheet as a whole); column is the header
    name ("" when the problem concerns the whole row)."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return f"“{self.sheet}”表：{self.message}"
        if not self.column:
            return f"“{self.sheet}”表第 {self.row} 行：{self.message}"
        return f"“{self.sheet}”表第 {self.row} 行“{self.column}”：{self.message}"


class ImportRejected(UserError):
    """The file was refused whole; problems lists every problem found, in sheet and row order."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        shown = "；".join(str(p).rstrip("。") for p in problems[:SUMMARY_PROBLEMS])
        more = len(problems) - SUMMARY_PROBLEMS
        tail = f"；……另有 {more} 处，见完整列表" if more > 0 else ""
        super().__init__(f"发现 {len(problems)} 处问题，未导入任何数据：{shown}{tail}。")
        self.problems = problems


@dataclass(frozen=True)
class ImportReport:
    households: int
    members: int
    leases: int
    filings: int  # leases imported with their bureau filing (备案)
    dry_run: bool
    # Accepted but worth a look (an L1 override, a lease already past its end).
    warnings: list[ImportProblem] = field(default_factory=list)


def import_households(
    session: Session,
    path: Path,
    operator: str,
    dry_run: bool = False,
    *,
    rules: LeaseRules = DEFAULT_RULES,
    bulk: bool | None = None,
) -> ImportReport:
    """Import the households and active leases of the workbook at path, all or nothing.

    Raises ImportRejected (a UserError) listing every problem; nothing is written then. dry_run checks
    everything, including the services' own checks, and leaves the store unchanged. bulk chooses the
    writer (None: by the size of the file); both enforce the same rules.
    """
    require(session, "import.households")
    today = local_date(session.info["clock"].now())
    problems: list[ImportProblem] = []
    warnings: list[ImportProblem] = []
    with _no_cyclic_gc():
        members, leases = _read_file(path, today, problems)
        plan = _plan(session, members, leases, today, rules, problems, warnings)
        use_bulk = len(plan) >= BULK_MIN_HOUSEHOLDS if bulk is None else bulk
        if use_bulk and problems:
            raise ImportRejected(_in_order(problems))
        savepoint = session.begin_nested()
        try:
            if use_bulk:
                _write_in_bulk(session, plan, operator, today)
            else:
                _write_with_services(session, plan, operator, rules, problems)
        except BaseException:
            savepoint.rollback()
            raise
        if problems or dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
            audit.record(
                session,
                operator,
                "import",
                Path(path).name,
                {"kind": "households", "households": len(plan), "bulk": use_bulk},
            )
    if problems:
        raise ImportRejected(_in_order(problems))
    clean = [h for h in plan if h.clean]
    return ImportReport(
        households=len(clean),
        members=sum(len(h.members) for h in clean),
        leases=len(clean),
        filings=sum(1 for h in clean if h.lease.filed_on is not None),
        dry_run=dry_run,
        warnings=_in_order(warnings),
    )


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while the file is held in memory. A 50,000-household file is
    about a million small objects, none in reference cycles, and every full collection walks all of them
    again: measured at 50,000 households, keeping the rows with the collector on made reading 50 % slower."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_SHEET_ORDER = {MEMBER_SHEET: 0, LEASE_SHEET: 1}
_COLUMN_ORDER = {
    (sheet, c.header): i
    for sheet, columns in ((MEMBER_SHEET, MEMBER_COLUMNS), (LEASE_SHEET, LEASE_COLUMNS))
    for i, c in enumerate(columns)
}


def _in_order(problems: list[ImportProblem]) -> list[ImportProblem]:
    return sorted(
        problems,
        key=lambda p: (_SHEET_ORDER.get(p.sheet, 2), p.row, _COLUMN_ORDER.get((p.sheet, p.column), -1)),
    )


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class _Member:
    row: int
    key: str | None
    unit: UnitCode | None
    name: str | None
    relation: str | None
    ident: IdNumber | None
    phone: str | None  # "" when empty, None when unreadable
    employer: str
    income_fen: int | None
    groups: frozenset[SpecialGroup]
    id_index: bytes | None = None  # the ID number's keyed hash, made once for the check and the write


@dataclass
class _LeaseRow:
    row: int
    key: str | None
    unit: UnitCode | None
    start: date | None
    term: int | None
    signed: date | None
    deposit_fen: int | None
    tier: RentTier | None
    override: str
    filed_on: date | None
    filing_ref: str
    end: date | None = None  # the last day of the term, when start and term are readable


def _read_file(
    path: Path, today: date, problems: list[ImportProblem]
) -> tuple[list[_Member] | None, list[_LeaseRow] | None]:
    """The rows of both sheets, each None when its sheet or a column is missing."""
    try:
        with _open(path) as book:
            member_rows = _sheet_rows(book, MEMBER_SHEET, MEMBER_COLUMNS, _MEMBER_ORDER, problems)
            members = None if member_rows is None else _members(member_rows, today, problems)
            lease_rows = _sheet_rows(book, LEASE_SHEET, LEASE_COLUMNS, _LEASE_ORDER, problems)
            leases = None if lease_rows is None else _leases(lease_rows, problems)
    except SheetFileError as exc:
        raise _not_a_workbook(path, exc) from exc
    if members == [] and leases == []:
        raise UserError(
            f"文件 {path.name} 的“{MEMBER_SHEET}”表和“{LEASE_SHEET}”表都没有数据行，没有可导入的内容。"
        )
    return members, leases


def _open(path: Path) -> Workbook:
    if not path.is_file():
        raise UserError(f"找不到文件 {path}，请检查文件名和所在文件夹。")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UserError(
            f"文件“{path.name}”不是 .xlsx 工作簿；旧的 .xls 或 .csv 请先在 Excel 中“另存为” .xlsx 再导入。"
        )
    try:
        return open_workbook(path)
    except SheetFileError as exc:
        raise _not_a_workbook(path, exc) from exc
    except OSError as exc:
        raise EnvironmentProblem(
            f"无法读取文件 {path}（{exc.strerror or exc}）；如果它正在 Excel 中打开请先关闭，并检查读取权限。"
        ) from exc


def _not_a_workbook(path: Path, exc: SheetFileError) -> UserError:
    return UserError(
        f"文件“{path.name}”无法作为 Excel 工作簿打开（{exc}）；请在 Excel 中打开确认后另存为 .xlsx 再试。"
    )


_SPACES = re.compile(r"\s+")


def _header_key(value: object) -> str:
    """Headers match whatever spaces, line breaks or full-width brackets the clerk's Excel put in."""
    if value is None:
        return ""
    return _SPACES.sub("", str(value)).replace("（", "(").replace("）", ")")


def _sheet_rows(
    book: Workbook,
    name: str,
    columns: tuple[TemplateColumn, ...],
    order: tuple[str, ...],
    problems: list[ImportProblem],
) -> Iterator[tuple[int, list[Any]]] | None:
    """(row number, [value of each header in order]) for every non-empty row below the header; None, with
    the problems, when the sheet or a column is missing."""
    actual = next((s for s in book.sheetnames if _header_key(s) == name), None)
    if actual is None:
        problems.append(
            ImportProblem(
                name, 0, "", f"文件中没有“{name}”工作表；请使用导入模板，或把工作表改名为“{name}”。"
            )
        )
        return None
    rows = book.rows(actual)
    wanted = {_header_key(c.header): c.header for c in columns}
    header_no = 0
    found: tuple[Any, ...] = ()
    for number, values in enumerate(rows, start=1):
        if any(_header_key(v) in wanted for v in values):
            header_no, found = number, values
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if header_no == 0:
        problems.append(
            ImportProblem(
                name,
                0,
                "",
                f"前 {HEADER_SEARCH_ROWS} 行里找不到表头（应有 {'、'.join(c.header for c in columns)}）；"
                f"请使用导入模板的表头。",
            )
        )
        return None
    index: dict[str, int] = {}
    unknown = []
    for position, value in enumerate(found):
        key = _header_key(value)
        if key in wanted:
            if key in index:
                problems.append(
                    ImportProblem(
                        name,
                        header_no,
                        wanted[key],
                        f"表头中有两列都叫“{wanted[key]}”，请删除或改名其中一列。",
                    )
                )
            index[key] = position
        elif key:
            unknown.append(str(value).strip())
    missing = [c.header for c in columns if _header_key(c.header) not in index]
    if missing:
        hint = f"（表头中有未识别的列：{'、'.join(unknown)}）" if unknown else ""
        problems.extend(
            ImportProblem(name, header_no, m, f"缺少“{m}”列{hint}；请按模板补上这一列。") for m in missing
        )
        return None
    return _data_rows(rows, header_no, [index[_header_key(header)] for header in order])


def _data_rows(
    rows: Iterator[tuple[Any, ...]], header_no: int, positions: list[int]
) -> Iterator[tuple[int, list[Any]]]:
    """(row number, the cells at positions) for every row that is not blank."""
    for number, values in enumerate(rows, start=header_no + 1):
        width = len(values)
        cells = [values[i] if i < width else None for i in positions]
        # Blank rows (often hundreds of formatted but empty ones at the end) are not data.
        for value in cells:
            if value is not None and (value.__class__ is not str or value.strip()):
                yield number, cells
                break


def _blank(value: object) -> bool:
    return value is None or (type(value) is str and not value.strip())


# ------------------------------------------------------------------------------------------ cell values


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, datetime | date | time):
        raise UserError("这一格被 Excel 识别成了日期或时间；请把本列设为“文本”格式后重新填写。")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# Old ledgers often write 1栋2单元1603室.
_CHINESE_CODE = re.compile(r"^(\d{1,2})栋(\d{1,2})单元(\d{3,5})室?$")


def _unit_code(value: object) -> UnitCode:
    text = _SPACES.sub("", _text(value))
    match = _CHINESE_CODE.match(text)
    if match:
        text = "-".join(match.groups())
    return UnitCode.parse(text)


# Integers are exact in a double only below 2**53; an 18-digit number typed into a General cell is not.
_EXACT_DIGITS = 15


def _id_number(value: object, today: date) -> IdNumber:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if abs(value) >= 10**_EXACT_DIGITS or (isinstance(value, float) and not value.is_integer()):
            raise UserError(
                "身份证号被 Excel 存成了数字（显示为 4.2E+17 之类），最后几位已经丢失；"
                "请把本列设为“文本”格式后按证件重新录入。"
            )
        value = str(int(value))
    return parse_id_number(_text(value), today=today)


def _phone(value: object) -> str:
    return normalize_phone(_text(value))


# Far above any deposit or household income, far below what SQLite's integers hold.
_MAX_FEN = 10**12


def _amount_fen(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise UserError(f"{what}应为数字（元）。")
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same double: 1234.56 stays 1234.56.
        fen = yuan_to_fen(repr(value), what)
    elif isinstance(value, int | Decimal):
        fen = yuan_to_fen(value, what)
    else:
        fen = yuan_to_fen(_text(value).removesuffix("元").lstrip("¥￥").strip(), what)
    if abs(fen) >= _MAX_FEN:
        raise UserError(f"{what}“{value}”大得不合常理，请核对。")
    return fen


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _date(value: object) -> date:
    if isinstance(value, datetime):
        return _plausible(value.date())
    if isinstance(value, date):
        return _plausible(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and not _DATE_COMPACT.match(str(value)):
        raise UserError(f"“{value}”是数字而不是日期；请填写日期，例如 2024-03-01，或把本列设为日期格式。")
    text = _text(value)
    match = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if not match:
        raise UserError(f"“{text}”不是可识别的日期；请写成 2024-03-01、2024/3/1 或 2024年3月1日。")
    try:
        day = date(*(int(g) for g in match.groups()))
    except ValueError:
        raise UserError(f"日期“{text}”不存在，请核对年月日。") from None
    return _plausible(day)


# Lease arithmetic must stay inside Python's calendar; a ledger has no dates outside these years.
_YEARS = range(1900, 2100)


def _plausible(day: date) -> date:
    if day.year not in _YEARS:
        raise UserError(f"日期 {day} 的年份不合常理，请核对。")
    return day


def _months(value: object) -> int:
    if isinstance(value, bool):
        raise UserError("租期应为整月数，例如 36。")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _text(value).removesuffix("个月").removesuffix("月").strip()
    if not text.isdigit():
        raise UserError(f"租期“{_text(value)}”应为整月数，例如 36。")
    months = int(text)
    if months < 1:
        raise UserError("租期至少 1 个月。")
    if months > _MAX_MONTHS:
        raise UserError(f"租期 {months} 个月过长，请核对（填写的是月数，例如 3 年填 36）。")
    return months


_MAX_MONTHS = 100 * 12


_YES_WORDS = {YES, "√", "✓", "Y", "YES", "TRUE", "1"}
_NO_WORDS = {NO, "×", "N", "NO", "FALSE", "0"}


def _yes_no(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).upper()
    if text in _YES_WORDS:
        return True
    if text in _NO_WORDS:
        return False
    raise UserError(f"“{_text(value)}”无法识别，请填写“{YES}”或“{NO}”（不填视为“{NO}”）。")


def _relation(value: object) -> str:
    return check_relation(_text(value))


def _tier(value: object) -> RentTier:
    return parse_tier(_text(value))


def _income_fen(value: object) -> int:
    return _amount_fen(value, "年收入")


def _deposit_fen(value: object) -> int:
    return _amount_fen(value, "押金")


class _Refused:
    """A cell value its parser refused, with the reason (kept in a column's memo like a result)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


_REQUIRED = "此项必填，这一行没有填写。"
_FORMULA_ERROR = "这一格显示的是公式出错（{value}），不是数据；请在 Excel 中改正公式或直接填入内容。"


@dataclass(frozen=True)
class _Column:
    """How one column's cells are read. memo: ledgers repeat the same units, dates, relations and tiers
    thousands of times, so each distinct value of such a column is parsed once per import."""

    header: str
    parse: Callable[[Any], Any]
    required: bool = False
    memo: bool = False


def _cells(
    sheet: str,
    row: int,
    values: list[Any],
    columns: tuple[_Column, ...],
    memos: tuple[dict[tuple[type, Any], Any] | None, ...],
    problems: list[ImportProblem],
) -> list[Any]:
    """The parsed values of one row (None where blank or refused), each refusal a problem of its cell."""
    parsed: list[Any] = []
    for value, column, memo in zip(values, columns, memos, strict=True):
        if value is None or (value.__class__ is str and not value.strip()):
            if column.required:
                problems.append(ImportProblem(sheet, row, column.header, _REQUIRED))
            parsed.append(None)
            continue
        if value.__class__ is CellError or (value.__class__ is str and value in ERROR_VALUES):
            problems.append(ImportProblem(sheet, row, column.header, _FORMULA_ERROR.format(value=value)))
            parsed.append(None)
            continue
        if memo is None:
            result = _attempt(column.parse, value)
        else:
            # The type is part of the key: 1, 1.0 and True are equal but are not read alike.
            key = (value.__class__, value)
            result = memo.get(key, _attempt)
            if result is _attempt:
                result = memo[key] = _attempt(column.parse, value)
        if result.__class__ is _Refused:
            problems.append(ImportProblem(sheet, row, column.header, result.message))
            parsed.append(None)
        else:
            parsed.append(result)
    return parsed


def _attempt(parse: Callable[[Any], Any], value: object) -> Any:
    try:
        return parse(value)
    except UserError as exc:
        return _Refused(exc.message)


def _memos(columns: tuple[_Column, ...]) -> tuple[dict[tuple[type, Any], Any] | None, ...]:
    return tuple({} if c.memo else None for c in columns)


def _member_columns(today: date) -> tuple[_Column, ...]:
    """In _MEMBER_ORDER."""
    return (
        _Column(COL_HOUSEHOLD, _text, required=True),
        _Column(COL_UNIT, _unit_code, required=True, memo=True),
        _Column(COL_NAME, _text, required=True),
        _Column(COL_RELATION, _relation, required=True, memo=True),
        _Column(COL_ID, lambda v: _id_number(v, today), required=True),
        _Column(COL_PHONE, _phone),
        _Column(COL_EMPLOYER, _text, memo=True),
        _Column(COL_INCOME, _income_fen, memo=True),
        _Column(COL_ELDERLY, _yes_no, memo=True),
        _Column(COL_DISABLED, _yes_no, memo=True),
        _Column(COL_MOBILITY, _yes_no, memo=True),
    )


_MEMBER_ORDER = tuple(c.header for c in _member_columns(date(2000, 1, 1)))

_LEASE_COLUMNS = (
    _Column(COL_HOUSEHOLD, _text, required=True),
    _Column(COL_UNIT, _unit_code, required=True, memo=True),
    _Column(COL_START, _date, required=True, memo=True),
    _Column(COL_TERM, _months, required=True, memo=True),
    _Column(COL_SIGNED, _date, required=True, memo=True),
    _Column(COL_DEPOSIT, _deposit_fen, memo=True),
    _Column(COL_TIER, _tier, required=True, memo=True),
    _Column(COL_OVERRIDE, _text),
    _Column(COL_FILED, _date, memo=True),
    _Column(COL_FILING_REF, _text),
)
_LEASE_ORDER = tuple(c.header for c in _LEASE_COLUMNS)
assert set(_MEMBER_ORDER) == {c.header for c in MEMBER_COLUMNS}, "every template column is read"
assert set(_LEASE_ORDER) == {c.header for c in LEASE_COLUMNS}, "every template column is read"
_GROUPS = (SpecialGroup.ELDERLY_ALONE, SpecialGroup.DISABLED, SpecialGroup.MOBILITY_IMPAIRED)


def _members(
    rows: Iterator[tuple[int, list[Any]]], today: date, problems: list[ImportProblem]
) -> list[_Member]:
    columns = _member_columns(today)
    memos = _memos(columns)
    members = []
    for row, values in rows:
        key, unit, name, relation, ident, phone, employer, income, *flags = _cells(
            MEMBER_SHEET, row, values, columns, memos, problems
        )
        if phone is None and _blank(values[5]):
            phone = ""
        if income is not None and income < 0:
            problems.append(ImportProblem(MEMBER_SHEET, row, COL_INCOME, "年收入不能为负数。"))
        members.append(
            _Member(
                row=row,
                key=key,
                unit=unit,
                name=name,
                relation=relation,
                ident=ident,
                phone=phone,
                employer=employer or "",
                income_fen=income,
                groups=frozenset(g for g, flag in zip(_GROUPS, flags, strict=True) if flag),
            )
        )
    return members


def _leases(rows: Iterator[tuple[int, list[Any]]], problems: list[ImportProblem]) -> list[_LeaseRow]:
    memos = _memos(_LEASE_COLUMNS)
    leases = []
    for row, values in rows:
        key, unit, start, term, signed, deposit, tier, override, filed_on, filing_ref = _cells(
            LEASE_SHEET, row, values, _LEASE_COLUMNS, memos, problems
        )
        if deposit is not None and deposit < 0:
            problems.append(ImportProblem(LEASE_SHEET, row, COL_DEPOSIT, "押金不能为负数。"))
            deposit = None
        elif deposit is None and _blank(values[5]):
            deposit = 0
        leases.append(
            _LeaseRow(
                row=row,
                key=key,
                unit=unit,
                start=start,
                term=term,
                signed=signed,
                deposit_fen=deposit,
                tier=tier,
                override=override or "",
                filed_on=filed_on,
                filing_ref=filing_ref or "",
                end=None if start is None or term is None else lease_end(start, term),
            )
        )
    return leases


# ------------------------------------------------------------------------------------- checking the file


@dataclass
class _Household:
    key: str
    members: list[_Member]
    lease: _LeaseRow
    unit_id: uuid.UUID | None = None
    unit_status: str = ""
    gross_area: int = 0
    rate_fen: int = 0
    clean: bool = True  # no problem found in any of its rows


@dataclass(frozen=True)
class _UnitInfo:
    id: uuid.UUID
    code: str
    status: str
    gross_area: int


_Report = Callable[[str, int, str, str], None]


def _plan(
    session: Session,
    read_members: list[_Member] | None,
    read_leases: list[_LeaseRow] | None,
    today: date,
    rules: LeaseRules,
    problems: list[ImportProblem],
    warnings: list[ImportProblem],
) -> list[_Household]:
    """Check the rows against each other and against the store; the households to create, in file order."""
    # With one sheet unreadable, every row of the other would look unmatched: say only what is known.
    linked = read_members is not None and read_leases is not None
    members, leases = read_members or [], read_leases or []
    groups: dict[str, list[_Member]] = {}
    for m in members:
        if m.key is not None:
            groups.setdefault(m.key, []).append(m)
    lease_of: dict[str, _LeaseRow] = {}
    for lease in leases:
        if lease.key is not None:
            lease_of.setdefault(lease.key, lease)

    def problem(sheet: str, row: int, column: str, message: str) -> None:
        problems.append(ImportProblem(sheet, row, column, message))

    number_of = people.id_number_indexes(session, {m.ident.number for m in members if m.ident})
    index_of = {number: index for index, number in number_of.items()}
    for m in members:
        if m.ident is not None:
            m.id_index = index_of[m.ident.number]
    registered = _registered_id_numbers(session, number_of)
    _check_people(members, registered, problem)
    _check_households(groups, lease_of, linked, problem)
    units = _units(session)
    standards = _rent_standards(session)
    _check_leases(
        leases,
        set(groups) if linked else None,
        lease_of,
        units,
        _active_leases(session),
        standards,
        today,
        rules,
        problem,
        warnings,
    )
    plan = []
    for key, group in groups.items():
        row = lease_of.get(key)
        if row is None:
            continue
        household = _Household(key, group, row)
        info = units.get(row.unit) if row.unit else None
        if info is not None:
            household.unit_id, household.unit_status, household.gross_area = (
                info.id,
                info.status,
                info.gross_area,
            )
        if row.start and row.tier:
            household.rate_fen = _rate(standards, row.tier, row.start) or 0
        plan.append(household)
    _mark_unclean(plan, problems)
    return plan


def _check_people(members: list[_Member], registered: set[str], problem: _Report) -> None:
    """Each person once: in the file, and not already a current member of a household in the store."""
    seen: dict[str, int] = {}
    for m in members:
        if m.ident is None:
            continue
        number = m.ident.number  # 18 digits, so a 15-digit legacy number meets its converted twin (D3)
        if number in seen:
            problem(
                MEMBER_SHEET,
                m.row,
                COL_ID,
                f"与第 {seen[number]} 行的身份证号相同（{mask_id_number(number)}），同一人只能登记一次。",
            )
        else:
            seen[number] = m.row
        if number in registered:
            problem(
                MEMBER_SHEET,
                m.row,
                COL_ID,
                f"身份证号 {mask_id_number(number)} 已登记在本站另一户中，同一人不能同时属于两户；"
                f"如已搬离请先办理减员。",
            )


def _check_households(
    groups: dict[str, list[_Member]], lease_of: dict[str, _LeaseRow], linked: bool, problem: _Report
) -> None:
    """Each household: exactly one leaseholder, with a phone; one unit; a lease row on that unit."""
    for key, group in groups.items():
        first = group[0]
        holders = [m for m in group if m.relation == LEASEHOLDER_RELATION]
        # An unreadable relation is reported already and might have been the 本人.
        if not holders and all(m.relation is not None for m in group):
            problem(
                MEMBER_SHEET,
                first.row,
                COL_RELATION,
                f"户序号 {key} 没有承租人：请把其中一位成员的“与承租人关系”填为“本人”。",
            )
        for extra in holders[1:]:
            problem(
                MEMBER_SHEET,
                extra.row,
                COL_RELATION,
                f"户序号 {key} 已有承租人（第 {holders[0].row} 行），一户只能有一位“本人”。",
            )
        for holder in holders:
            if holder.phone == "":
                problem(MEMBER_SHEET, holder.row, COL_PHONE, "承租人必须留联系电话。")
        unit = next((m.unit for m in group if m.unit is not None), None)
        for m in group:
            if m.unit is not None and unit is not None and m.unit != unit:
                problem(
                    MEMBER_SHEET, m.row, COL_UNIT, f"同一户（户序号 {key}）的房号应相同，上面填的是 {unit}。"
                )
        own = lease_of.get(key)
        if own is None:
            if linked:
                problem(
                    MEMBER_SHEET,
                    first.row,
                    COL_HOUSEHOLD,
                    f"户序号 {key} 在“{LEASE_SHEET}”表中没有合同行；每户需要一行当前生效的合同。",
                )
        elif own.unit is not None and unit is not None and own.unit != unit:
            problem(
                LEASE_SHEET,
                own.row,
                COL_UNIT,
                f"房号 {own.unit} 与“{MEMBER_SHEET}”表中户序号 {key} 的房号 {unit} 不一致。",
            )


def _check_leases(
    leases: list[_LeaseRow],
    households: set[str] | None,
    lease_of: dict[str, _LeaseRow],
    units: dict[UnitCode, _UnitInfo],
    active: dict[uuid.UUID, tuple[str, date, date]],
    standards: dict[str, list[tuple[date, int]]],
    today: date,
    rules: LeaseRules,
    problem: _Report,
    warnings: list[ImportProblem],
) -> None:
    """Each lease row: its household, a known unit that is free (vacant or reserved, no current lease),
    used once in the file; a term within L1; a rent standard in force (R1); signing and filing (L3) dates
    as sign_lease and record_filing accept them."""
    by_unit: dict[UnitCode, _LeaseRow] = {}
    for lease in leases:
        if households is not None and lease.key is not None and lease.key not in households:
            problem(
                LEASE_SHEET,
                lease.row,
                COL_HOUSEHOLD,
                f"“{MEMBER_SHEET}”表中没有户序号为 {lease.key} 的成员。",
            )
        if lease.key is not None and lease_of[lease.key] is not lease:
            _same_household_twice(lease, lease_of[lease.key], problem)
        if lease.unit is not None:
            earlier = by_unit.setdefault(lease.unit, lease)
            if earlier is not lease and earlier.key != lease.key:
                _same_unit_twice(lease, earlier, problem)
            _check_unit(lease, units.get(lease.unit), active, problem)
        start, end = lease.start, lease.end
        if start is not None and end is not None:
            try:
                for warning in check_term(start, end, rules, lease.override):
                    warnings.append(ImportProblem(LEASE_SHEET, lease.row, COL_OVERRIDE, f"{warning}。"))
            except UserError as exc:
                problem(LEASE_SHEET, lease.row, COL_OVERRIDE, exc.message)
            if end < today:
                warnings.append(
                    ImportProblem(
                        LEASE_SHEET,
                        lease.row,
                        COL_TERM,
                        f"合同已于 {end} 到期，仍按生效合同导入；续租提醒将显示为逾期。",
                    )
                )
        if lease.signed is not None and lease.signed > today:
            problem(LEASE_SHEET, lease.row, COL_SIGNED, "签约日期不能晚于今天。")
        if (
            lease.start is not None
            and lease.tier is not None
            and _rate(standards, lease.tier, lease.start) is None
        ):
            problem(
                LEASE_SHEET,
                lease.row,
                COL_START,
                f"{lease.start} 没有生效的{lease.tier.label}标准，请先录入房管局批准的租金标准。",
            )
        _check_filing(lease, today, problem)


def _check_unit(
    lease: _LeaseRow,
    info: _UnitInfo | None,
    active: dict[uuid.UUID, tuple[str, date, date]],
    problem: _Report,
) -> None:
    if info is None:
        problem(
            LEASE_SHEET,
            lease.row,
            COL_UNIT,
            f"本站没有房号为 {lease.unit} 的房源，请核对栋、单元、楼层和房号。",
        )
        return
    current = active.get(info.id)
    status = UnitStatus(info.status)
    if current is not None:
        lease_no, start, end = current
        problem(
            LEASE_SHEET,
            lease.row,
            COL_UNIT,
            f"房源 {info.code} 还有未结束的合同 {lease_no}（{start} 至 {end}），不能再导入一份；"
            f"如该户已搬离请先办理退出。",
        )
    elif status not in (UnitStatus.VACANT, UnitStatus.RESERVED):
        problem(
            LEASE_SHEET,
            lease.row,
            COL_UNIT,
            f"房源 {info.code} 当前为“{status.label}”，只有空置或预留的房源才能导入合同。",
        )


def _overlap(a: _LeaseRow, b: _LeaseRow) -> bool:
    """Whether two terms share a day; False when either term is unreadable (reported already)."""
    if a.start is None or a.end is None or b.start is None or b.end is None:
        return False
    return b.start <= a.end and a.start <= b.end


def _same_household_twice(lease: _LeaseRow, earlier: _LeaseRow, problem: _Report) -> None:
    if _overlap(lease, earlier):
        problem(
            LEASE_SHEET,
            lease.row,
            COL_START,
            f"与第 {earlier.row} 行同一户（户序号 {lease.key}）的合同租期重叠；一户同一时间只能有一份生效合同。",
        )
    else:
        problem(
            LEASE_SHEET,
            lease.row,
            COL_HOUSEHOLD,
            f"户序号 {lease.key} 在第 {earlier.row} 行已有合同；每户只导入当前生效的一份合同。",
        )


def _same_unit_twice(lease: _LeaseRow, earlier: _LeaseRow, problem: _Report) -> None:
    if _overlap(lease, earlier):
        problem(
            LEASE_SHEET,
            lease.row,
            COL_START,
            f"与第 {earlier.row} 行（户序号 {earlier.key}）在房源 {lease.unit} 上的合同租期重叠；"
            f"一套房源同一时间只能租给一户。",
        )
    else:
        problem(
            LEASE_SHEET,
            lease.row,
            COL_UNIT,
            f"房源 {lease.unit} 在第 {earlier.row} 行已分给户序号 {earlier.key}；两户不能导入到同一套房源。",
        )


def _check_filing(lease: _LeaseRow, today: date, problem: _Report) -> None:
    """L3 filing as record_filing checks it: date and reference together, not before signing, not later than today."""
    has_ref = bool(lease.filing_ref)
    if lease.filed_on is None:
        if has_ref:
            problem(LEASE_SHEET, lease.row, COL_FILED, "填写了备案编号，请同时填写备案日期。")
        return
    if not has_ref:
        problem(LEASE_SHEET, lease.row, COL_FILING_REF, "填写了备案日期，请同时填写房管局的备案编号。")
    if lease.signed is not None and lease.filed_on < lease.signed:
        problem(
            LEASE_SHEET,
            lease.row,
            COL_FILED,
            f"备案日期 {lease.filed_on} 早于签约日期 {lease.signed}，请核对。",
        )
    if lease.filed_on > today:
        problem(LEASE_SHEET, lease.row, COL_FILED, "备案日期不能晚于今天。")


def _mark_unclean(plan: list[_Household], problems: list[ImportProblem]) -> None:
    bad_rows = {(p.sheet, p.row) for p in problems}
    for household in plan:
        household.clean = (LEASE_SHEET, household.lease.row) not in bad_rows and not any(
            (MEMBER_SHEET, m.row) in bad_rows for m in household.members
        )


# One query each, whatever the size of the file: per-row lookups would dominate at bureau scale.


def _units(session: Session) -> dict[UnitCode, _UnitInfo]:
    return {
        UnitCode(b, e, f, r): _UnitInfo(uid, code, status, area)
        for uid, code, b, e, f, r, status, area in session.execute(
            select(
                Unit.id,
                Unit.code,
                Unit.building_no,
                Unit.entrance,
                Unit.floor,
                Unit.room,
                Unit.status,
                Unit.gross_area_hundredths,
            )
        )
    }


def _active_leases(session: Session) -> dict[uuid.UUID, tuple[str, date, date]]:
    return {
        unit_id: (lease_no, start, end)
        for unit_id, lease_no, start, end in session.execute(
            select(Lease.unit_id, Lease.lease_no, Lease.start_date, Lease.end_date).where(
                Lease.status.in_(CURRENT_STATUSES)
            )
        )
    }


def _registered_id_numbers(session: Session, number_of: dict[bytes, str]) -> set[str]:
    """Which of these people (their numbers by keyed hash, people.id_number_indexes) are current members of
    a household already (the check register_household makes one person at a time through services.people)."""
    current = HouseholdMember.left_on.is_(None)
    members_now = session.scalar(select(func.count()).select_from(HouseholdMember).where(current)) or 0
    if members_now <= len(number_of):
        # A file as large as the station (a first import, a bureau ledger): one pass over the current
        # members costs far less than a lookup per person in the file.
        indexes = session.scalars(select(HouseholdMember.id_number_index).where(current))
        return {number_of[index] for index in indexes if index in number_of}
    wanted = sorted(number_of)
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(
            number_of[index]
            for index in session.scalars(
                select(HouseholdMember.id_number_index).where(
                    HouseholdMember.id_number_index.in_(wanted[start : start + _CHUNK]), current
                )
            )
        )
    return found


def _rent_standards(session: Session) -> dict[str, list[tuple[date, int]]]:
    standards: dict[str, list[tuple[date, int]]] = {}
    for tier, since, rate in session.execute(
        select(RentStandard.tier, RentStandard.effective_from, RentStandard.rate_fen_per_m2).order_by(
            RentStandard.effective_from
        )
    ):
        standards.setdefault(tier, []).append((since, rate))
    return standards


def _rate(standards: dict[str, list[tuple[date, int]]], tier: RentTier, on: date) -> int | None:
    """The rate in force on a date, as services.leases.rent_standard_in_force picks it."""
    versions = standards.get(tier.value, [])
    position = bisect_right([since for since, _ in versions], on)
    return versions[position - 1][1] if position else None


# --------------------------------------------------------------------------------------------- writing


def _write_with_services(
    session: Session, plan: list[_Household], operator: str, rules: LeaseRules, problems: list[ImportProblem]
) -> None:
    """Each household through the station's services, in its own savepoint so that a refusal of one is
    recorded as a problem of its rows and the others are still checked."""
    for household in plan:
        if not household.clean:
            continue
        lease = household.lease
        assert lease.unit and lease.start and lease.term and lease.signed and lease.tier
        savepoint = session.begin_nested()
        step = MEMBER_SHEET
        try:
            household_id = register_household(
                session,
                HouseholdInput(members=[_member_input(m) for m in household.members], rent_tier=lease.tier),
            )
            step = LEASE_SHEET
            lease_id = sign_lease(
                session,
                SignLease(
                    household_id=household_id,
                    unit_code=str(lease.unit),
                    start=lease.start,
                    term_months=lease.term,
                    deposit=str(fen_to_decimal(lease.deposit_fen or 0)),
                    signed_on=lease.signed,
                    override_reason=lease.override,
                ),
                operator,
                rules,
            )
            if lease.filed_on is not None:
                signed = session.get(Lease, lease_id)
                assert signed is not None
                record_filing(session, signed.lease_no, lease.filed_on, lease.filing_ref)
            session.flush()
        except UserError as exc:
            savepoint.rollback()
            problems.append(_service_problem(household, step, exc))
            continue
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()


_MEMBER_POSITION = re.compile(r"^第 (\d+) 位成员")


def _service_problem(household: _Household, step: str, exc: UserError) -> ImportProblem:
    """A service's refusal, placed on the row it concerns (the member it names, or the lease row)."""
    if step == LEASE_SHEET:
        return ImportProblem(LEASE_SHEET, household.lease.row, "", exc.message)
    row = household.members[0].row
    match = _MEMBER_POSITION.match(exc.message)
    if match and 1 <= int(match.group(1)) <= len(household.members):
        row = household.members[int(match.group(1)) - 1].row
    return ImportProblem(MEMBER_SHEET, row, "", exc.message)


def _member_input(m: _Member) -> MemberInput:
    assert m.name and m.relation and m.ident
    return MemberInput(
        name=m.name,
        relation=m.relation,
        id_number=m.ident.number,
        phone=m.phone or "",
        employer=m.employer,
        annual_income="" if m.income_fen is None else str(fen_to_decimal(m.income_fen)),
        groups=m.groups,
    )


_HOUSEHOLD_FIELDS = ("id", "rent_tier", "notes", "is_demo", "created_at", "updated_at")
_MEMBER_FIELDS = (
    "id",
    "household_id",
    "position",
    "name",
    "relation",
    "is_leaseholder",
    "sex",
    "birth_date",
    "id_kind",
    "id_number_sealed",
    "id_number_index",
    "phone_sealed",
    "employer",
    "profile_sealed",
    "joined_on",
)
_LEASE_FIELDS = (
    "id",
    "lease_no",
    "version",
    "household_id",
    "unit_id",
    "status",
    "signed_on",
    "start_date",
    "effective_from",
    "end_date",
    "rent_tier",
    "rate_fen_per_m2",
    "gross_area_hundredths",
    "monthly_rent_fen",
    "deposit_fen",
    "term_override_reason",
    "filed_on",
    "filing_ref",
    "end_kind",
    "end_reason",
    "change_note",
    "operator",
    "created_at",
)
_EVENT_FIELDS = ("id", "unit_id", "kind", "from_status", "to_status", "reason", "operator", "occurred_at")


def _write_in_bulk(session: Session, plan: list[_Household], operator: str, today: date) -> None:
    """The records the services make (household, members, lease, 异动, unit status, change journal), one
    executemany per table. Only called for a file that passed every check above, and those are the checks
    register_household, sign_lease and record_filing make.

    Values are put in the rows in the form the models' column types store them (_execute_many passes them
    to SQLite as they are): UUIDs as Uuid's 32 hex digits, dates as Date's YYYY-MM-DD, the one timestamp
    as UTCDateTime's bind processors make it. Converting 600,000 values through the type processors cost
    more than a second at 50,000 households."""
    journal_operator = session.info.get("operator")
    if not journal_operator:
        raise RuntimeError("a write to a journaled table needs session.info['operator']")
    moment = session.info["clock"].now()
    now = stored_value("household", "created_at", moment)
    joined_on = stored_value("household_member", "joined_on", today)
    station_code = require_station(session).code
    last_number = _last_lease_numbers(
        session, station_code, {h.lease.signed.year for h in plan if h.lease.signed}
    )
    occupied = UnitStatus.OCCUPIED.value
    active = LeaseStatus.ACTIVE.value
    sealer = session_keys(session).sealer()
    household_ids = iter(new_ids(len(plan)))
    member_ids = iter(new_ids(sum(len(h.members) for h in plan)))
    lease_ids = iter(new_ids(len(plan)))
    event_ids = iter(new_ids(len(plan)))
    households: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    leases: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    units: list[tuple[Any, ...]] = []
    # (table, record id, operation) in the order the services would journal them.
    journal: list[tuple[str, str, str]] = []
    for h in plan:
        lease = h.lease
        assert lease.start and lease.signed and lease.tier and lease.end and h.unit_id
        household_id = next(household_ids)
        tier = lease.tier.value
        households.append((household_id, tier, "", False, now, now))
        journal.append(("household", household_id, "insert"))
        for position, m in enumerate(h.members, start=1):
            assert m.name and m.relation and m.ident
            member_id = next(member_ids)
            ident = m.ident
            # Sealed as services.people.store_* seal them (the same function makes the values).
            sealed = people.sealed_member_values(
                sealer, member_id, ident.number, m.phone or "", m.income_fen, frozenset(m.groups), m.id_index
            )
            members.append(
                (
                    member_id,
                    household_id,
                    position,
                    m.name,
                    m.relation,
                    m.relation == LEASEHOLDER_RELATION,
                    ident.sex.value,
                    ident.birth_date.isoformat(),
                    ident.kind.value,
                    sealed["id_number_sealed"],
                    sealed["id_number_index"],
                    sealed["phone_sealed"],
                    m.employer,
                    sealed["profile_sealed"],
                    joined_on,
                )
            )
            journal.append(("household_member", member_id, "insert"))
        year = lease.signed.year
        last_number[year] += 1
        lease_no = f"{station_code}-{year}-{last_number[year]:04d}"
        lease_id = next(lease_ids)
        unit_id = h.unit_id.hex
        start = lease.start.isoformat()
        leases.append(
            (
                lease_id,
                lease_no,
                1,
                household_id,
                unit_id,
                active,
                lease.signed.isoformat(),
                start,
                start,
                lease.end.isoformat(),
                tier,
                h.rate_fen,
                h.gross_area,
                monthly_rent_fen(h.gross_area, h.rate_fen),
                lease.deposit_fen or 0,
                lease.override.strip(),
                None if lease.filed_on is None else lease.filed_on.isoformat(),
                lease.filing_ref.strip(),
                "",
                "",
                "签订",
                operator,
                now,
            )
        )
        journal.append(("lease", lease_id, "insert"))
        current = UnitStatus(h.unit_status)
        reason = MOVE_IN_REASON.format(lease_no=lease_no)
        kind = change_kind(current, UnitStatus.OCCUPIED, reason)
        units.append((occupied, now, unit_id))
        journal.append(("unit", unit_id, "update"))
        event_id = next(event_ids)
        events.append((event_id, unit_id, kind.value, current.value, occupied, reason, operator, now))
        journal.append(("change_event", event_id, "insert"))

    connection = session.connection()
    with page_cache(connection, _BULK_CACHE_KIB):
        execute_many(connection, "household", _HOUSEHOLD_FIELDS, households)
        execute_many(connection, "household_member", _MEMBER_FIELDS, members)
        execute_many(connection, "lease", _LEASE_FIELDS, leases)
        execute_many(connection, "unit", ("status", "updated_at", "id"), units, update_where="id")
        execute_many(connection, "change_event", _EVENT_FIELDS, events)
        execute_many(
            connection,
            "change_journal",
            ("table_name", "record_id", "operation"),
            journal,
            constants={
                "station_id": session.info.get("station_id"),
                "operator": journal_operator,
                "recorded_at": moment,
            },
        )
    # Units or leases this session had loaded no longer match the rows.
    session.expire_all()


def _last_lease_numbers(session: Session, station_code: str, years: set[int]) -> dict[int, int]:
    """The last lease number used in each signing year (numbers are {station}-{year}-{n:04d})."""
    last: dict[int, int] = {}
    for year in years:
        prefix = f"{station_code}-{year}-"
        numbers = [
            int(tail)
            for lease_no in session.scalars(select(Lease.lease_no).where(Lease.lease_no.startswith(prefix)))
            if (tail := lease_no.removeprefix(prefix)).isdigit()
        ]
        last[year] = max(numbers, default=0)
    return last
