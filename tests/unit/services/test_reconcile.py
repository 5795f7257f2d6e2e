"""Bank reconciliation: reading statements as banks export them, importing a month, matching, confirming.

The demo estate may carry its own payments; the amounts used here (odd fen) cannot be anybody's rent, so
matching by amount and date only ever sees the payments a test makes.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.billing import Channel, Period
from yuexiu_desk.domain.money import format_yuan
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import billing
from yuexiu_desk.services import reconcile as svc
from yuexiu_desk.services.billing import next_number
from yuexiu_desk.storage.billing_models import MoneyVoid, MonthClose, Payment, Setting, StatementLine
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Lease, Unit

OCT = Period(2026, 10)
NOV = Period(2026, 11)
HEADER = ["交易日期", "交易流水号", "对方户名", "借方金额", "贷方金额", "余额", "摘要"]
TITLE: list[list[Any]] = [
    ["中国建设银行单位账户交易明细"],
    ["账号：6217 0000 0000 0000 001", None, "户名：悦秀苑公租房服务站"],
    [],
]
FIRST_ROW = len(TITLE) + 2  # the file row of a statement's first line, under the title and the header


# ---- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def store(demo_store: Store) -> Store:
    """The demo estate with October and November billed, so payments have open bills to pay."""
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.run_bills(session, OCT, "财务")
        billing.run_bills(session, NOV, "财务")
    return demo_store


def unit_codes(store: Store, count: int) -> list[str]:
    with store.read() as session:
        query = (
            select(Unit.code)
            .join(Lease, Lease.unit_id == Unit.id)
            .where(Lease.status == "active")
            .order_by(Unit.code)
            .distinct()
        )
        return list(session.scalars(query))[:count]


def pay(store: Store, unit: str, amount: str, channel: Channel, paid_on: date, reference: str = "") -> str:
    data = billing.PaymentInput(unit, amount, channel, reference=reference, paid_on=paid_on)
    with store.unit_of_work(system_operator("财务")) as session:
        return billing.record_payment(session, data, "财务").receipt_no


def write_xlsx(path: Path, header: Sequence[Any], rows: Sequence[Sequence[Any]], title: bool = True) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [*(TITLE if title else []), list(header), *rows]:
        sheet.append(list(row))
    book.save(path)
    return path


def write_csv(
    path: Path, header: Sequence[Any], rows: Sequence[Sequence[Any]], encoding: str, delimiter: str = ","
) -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        for row in [*TITLE, list(header), *rows]:
            writer.writerow(["" if cell is None else cell for cell in row])
    return path


def line(booked: str, ref: str, who: str, credit: Any, summary: str = "", debit: Any = None) -> list[Any]:
    return [booked, ref, who, debit, credit, "99,999.00", summary]


def month_lines(store: Store, period: Period, skip: Sequence[str] = ()) -> list[list[Any]]:
    """A statement line for every payment of the month that came through the bank, as the bank books it."""
    with store.read() as session:
        voided = select(MoneyVoid.payment_id).where(MoneyVoid.payment_id.is_not(None))
        payments = session.scalars(
            select(Payment)
            .where(
                Payment.paid_on >= period.first_day,
                Payment.paid_on <= period.last_day,
                Payment.channel.in_([c.value for c in Channel if c.via_bank]),
                Payment.id.not_in(voided),
                Payment.receipt_no.not_in(skip),
            )
            .order_by(Payment.paid_on, Payment.receipt_no)
        )
        return [
            line(str(p.paid_on), p.reference, p.payer, format_yuan(p.amount_fen), "房租") for p in payments
        ]


def import_(
    store: Store, path: Path, period: Period = OCT, mapping: dict[str, str] | None = None
) -> svc.ImportResult:
    with store.unit_of_work(system_operator("财务")) as session:
        return svc.import_statement(session, path, period, "财务", mapping)


def state(store: Store, period: Period = OCT) -> svc.Reconciliation:
    with store.read() as session:
        return svc.reconciliation(session, period)


def confirm_all(store: Store, period: Period) -> int:
    with store.unit_of_work(system_operator("财务")) as session:
        return svc.confirm_matches(session, period, None, "财务")


def line_count(store: Store, period: str = "2026-10") -> int:
    """Statement lines of the month (the demo's earlier months come with their statements)."""
    with store.read() as session:
        return int(
            session.scalar(select(func.count(StatementLine.id)).where(StatementLine.period == period)) or 0
        )


def line_id(store: Store, amount_fen: int) -> uuid.UUID:
    with store.read() as session:
        found = session.scalar(select(StatementLine.id).where(StatementLine.amount_fen == amount_fen))
    assert found is not None
    return found


@dataclass
class October:
    """The payments of the main scenario, by what the statement should make of them."""

    by_reference: str
    by_amount_date: str
    twins: tuple[str, str]  # two payments of the same amount a day apart: ambiguous
    cash: str
    voided: str
    in_summary: str

    @property
    def receipts(self) -> set[str]:
        return {self.by_reference, self.by_amount_date, *self.twins, self.cash, self.voided, self.in_summary}


@pytest.fixture
def october(store: Store) -> October:
    u = unit_codes(store, 7)
    result = October(
        by_reference=pay(store, u[0], "604.39", Channel.WECHAT, date(2026, 10, 5), "wx4200001234567890"),
        by_amount_date=pay(store, u[1], "301.17", Channel.BANK_TRANSFER, date(2026, 10, 10)),
        twins=(
            pay(store, u[2], "251.13", Channel.BANK_TRANSFER, date(2026, 10, 15)),
            pay(store, u[3], "251.13", Channel.BANK_TRANSFER, date(2026, 10, 16)),
        ),
        cash=pay(store, u[4], "121.19", Channel.CASH, date(2026, 10, 20)),
        voided=pay(store, u[5], "88.07", Channel.WECHAT, date(2026, 10, 22), "WXVOID0001"),
        in_summary=pay(store, u[6], "151.23", Channel.ALIPAY, date(2026, 10, 25), "2026102522001"),
    )
    with store.unit_of_work(system_operator("财务")) as session:
        billing.void_payment(session, result.voided, "重复收款", "财务")
    return result


OCTOBER_LINES = [
    line("2026-10-05", "WX4200001234567890 ", "张三", "604.39", "微信转账"),
    line("2026-10-11", "B0002", "李四", "301.17", "房租"),
    line("2026-10-16", "B0003", "王五", "251.13", "房租"),
    line("2026-10-20", "B0004", "赵六", "121.19", "房租"),
    line("2026-10-22", "WXVOID0001", "钱七", "88.07", "微信转账"),
    line("2026-10-25", "B0009", "孙八", "151.23", "支付宝转账 2026102522001"),
    line("2026-10-26", "B0010", "", None, "手续费", debit="5.00"),
]


# ---- matching ---------------------------------------------------------------------------------------


def test_xlsx_with_title_rows_matches_by_reference_then_amount_and_date(
    store: Store, october: October, tmp_path: Path
) -> None:
    footer = ["合计", None, None, "5.00", "1,517.18"]
    result = import_(store, write_xlsx(tmp_path / "10月流水.xlsx", HEADER, [*OCTOBER_LINES, footer]))

    assert (result.credits, result.added, result.duplicates, result.debits) == (6, 6, 0, 1)
    assert result.mapping_from == "auto"
    assert dict(result.columns)["amount"] == "贷方金额"
    assert (result.match.by_reference, result.match.by_amount_date) == (2, 1)
    assert (result.match.ambiguous, result.match.unmatched) == (1, 3)

    now = state(store)
    matched = {p.receipt_no: (p.line.line_no, p.matched_by, p.confirmed) for p in now.pairs}
    assert matched == {
        october.by_reference: (FIRST_ROW, "reference", False),  # case and spaces of a reference do not count
        october.by_amount_date: (FIRST_ROW + 1, "amount_date", False),  # booked the day after it was taken
        october.in_summary: (FIRST_ROW + 5, "reference", False),  # the reference is written in the 摘要
    }
    assert {v.amount_fen for v in now.unmatched_lines} == {25113, 12119, 8807}
    # The cash payment is never on the statement; the voided one no longer counts.
    unmatched = {p.receipt_no for p in now.unmatched_payments}
    assert unmatched & october.receipts == set(october.twins)
    assert now.statement_fen == 60439 + 30117 + 25113 + 12119 + 8807 + 15123
    assert now.in_transit_fen == 0
    assert not now.reconciles
    text = svc.describe(now)
    assert "未对平" in text and october.twins[0] in text and f"第 {FIRST_ROW + 3} 行" in text
    assert "流水号相同 2 笔，金额日期相符 1 笔" in svc.describe_import(result)
    json.dumps(now.as_json(), ensure_ascii=False)


def test_ambiguous_amount_stays_unmatched_until_a_person_picks(
    store: Store, october: October, tmp_path: Path
) -> None:
    import_(store, write_xlsx(tmp_path / "s.xlsx", HEADER, OCTOBER_LINES))
    twin_line = line_id(store, 25113)
    with store.unit_of_work(system_operator("财务")) as session:
        svc.match_manually(session, twin_line, october.twins[1].lower(), "财务")
    now = state(store)
    pair = next(p for p in now.pairs if p.line.line_id == twin_line)
    assert (pair.receipt_no, pair.matched_by, pair.confirmed, pair.difference_fen) == (
        october.twins[1],
        "manual",
        True,
        0,
    )
    unmatched = {p.receipt_no for p in now.unmatched_payments}
    assert unmatched & october.receipts == {october.twins[0]}


def test_manual_match_refuses_cash_voided_and_taken_payments(
    store: Store, october: October, tmp_path: Path
) -> None:
    import_(store, write_xlsx(tmp_path / "s.xlsx", HEADER, OCTOBER_LINES))
    cash_line = line_id(store, 12119)
    cases = [
        (october.cash, "现金收款，不经过银行账户"),
        (october.voided, "已作废"),
        (october.by_amount_date, "已与 2026-10-11 的流水"),
    ]
    for receipt, message in cases:
        with pytest.raises(UserError, match=message), store.unit_of_work(system_operator("财务")) as session:
            svc.match_manually(session, cash_line, receipt, "财务")
    with (
        pytest.raises(UserError, match="已经匹配了收款"),
        store.unit_of_work(system_operator("财务")) as session,
    ):
        svc.match_manually(session, line_id(store, 30117), october.twins[0], "财务")


def test_manual_match_with_a_different_amount_shows_the_difference(
    store: Store, october: October, tmp_path: Path
) -> None:
    import_(store, write_xlsx(tmp_path / "s.xlsx", HEADER, OCTOBER_LINES))
    with store.unit_of_work(system_operator("财务")) as session:
        svc.match_manually(session, line_id(store, 12119), october.twins[0], "财务")
    now = state(store)
    assert [(p.receipt_no, p.difference_fen) for p in now.differing] == [(october.twins[0], -12994)]
    assert "差额 -129.94 元" in svc.describe(now)
    with store.unit_of_work(system_operator("财务")) as session:
        svc.unmatch(session, line_id(store, 12119), "财务")
    assert not state(store).differing
    with (
        pytest.raises(UserError, match="没有匹配收款"),
        store.unit_of_work(system_operator("财务")) as session,
    ):
        svc.unmatch(session, line_id(store, 12119), "财务")


def test_reconciles_only_when_everything_is_matched_and_confirmed(store: Store, tmp_path: Path) -> None:
    u = unit_codes(store, 3)
    pay(store, u[0], "604.39", Channel.WECHAT, date(2026, 10, 5), "WX100")
    transfer = pay(store, u[1], "301.17", Channel.BANK_TRANSFER, date(2026, 10, 10))
    pay(store, u[2], "99.01", Channel.CASH, date(2026, 10, 12))  # cash never needs a statement line
    rows = month_lines(store, OCT, skip=[transfer])
    rows.append(
        line("2026-10-11", "B2", "李四", "301.17")
    )  # the bank's own number: matched by amount and date
    result = import_(store, write_xlsx(tmp_path / "s.xlsx", HEADER, rows))
    assert result.match.unmatched == 0 and result.match.by_amount_date == 1

    now = state(store)
    assert len(now.pairs) == len(rows) and not now.unmatched_payments and now.difference_fen == 0
    assert not now.reconciles  # proposals until a person confirms them
    with store.unit_of_work(system_operator("财务")) as session:
        assert svc.confirm_matches(session, OCT, [line_id(store, 30117)], "财务") == 1
    assert len(state(store).unconfirmed) == len(rows) - 1
    assert confirm_all(store, OCT) == len(rows) - 1
    now = state(store)
    assert now.reconciles and not now.unconfirmed
    assert "已对平" in svc.describe(now)

    late = pay(store, u[0], "10.01", Channel.WECHAT, date(2026, 10, 30), "WX101")
    assert [p.receipt_no for p in state(store).unmatched_payments] == [late]
    assert not state(store).reconciles


def test_confirm_refuses_lines_that_are_not_matched(store: Store, october: October, tmp_path: Path) -> None:
    import_(store, write_xlsx(tmp_path / "s.xlsx", HEADER, OCTOBER_LINES))
    with (
        pytest.raises(UserError, match="还没有匹配收款"),
        store.unit_of_work(system_operator("财务")) as session,
    ):
        svc.confirm_matches(session, OCT, [line_id(store, 12119)], "财务")
    with (
        pytest.raises(UserError, match="不属于2026年11月"),
        store.unit_of_work(system_operator("财务")) as session,
    ):
        svc.confirm_matches(session, NOV, [line_id(store, 30117)], "财务")


def test_a_payment_voided_after_matching_releases_its_line(store: Store, tmp_path: Path) -> None:
    (unit,) = unit_codes(store, 1)
    receipt = pay(store, unit, "301.17", Channel.BANK_TRANSFER, date(2026, 10, 10))
    import_(store, write_xlsx(tmp_path / "s.xlsx", HEADER, [line("2026-10-10", "B1", "李四", "301.17")]))
    confirm_all(store, OCT)
    with store.unit_of_work(system_operator("财务")) as session:
        billing.void_payment(session, receipt, "录错户", "财务")
    now = state(store)
    assert not now.pairs and not now.reconciles
    assert [v.voided_receipt_no for v in now.unmatched_lines] == [receipt]
    assert f"原匹配收据 {receipt} 已作废" in svc.describe(now)
    with store.unit_of_work(system_operator("财务")) as session:
        assert svc.match_month(session, OCT, "财务").released == 1
    assert [v.voided_receipt_no for v in state(store).unmatched_lines] == [""]


def test_a_transfer_booked_in_the_next_month_is_in_transit_not_a_difference(
    store: Store, tmp_path: Path
) -> None:
    (unit,) = unit_codes(store, 1)
    receipt = pay(store, unit, "401.07", Channel.WECHAT, date(2026, 10, 31))
    november = [*month_lines(store, NOV), line("2026-11-02", "B9", "周九", "401.07")]
    result = import_(store, write_xlsx(tmp_path / "11.xlsx", HEADER, november), NOV)
    assert result.match.by_amount_date == 1 and result.match.unmatched == 0
    import_(store, write_xlsx(tmp_path / "10.xlsx", HEADER, month_lines(store, OCT, skip=[receipt])))

    in_october = state(store, OCT)
    assert receipt in {p.receipt_no for p in in_october.pairs} and not in_october.unmatched_payments
    assert (in_october.difference_fen, in_october.in_transit_fen, in_october.unexplained_fen) == (
        -40107,
        -40107,
        0,
    )
    confirm_all(store, OCT)
    assert not state(store, OCT).reconciles  # the November side of the pair is not confirmed yet
    confirm_all(store, NOV)
    in_november = state(store, NOV)
    assert (in_november.in_transit_fen, in_november.unexplained_fen) == (40107, 0)
    assert in_november.reconciles and state(store, OCT).reconciles


# ---- importing --------------------------------------------------------------------------------------


def test_importing_the_same_statement_again_adds_nothing(
    store: Store, october: October, tmp_path: Path
) -> None:
    # Two identical lines in one statement (the same person paying twice the same day) are both kept.
    rows = [*OCTOBER_LINES, line("2026-10-28", "", "周九", "50.03"), line("2026-10-28", "", "周九", "50.03")]
    path = write_xlsx(tmp_path / "s.xlsx", HEADER, rows)
    first = import_(store, path)
    again = import_(store, path)
    assert (first.added, again.added, again.duplicates) == (8, 0, 8)
    assert line_count(store) == 8
    assert "新增 0 笔，已导入过 8 笔" in svc.describe_import(again)
    # The same lines exported as csv are the same lines.
    assert import_(store, write_csv(tmp_path / "s.csv", HEADER, rows, "utf-8-sig")).added == 0


def test_lines_of_other_months_are_reported_not_stored(store: Store, tmp_path: Path) -> None:
    rows = [
        line("2026-09-30", "B1", "张三", "100.01"),
        line("2026-10-01", "B2", "李四", "200.01"),
        line("2026-11-02", "B3", "王五", "300.01"),
        line("2026-11-03", "B4", "赵六", "400.01"),
    ]
    result = import_(store, write_xlsx(tmp_path / "s.xlsx", HEADER, rows))
    assert (result.added, result.outside, result.outside_periods) == (1, 3, ("2026-09", "2026-11"))
    assert "另有 3 笔不属于2026年10月" in svc.describe_import(result)
    assert line_count(store) == 1


def test_gbk_csv_with_separate_debit_and_credit_columns(
    store: Store, october: October, tmp_path: Path
) -> None:
    result = import_(store, write_csv(tmp_path / "gbk.csv", HEADER, OCTOBER_LINES, "gbk"))
    assert (result.added, result.debits, result.match.matched) == (6, 1, 3)
    with store.read() as session:
        names = set(
            session.scalars(select(StatementLine.counterparty).where(StatementLine.period == "2026-10"))
        )
    assert {"张三", "孙八"} <= names


def test_utf8_bom_csv_with_a_signed_amount_column(store: Store, tmp_path: Path) -> None:
    header = ["记账日期", "凭证号", "付款人", "交易金额(元)", "用途"]
    rows = [
        ["2026/10/05 09:12:30", "V1", "张三", "1,604.34", "房租"],
        ["20261006", "V2", "", "-12.00", "手续费"],
        ["2026年10月7日", "V3", "李四", "+300", "房租"],
    ]
    result = import_(store, write_csv(tmp_path / "bom.csv", header, rows, "utf-8-sig"))
    assert (result.added, result.debits) == (2, 1)
    with store.read() as session:
        query = (
            select(StatementLine.booked_on, StatementLine.amount_fen)
            .where(StatementLine.period == "2026-10")
            .order_by(StatementLine.line_no)
        )
        assert [tuple(r) for r in session.execute(query)] == [
            (date(2026, 10, 5), 160434),
            (date(2026, 10, 7), 30000),
        ]


def test_tab_separated_csv_with_a_direction_flag(tmp_path: Path) -> None:
    header = ["交易日", "流水号", "对方户名", "金额", "借贷标志", "摘要"]
    rows = [
        ["2026-10-05", "T1", "张三", "604.34", "贷", ""],
        ["2026-10-06", "T2", "", "5.00", "借", "手续费"],
    ]
    read = svc.read_statement(write_csv(tmp_path / "t.csv", header, rows, "gb18030", "\t"))
    assert [(r.reference, r.amount_fen) for r in read.rows] == [("T1", 60434)]
    assert read.debits == 1


def test_excel_cells_dates_and_floats_are_read_exactly(tmp_path: Path) -> None:
    header = ["交易时间", "流水号", "收入金额", "支出金额", "附言", "备注"]
    rows = [
        [datetime(2026, 10, 5, 9, 30), 4200001234, 604.34, None, "房租", "1-1-101"],
        [20261006, "X2", 0.1 + 0.2, None, None, None],
        [46300.75, "X3", 1234, None, None, None],  # an Excel day number without a date format
        ["2026.10.08 08:00", "X4", "1，000.5", None, None, None],
        [date(2026, 10, 9), "X5", None, 20.0, "转出", None],
    ]
    read = svc.read_statement(write_xlsx(tmp_path / "x.xlsx", header, rows, title=False))
    assert [(r.booked_on, r.amount_fen, r.reference) for r in read.rows] == [
        (date(2026, 10, 5), 60434, "4200001234"),
        (date(2026, 10, 6), 30, "X2"),
        (date(2026, 10, 5), 123400, "X3"),
        (date(2026, 10, 8), 100050, "X4"),
    ]
    assert read.rows[0].summary == "房租；1-1-101"  # every purpose column is kept
    assert (read.header_row, read.debits) == (1, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-05", date(2026, 10, 5)),
        ("2026/10/5", date(2026, 10, 5)),
        ("20261005", date(2026, 10, 5)),
        ("20261005 101500", date(2026, 10, 5)),
        ("2026-10-05T10:15:00", date(2026, 10, 5)),
        ("2026年10月5日 10:15", date(2026, 10, 5)),
        ('="2026-10-05"', date(2026, 10, 5)),
        ("2026-13-01", None),
        ("10/05/2026", None),
        ("合计", None),
    ],
)
def test_parse_booked_on(text: str, expected: date | None) -> None:
    assert svc.parse_booked_on(text) == expected


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("1,234.50", 123450),
        ("￥88", 8800),
        (" -5.00 ", -500),
        (604.34, 60434),
        (7, 700),
        ("", None),
        ("--", None),
    ],
)
def test_parse_amount_fen(value: Any, fen: int | None) -> None:
    assert svc.parse_amount_fen(value) == fen


