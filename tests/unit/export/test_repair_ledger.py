"""The repairs ledger as the bureau opens it: one row per order with costs as numbers, a totals line that
adds up, and a statistics sheet with its charts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from yuexiu_desk.errors import UserError
from yuexiu_desk.export.repair_ledger import (
    COST_COLUMN,
    FIRST_DATA_ROW,
    HEADER_ROW,
    HEADERS,
    LEDGER_SHEET,
    STATS_SHEET,
    TOTAL_LABEL,
)
from yuexiu_desk.services import workorders
from yuexiu_desk.storage.db import Store


def test_the_ledger_reads_back_with_numeric_totals_and_a_chart(demo_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "维修台账.xlsx"
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    with demo_store.read() as session:
        stats = workorders.export_ledger(session, start, end, out)
        rows = workorders.ledger_rows(session, start, end)
    assert stats.orders == len(rows) > 100
    book = load_workbook(out)
    ledger = book[LEDGER_SHEET]
    assert [c.value for c in ledger[HEADER_ROW]] == list(HEADERS)
    data = list(
        ledger.iter_rows(min_row=FIRST_DATA_ROW, max_row=FIRST_DATA_ROW + len(rows) - 1, values_only=True)
    )
    assert [r[0] for r in data] == [r.number for r in rows]
    costs = [r[COST_COLUMN - 1] for r in data]
    assert all(isinstance(c, int | float | Decimal) for c in costs)
    total_row = ledger[FIRST_DATA_ROW + len(rows)]
    assert total_row[0].value == TOTAL_LABEL
    total = total_row[COST_COLUMN - 1].value
    assert isinstance(total, int | float) and Decimal(str(total)) == Decimal(stats.cost_fen) / 100
    assert Decimal(str(total)) == sum((Decimal(str(c)) for c in costs), Decimal(0))
    assert isinstance(data[0][1], type(data[0][1])) and data[0][1] is not None
    sheet = book[STATS_SHEET]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=1, values_only=True) if row[0]}
    assert values["报修单数"] == stats.orders
    assert values["响应超时单数"] == stats.response_breaches
    assert values["给排水"] == next(f.orders for f in stats.by_category if f.category.value == "plumbing")
    assert values["夏"] == dict(stats.by_season)["夏"]
    assert len(sheet._charts) == 2


def test_an_empty_period_still_writes_a_ledger_and_a_wrong_suffix_is_refused(
    demo_store: Store, tmp_path: Path
) -> None:
    with demo_store.read() as session:
        stats = workorders.export_ledger(session, date(2020, 1, 1), date(2020, 1, 31), tmp_path / "空.xlsx")
        assert stats.orders == 0
        with pytest.raises(UserError, match=r"应以 \.xlsx 结尾"):
            workorders.export_ledger(session, date(2025, 1, 1), date(2025, 1, 31), tmp_path / "台账.xls")
    ledger = load_workbook(tmp_path / "空.xlsx")[LEDGER_SHEET]
    assert ledger.cell(row=FIRST_DATA_ROW, column=1).value == TOTAL_LABEL
    assert not (tmp_path / "台账.xls").exists()
