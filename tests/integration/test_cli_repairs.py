"""The repair and complaint command line as the issue names it: workorders list (its JSON keys), the lifecycle
subcommands, ledger export repairs beside ledger export rent, complaints; bad input exits 2 with one sentence
and leaves the database as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from yuexiu_desk.cli import main
from yuexiu_desk.paths import StationPaths

KEYS = {"id", "unit_code", "category", "urgency", "status", "reported_at", "completed_at"}


def run(capsys: pytest.CaptureFixture[str], paths: StationPaths, *argv: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(paths.root), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(paths: StationPaths) -> tuple[int, ...]:
    with sqlite3.connect(paths.database) as conn:
        return tuple(
            int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("work_order", "work_order_event", "complaint", "complaint_note", "change_journal")
        )


def test_workorders_list_prints_the_named_json_keys(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, demo_paths, "workorders", "list", "--format", "json")
    everything = json.loads(out)
    assert code == 0 and len(everything) > 300
    assert all(set(item) >= KEYS for item in everything)
    code, out, _ = run(capsys, demo_paths, "workorders", "list", "--open", "--format", "json")
    still_open = json.loads(out)
    assert code == 0 and 0 < len(still_open) < len(everything)
    assert {item["status"] for item in still_open} <= {"reported", "dispatched", "in_progress"}
    assert all(item["completed_at"] is None for item in still_open)
    assert any(item["unit_code"] is None for item in everything)  # public areas
    code, out, _ = run(capsys, demo_paths, "workorders", "list", "--open")
    assert code == 0 and "单号" in out and "共 " in out


def test_an_order_from_intake_to_follow_up_and_its_slip(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, demo_paths, "workorders", "add", "--unit", "1-2-1603", "--category", "给排水",
        "--description", "卫生间下水管漏水", "--urgency", "紧急", "--reporter", "住户",
    )  # fmt: skip
    assert code == 0, err
    number = out.split("已登记报修 ")[1].split("（")[0]
    assert "1-2-1603，给排水，紧急" in out
    assert run(capsys, demo_paths, "workorders", "dispatch", number, "--to", "王师傅")[0] == 0
    assert run(capsys, demo_paths, "workorders", "start", number)[0] == 0
    before = snapshot(demo_paths)
    code, _, err = run(
        capsys, demo_paths, "workorders", "complete", number, "--labour", "", "--materials", "角阀",
        "--cost", "10", "--payer", "station",
    )  # fmt: skip
    assert code == 2 and err.strip() == "完工须填写维修人员及工时（例如“王师傅 2 工时”）。"
    code, _, err = run(capsys, demo_paths, "workorders", "followup", number, "--satisfaction", "5")
    assert code == 2 and "完工后才能回访" in err and err.count("\n") == 1
    assert snapshot(demo_paths) == before
    code, out, err = run(
        capsys, demo_paths, "workorders", "complete", number, "--labour", "王师傅 1 工时",
        "--materials", "更换角阀 1 个", "--cost", "35.50", "--payer", "tenant",
    )  # fmt: skip
    assert code == 0 and "已完工" in out, err
    code, _, err = run(capsys, demo_paths, "workorders", "followup", number, "--satisfaction", "9")
    assert code == 2 and "1 到 5 之间" in err
    code, out, _ = run(
        capsys, demo_paths, "workorders", "followup", number, "--satisfaction", "2", "--not-fixed"
    )
    assert code == 0 and "已返修（第 1 次）" in out
    slip = tmp_path / "派工单.pdf"
    code, out, _ = run(capsys, demo_paths, "workorders", "slip", number, "--out", str(slip))
    assert code == 0 and slip.read_bytes().startswith(b"%PDF")
    code, out, _ = run(capsys, demo_paths, "workorders", "list", "--unit", "1-2-1603", "--format", "json")
    mine = next(item for item in json.loads(out) if item["id"] == number)
    assert (mine["status"], mine["reopen_count"], mine["unit_code"]) == ("dispatched", 1, "1-2-1603")
    code, _, err = run(capsys, demo_paths, "workorders", "reopen", number, "--reason", "又漏了")
    assert code == 2 and "还未完工（已派单），不能返修" in err


def test_ledger_export_repairs_beside_rent(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "维修台账.xlsx"
    code, out, err = run(
        capsys, demo_paths, "ledger", "export", "repairs", "--from", "2025-01-01", "--to", "2025-12-31",
        "--out", str(out_file),
    )  # fmt: skip
    assert code == 0, err
    orders = int(out.split("维修台账 ")[1].split(" 单")[0])
    book = load_workbook(out_file)
    assert (book["统计"]["A5"].value, book["统计"]["B5"].value) == ("报修单数", orders) and orders > 100
    code, _, err = run(capsys, demo_paths, "ledger", "export", "repairs", "--out", str(out_file))
    assert code == 2 and "--from 和 --to" in err
    rent = tmp_path / "租金台账.xlsx"
    code, out, _ = run(
        capsys, demo_paths, "ledger", "export", "rent", "--month", "2026-10", "--out", str(rent)
    )
    assert code == 0 and "租金台账" in out and rent.exists()
    code, _, err = run(capsys, demo_paths, "ledger", "export", "rent", "--out", str(rent))
    assert code == 2 and "--month" in err


def test_workorders_stats_json(demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        demo_paths,
        "workorders",
        "stats",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert code == 0 and data["orders"] == sum(data["by_category"].values()) == sum(
        data["by_season"].values()
    )


def test_complaints_from_intake_to_public_notice(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, demo_paths, "complaints", "add", "--channel", "电话", "--category", "环境卫生",
        "--content", "垃圾清运不及时", "--name", "欧阳秀兰", "--phone", "13971234568",
    )  # fmt: skip
    assert code == 0, err
    number = out.split("已受理 ")[1].split("（")[0]
    code, out, _ = run(capsys, demo_paths, "complaints", "list", "--format", "json")
    mine = next(item for item in json.loads(out) if item["id"] == number)
    assert (mine["complainant"], mine["phone"]) == ("欧***", "139****4568")
    assert "13971234568" not in out and "欧阳秀兰" not in out
    before = snapshot(demo_paths)
    code, _, err = run(capsys, demo_paths, "complaints", "visit", number, "--satisfaction", "5")
    assert code == 2 and "答复后才能回访" in err and snapshot(demo_paths) == before
    assert run(capsys, demo_paths, "complaints", "note", number, "--note", "已联系物业")[0] == 0
    assert (
        run(
            capsys,
            demo_paths,
            "complaints",
            "reply",
            number,
            "--text",
            "已增加清运",
            "--public",
            "已增加清运次数。",
        )[0]
        == 0
    )
    code, _, err = run(capsys, demo_paths, "complaints", "visit", number, "--satisfaction", "0")
    assert code == 2 and "1 到 5 之间" in err
    code, out, _ = run(capsys, demo_paths, "complaints", "visit", number, "--satisfaction", "4")
    assert code == 0 and "办结" in out
    notice = tmp_path / "公示.pdf"
    code, out, _ = run(
        capsys,
        demo_paths,
        "complaints",
        "notice",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--out",
        str(notice),
    )
    assert code == 0 and notice.read_bytes().startswith(b"%PDF")


def test_help_is_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("workorders", "complaints"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "回访" in out


def test_a_repair_request_keeps_its_photos_by_content(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from PIL import Image

    photo = tmp_path / "漏水.png"
    Image.new("RGB", (64, 48), (40, 90, 160)).save(photo)
    code, out, err = run(
        capsys, demo_paths, "workorders", "add", "--unit", "2-2-1402", "--category", "walls",
        "--description", "卧室墙面渗水发霉", "--photo", str(photo),
    )  # fmt: skip
    assert code == 0 and "附照片 1 张" in out, err
    number = out.split("已登记报修 ")[1].split("（")[0]
    code, out, _ = run(capsys, demo_paths, "workorders", "list", "--unit", "2-2-1402", "--format", "json")
    (kept,) = next(item for item in json.loads(out) if item["id"] == number)["photos"]
    assert (
        kept.startswith("photos/work-orders/") and (demo_paths.root / kept).read_bytes() == photo.read_bytes()
    )
    before = snapshot(demo_paths)
    not_a_photo = tmp_path / "说明.png"
    not_a_photo.write_text("这不是图片", encoding="utf-8")
    code, _, err = run(
        capsys, demo_paths, "workorders", "add", "--unit", "2-2-1402", "--category", "walls",
        "--description", "又渗水", "--photo", str(not_a_photo),
    )  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and snapshot(demo_paths) == before