def test_bad_amount_and_date_name_row_and_column_and_nothing_is_imported(
    store: Store, october: October, tmp_path: Path
) -> None:
    rows = [
        *OCTOBER_LINES[:2],
        line("2026-10-07", "B5", "周九", "12,3x"),
        line("2026-13-01", "B6", "吴十", "10.00"),
        line("2026-10-08", "B7", "郑一", "10.005"),
        line("", "B8", "王一", "10.00"),
        ["共 5 笔", None, None, None, "1,000.00"],
    ]
    with pytest.raises(UserError) as caught:
        import_(store, write_csv(tmp_path / "bad.csv", HEADER, rows, "gbk"))
    message = caught.value.message
    assert "“bad.csv”" in message and "未导入任何一行" in message
    assert f"第 {FIRST_ROW + 2} 行“贷方金额”列“12,3x”不是金额" in message
    assert f"第 {FIRST_ROW + 3} 行“交易日期”列“2026-13-01”不是日期" in message
    assert f"第 {FIRST_ROW + 4} 行“贷方金额”列“10.005”超过两位小数" in message
    assert f"第 {FIRST_ROW + 5} 行“交易日期”列为空" in message
    assert f"第 {FIRST_ROW + 6} 行" not in message  # the count under the table is no transaction
    assert line_count(store) == 0


