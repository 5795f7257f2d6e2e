"""The inspection command line as the issue names it: inspections due / print-blank, hazards list, report
inspections; and a clerk's round from start to close, with bad input refused in one sentence."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from yuexiu_desk.cli import main
from yuexiu_desk.labels.decode import decode_qr_texts
from yuexiu_desk.paths import StationPaths


def run(capsys: pytest.CaptureFixture[str], paths: StationPaths, *argv: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(paths.root), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def count(paths: StationPaths, table: str) -> int:
    with sqlite3.connect(paths.database) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_inspections_due_json_has_the_named_keys_and_print_blank_takes_its_values_as_they_are(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, demo_paths, "inspections", "due", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows and all({"template", "scope", "due_date", "overdue"} <= set(r) for r in rows)
    assert all(isinstance(r["overdue"], bool) for r in rows)
    assert any(r["overdue"] for r in rows)
    row = next(r for r in rows if r["overdue"])
    pdf = tmp_path / "blank.pdf"
    code, out, err = run(
        capsys,
        demo_paths,
        "inspections",
        "print-blank",
        row["template"],
        "--scope",
        row["scope"],
        "--out",
        str(pdf),
    )
    assert code == 0, err
    assert "已开始检查轮次 XC" in out and pdf.read_bytes().startswith(b"%PDF")
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=150 / 72, grayscale=True).to_pil()
    finally:
        document.close()
    (payload,) = decode_qr_texts(image)
    code, out, _ = run(capsys, demo_paths, "inspections", "show", payload, "--unanswered", "--format", "json")
    assert code == 0 and json.loads(out)
    code, out, _ = run(capsys, demo_paths, "inspections", "due")
    assert code == 0 and "进行中 XC" in out


def test_hazards_list_json_has_the_named_keys(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, demo_paths, "hazards", "list", "--format", "json")
    assert code == 0, err
    everything = json.loads(out)
    code, out, _ = run(capsys, demo_paths, "hazards", "list", "--open", "--format", "json")
    still_open = json.loads(out)
    assert len(still_open) < len(everything)
    for row in everything:
        assert {"id", "kind", "severity", "deadline", "status"} <= set(row)
        assert "unit_code" in row or "location" in row
    assert {r["status"] for r in still_open} <= {"open", "verified"}


def test_report_inspections_writes_the_pdf_and_report_funds_still_works(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pdf = tmp_path / "季度.pdf"
    code, out, err = run(
        capsys, demo_paths, "report", "inspections", "--quarter", "2026-Q3", "--out", str(pdf)
    )
    assert code == 0, err
    assert "2026年第3季度" in out and pdf.read_bytes().startswith(b"%PDF")
    code, _out, err = run(
        capsys, demo_paths, "report", "inspections", "--quarter", "2026-3", "--out", str(pdf)
    )
    assert code == 2 and "YYYY-Qn" in err
    xlsx = tmp_path / "funds.xlsx"
    code, _out, err = run(capsys, demo_paths, "report", "funds", "--month", "2026-10", "--out", str(xlsx))
    assert code == 0, err
    assert xlsx.exists()


def test_a_clerks_round_from_start_to_close_and_a_hazard_to_closure(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys,
        demo_paths,
        "inspections",
        "start",
        "quarterly_safety",
        "--scope",
        "building:2",
        "--inspector",
        "王建国",
        "--inspected-party",
        "悦秀物业",
    )
    assert code == 0, err
    round_no = out.split("检查轮次 ")[1].split("：")[0]
    # Closing with items unanswered: refused, names how many, nothing saved.
    journal = count(demo_paths, "change_journal")
    code, _out, err = run(capsys, demo_paths, "inspections", "close", round_no)
    assert code == 2 and "项未填写" in err and "不能结束" in err
    assert count(demo_paths, "change_journal") == journal
    # A scan outside the round's scope: said so, with how to add it.
    code, _out, err = run(capsys, demo_paths, "inspections", "scan", round_no, "1-1-101")
    assert code == 2 and "不在本轮检查" in err and "add-scope" in err
    code, out, err = run(capsys, demo_paths, "inspections", "scan", round_no, "2-1-301")
    assert code == 0 and "2栋1单元" in out
    code, out, err = run(
        capsys,
        demo_paths,
        "inspections",
        "record",
        round_no,
        "--item",
        "manholes.covers",
        "--location",
        "building:2",
        "--result",
        "有隐患",
        "--severity",
        "一般",
        "--note",
        "井盖松动",
        "--photo",
        "m.jpg",
    )
    assert code == 0, err
    hazard_no = out.split("已记录隐患 ")[1].split("，")[0]
    code, out, err = run(capsys, demo_paths, "inspections", "record", round_no, "--rest-ok")
    assert code == 0 and "记为正常" in out
    code, out, err = run(capsys, demo_paths, "inspections", "close", round_no)
    assert code == 0 and "已结束" in out and "发现隐患 1 项" in out
    filled = tmp_path / "record.pdf"
    code, _out, err = run(capsys, demo_paths, "inspections", "print", round_no, "--out", str(filled))
    assert code == 0 and filled.exists()
    # The hazard: closing before a re-inspection is refused; rectify → reinspect → close works.
    before = count(demo_paths, "change_journal")
    code, _out, err = run(capsys, demo_paths, "hazards", "close", hazard_no)
    assert code == 2 and "复查验收合格" in err
    assert count(demo_paths, "change_journal") == before
    assert run(capsys, demo_paths, "hazards", "rectify", hazard_no, "--note", "已更换井盖")[0] == 0
    assert run(capsys, demo_paths, "hazards", "reinspect", hazard_no, "--fixed")[0] == 0
    code, out, _ = run(capsys, demo_paths, "hazards", "close", hazard_no)
    assert code == 0 and "已关闭" in out


def test_elevator_certificates_and_manager_alerts(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, demo_paths, "inspections", "certificates", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 4 and sum(r["alert"] for r in rows) >= 1
    code, out, _ = run(capsys, demo_paths, "hazards", "alerts")
    assert code == 0 and "C" in out and "共 1 条" in out
    code, _out, err = run(
        capsys, demo_paths, "inspections", "start", "quarterly_safety", "--scope", "building:1"
    )
    assert code == 2 and "进行中的轮次" in err


def test_a_hazard_goes_to_the_repair_ledger_in_one_command(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, demo_paths, "hazards", "list", "--open", "--format", "json")
    open_hazards = [h for h in json.loads(out) if h["status"] != "verified"]
    hazard = open_hazards[0]["id"]
    code, out, err = run(capsys, demo_paths, "hazards", "work-order", hazard)
    assert code == 0, err
    order_no = out.split("维修工单 ")[1].split("；")[0]
    code, out, _ = run(capsys, demo_paths, "workorders", "list", "--open", "--format", "json")
    (order,) = [o for o in json.loads(out) if o["id"] == order_no]
    assert order["hazard_id"] is not None and order["status"] == "reported"
    code, _, err = run(capsys, demo_paths, "hazards", "work-order", hazard)
    assert code == 2 and "已经生成过维修工单" in err
