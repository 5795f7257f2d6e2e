"""The billing command line as the issue names it: bills run, payments add, arrears, ledger and fund exports."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from yuexiu_desk.cli import main
from yuexiu_desk.paths import StationPaths


@pytest.fixture(autouse=True)
def _finance_clerk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Money commands are the finance clerk's (the permission table): sign in as the demo one."""
    monkeypatch.setenv("YUEXIU_USER", "finance")


def run(capsys: pytest.CaptureFixture[str], paths: StationPaths, *argv: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(paths.root), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def count(paths: StationPaths, table: str) -> int:
    with sqlite3.connect(paths.database) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def a_paid_up_unit(paths: StationPaths) -> str:
    with sqlite3.connect(paths.database) as conn:
        row = conn.execute(
            "SELECT unit.code FROM lease JOIN unit ON unit.id = lease.unit_id "
            "JOIN account ON account.household_id = lease.household_id "
            "WHERE lease.status = 'active' AND account.balance_fen = 0 ORDER BY unit.code LIMIT 1"
        ).fetchone()
    return str(row[0])


def test_bills_run_prints_how_many_and_zero_on_a_rerun(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, demo_paths, "bills", "run", "--month", "2026-11")
    assert code == 0
    created = int(out.split("出账 ")[1].split(" 张")[0])
    with sqlite3.connect(demo_paths.database) as conn:
        active = conn.execute("SELECT count(*) FROM lease WHERE status = 'active'").fetchone()[0]
        billed = conn.execute("SELECT count(*) FROM bill WHERE period = '2026-11'").fetchone()[0]
    assert created == active == billed
    code, out, _ = run(capsys, demo_paths, "bills", "run", "--month", "2026-11")
    assert code == 0 and "0 张" in out
    code, _out, err = run(capsys, demo_paths, "bills", "run", "--month", "2027-03")
    assert code == 2 and "最多只能提前出下个月" in err
    with pytest.raises(SystemExit) as exit_info:
        run(capsys, demo_paths, "bills", "run", "--month", "2026-13")
    assert exit_info.value.code == 2 and "不是账期" in capsys.readouterr().err


def test_payments_add_writes_a_receipt_and_bad_input_changes_nothing(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    unit = a_paid_up_unit(demo_paths)
    run(capsys, demo_paths, "bills", "run", "--month", "2026-11")
    receipt = tmp_path / "收据.pdf"
    code, out, err = run(
        capsys,
        demo_paths,
        "payments",
        "add",
        "--unit",
        unit,
        "--amount",
        "604.34",
        "--channel",
        "cash",
        "--receipt",
        str(receipt),
    )
    assert code == 0, err
    assert "已收款 604.34 元" in out and "收据号 YXY01-SJ2026-" in out
    assert receipt.read_bytes().startswith(b"%PDF")
    before = count(demo_paths, "payment")
    for argv, message in [
        (["--amount", "604.345", "--channel", "cash"], "最多两位小数"),
        (["--amount", "0", "--channel", "cash"], "必须大于零"),
        (["--amount", "-3", "--channel", "cash"], "必须大于零"),
        (["--amount", "10", "--channel", "bitcoin"], "缴费方式"),
    ]:
        code, _out, err = run(capsys, demo_paths, "payments", "add", "--unit", unit, *argv)
        assert code == 2 and message in err, (argv, err)
    code, _out, err = run(
        capsys, demo_paths, "payments", "add", "--unit", "8-1-101", "--amount", "1", "--channel", "cash"
    )
    assert code == 2 and "8-1-101" in err
    assert count(demo_paths, "payment") == before


def test_a_receipt_that_cannot_be_written_leaves_no_payment(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    unit = a_paid_up_unit(demo_paths)
    before = count(demo_paths, "payment")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the receipt folder should be")
    code, _out, err = run(
        capsys,
        demo_paths,
        "payments",
        "add",
        "--unit",
        unit,
        "--amount",
        "10",
        "--channel",
        "wechat",
        "--ref",
        "WX9",
        "--receipt",
        str(blocker / "r.pdf"),
    )
    assert code in (1, 2) and err.strip()
    assert count(demo_paths, "payment") == before


def test_arrears_json_has_the_promised_keys_and_an_l7_case(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    """L7: one household at ≥ 6 months cumulative, flagged; amounts with 2 decimals."""
    code, out, _ = run(capsys, demo_paths, "arrears", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert {"unit_code", "leaseholder", "months_overdue", "amount_due", "stage"} <= set(rows[0])
    assert all(Decimal(r["amount_due"]).as_tuple().exponent == -2 for r in rows)
    assert {r["stage"] for r in rows} >= {"reminder", "notice", "termination"}
    assert any(r["months_overdue"] >= 6 and r["stage"] == "termination" for r in rows)
    code, out, _ = run(capsys, demo_paths, "arrears", "--stage", "termination", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("unit_code,") and len(out.splitlines()) >= 2
    code, out, _ = run(capsys, demo_paths, "arrears")
    assert code == 0 and "请站长处理" in out


def test_ledger_and_fund_report_workbooks_read_back(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ledger = tmp_path / "租金台账.xlsx"
    code, out, err = run(
        capsys, demo_paths, "ledger", "export", "rent", "--month", "2026-10", "--out", str(ledger)
    )
    assert code == 0, err
    rows = int(out.split("租金台账 ")[1].split(" 行")[0])
    assert rows >= 180
    book = load_workbook(ledger, read_only=True)
    values = [
        r for r in book.worksheets[0].iter_rows(values_only=True) if r and any(v is not None for v in r)
    ]
    book.close()
    assert any("1-1-101" in [str(v) for v in r] for r in values)
    report = tmp_path / "资金报表.xlsx"
    code, out, err = run(capsys, demo_paths, "report", "funds", "--month", "2026-10", "--out", str(report))
    assert code == 0, err
    book = load_workbook(report)
    assert book.sheetnames[0] == "资金报表"
    texts = [str(c.value) for row in book["资金报表"].iter_rows() for c in row if c.value is not None]
    assert any("微信" in t for t in texts)


def test_demo_statement_reconciles_october_which_then_closes(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yuexiu_desk.services.station import write_demo_statement
    from yuexiu_desk.storage.db import Store

    store = Store.open(demo_paths, clock)
    try:
        with store.read() as session:
            statement = write_demo_statement(session, demo_paths.root)
    finally:
        store.close()
    code, _out, err = run(capsys, demo_paths, "month", "close", "--month", "2026-10")
    assert code == 2 and "对账" in err
    code, out, err = run(capsys, demo_paths, "reconcile", "import", str(statement), "--month", "2026-10")
    assert code == 0, err
    code, out, _ = run(capsys, demo_paths, "reconcile", "confirm", "--month", "2026-10")
    assert code == 0 and "已对平" in out, out
    code, out, err = run(capsys, demo_paths, "month", "close", "--month", "2026-10")
    assert code == 0 and "已结账" in out, err
    before = count(demo_paths, "payment")
    code, _out, err = run(
        capsys,
        demo_paths,
        "payments",
        "add",
        "--unit",
        a_paid_up_unit(demo_paths),
        "--amount",
        "5",
        "--channel",
        "cash",
        "--date",
        "2026-10-30",
    )
    assert code == 2 and "已结账" in err and count(demo_paths, "payment") == before
    reopen = ("month", "reopen", "--month", "2026-10", "--reason", "补登 10 月现金")
    code, out, err = run(capsys, demo_paths, *reopen)
    assert code == 2 and "财务岗位无权" in err and "站长" in err
    monkeypatch.setenv("YUEXIU_USER", "manager")  # only the station manager reopens a closed month
    code, out, err = run(capsys, demo_paths, *reopen)
    assert code == 0, err
    monkeypatch.setenv("YUEXIU_USER", "finance")