def test_many_problems_are_listed_up_to_ten(store: Store, tmp_path: Path) -> None:
    rows = [line("2026-10-05", f"B{i}", "", "x") for i in range(12)]
    with pytest.raises(UserError) as caught:
        import_(store, write_xlsx(tmp_path / "bad.xlsx", HEADER, rows))
    assert caught.value.message.count("不是金额") == 10
    assert "等 12 处" in caught.value.message


ODD_HEADER = ["入账日", "收款额", "汇款人", "说明文字"]


def test_missing_columns_say_which_and_how_to_map(store: Store, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "odd.xlsx", ODD_HEADER, [["2026-10-05", "604.34", "张三", ""]])
    with pytest.raises(UserError) as caught:
        import_(store, path)
    message = caught.value.message
    assert "交易日期（booked_on）、金额（amount）列" in message
    assert "入账日、收款额、汇款人、说明文字" in message and "例如 booked_on=" in message
    with pytest.raises(UserError, match="找不到列 “收入”"):
        import_(store, path, mapping={"booked_on": "入账日", "amount": "收入"})
    with pytest.raises(UserError, match="“payer”不是可指定的字段"):
        import_(store, path, mapping={"payer": "汇款人"})
    with pytest.raises(UserError, match=r"认不出金额（amount）列"):
        import_(store, path, mapping={"booked_on": "入账日"})


def test_a_mapping_that_worked_is_remembered_for_the_same_header(store: Store, tmp_path: Path) -> None:
    (unit,) = unit_codes(store, 1)
    receipt = pay(store, unit, "604.39", Channel.BANK_TRANSFER, date(2026, 10, 5))
    first = write_xlsx(tmp_path / "a.xlsx", ODD_HEADER, [["2026-10-05", "604.39", "张三", ""]])
    mapping = {"booked_on": "入账日", "金额": "收款额", "counterparty": "汇款人"}
    result = import_(store, first, mapping=mapping)
    assert result.mapping_from == "given" and result.match.by_amount_date == 1
    with store.read() as session:
        settings = list(session.scalars(select(Setting).where(Setting.key.startswith("statement_mapping:"))))
    assert [json.loads(s.value) for s in settings] == [
        {"amount": "收款额", "booked_on": "入账日", "counterparty": "汇款人"}
    ]

    second = write_csv(tmp_path / "b.csv", ODD_HEADER, [["2026-10-09", "10.01", "李四", "押金"]], "gbk")
    again = import_(store, second)
    assert (again.mapping_from, again.added) == ("remembered", 1)
    assert dict(again.columns)["counterparty"] == "汇款人"
    assert [p.receipt_no for p in state(store).pairs] == [receipt]


def test_unreadable_files_are_refused_clearly(store: Store, tmp_path: Path) -> None:
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UserError, match=r"另存为 \.xlsx"):
        import_(store, old)
    with pytest.raises(UserError, match="找不到文件"):
        import_(store, tmp_path / "none.csv")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="打不开"):
        import_(store, broken)
    garbled = tmp_path / "garbled.csv"
    garbled.write_bytes(b"\x81\x30\xff\xff")
    with pytest.raises(UserError, match="文字编码无法识别"):
        import_(store, garbled)


# ---- closed months ----------------------------------------------------------------------------------


def test_a_closed_month_takes_no_statement_and_keeps_its_confirmed_matches(
    store: Store, tmp_path: Path
) -> None:
    (unit,) = unit_codes(store, 1)
    receipt = pay(store, unit, "301.17", Channel.BANK_TRANSFER, date(2026, 10, 10))
    path = write_xlsx(tmp_path / "s.xlsx", HEADER, [line("2026-10-10", "B1", "李四", "301.17")])
    import_(store, path)
    confirm_all(store, OCT)
    with store.unit_of_work(system_operator("站长")) as session:
        now = session.info["clock"].now()
        session.add(
            MonthClose(
                seq=next_number(session, "month-close"),
                period=str(OCT),
                action="close",
                operator="站长",
                created_at=now,
            )
        )

    with pytest.raises(UserError, match="2026年10月已结账，不能再导入银行流水"):
        import_(store, path)
    for attempt in (
        lambda session: svc.unmatch(session, line_id(store, 30117), "财务"),
        lambda session: svc.match_month(session, OCT, "财务"),
        lambda session: svc.confirm_matches(session, OCT, None, "财务"),
    ):
        with (
            pytest.raises(UserError, match="2026年10月已结账"),
            store.unit_of_work(system_operator("财务")) as session,
        ):
            attempt(session)
    assert [(p.receipt_no, p.confirmed) for p in state(store).pairs] == [(receipt, True)]


def test_references_differing_only_in_case_are_ambiguous(store: Store, tmp_path: Path) -> None:
    u = unit_codes(store, 2)
    pay(store, u[0], "77.01", Channel.WECHAT, date(2026, 10, 5), "wxcase1")
    pay(store, u[1], "77.01", Channel.WECHAT, date(2026, 10, 5), "WXCASE1")
    result = import_(
        store, write_xlsx(tmp_path / "s.xlsx", HEADER, [line("2026-10-05", "WxCase1", "张三", "77.01")])
    )
    assert (result.match.matched, result.match.ambiguous) == (0, 1)
