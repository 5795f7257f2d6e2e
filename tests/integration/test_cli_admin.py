"""backup, restore and doctor as the station's IT helper runs them: messages, exit codes, files on disk."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from yuexiu_desk.cli import main
from yuexiu_desk.paths import StationPaths


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def statuses(capsys: pytest.CaptureFixture[str], root: str) -> dict[str, str]:
    code, out, _ = run(capsys, "--data-dir", root, "units", "list", "--format", "json")
    assert code == 0
    return {u["code"]: u["status"] for u in json.loads(out)}


def test_doctor_fails_without_a_backup_and_passes_after_one(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(demo_paths.root)
    code, out, _ = run(capsys, "--data-dir", root, "doctor")
    assert code == 1
    assert "[有问题] 最近备份：还没有备份" in out and "[正常] 审计链：完好，共 " in out
    assert "[正常] 完整性检查" in out and "[正常] 外键检查" in out and "[正常] 数据库版本" in out

    code, out, err = run(capsys, "--data-dir", root, "backup")
    assert code == 0 and err == ""
    path = Path(out.strip().split("：", 1)[1])
    assert out.startswith("已备份并校验：") and path.parent == demo_paths.backups and path.is_file()

    code, out, _ = run(capsys, "--data-dir", root, "doctor")
    assert code == 0 and out.rstrip().endswith("体检通过。")


def test_backup_to_a_missing_folder_is_one_sentence(
    demo_paths: StationPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--data-dir", str(demo_paths.root), "backup", "--to", str(tmp_path / "usb"))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "不存在" in err
    usb = tmp_path / "usb"
    usb.mkdir()
    code, out, _ = run(capsys, "--data-dir", str(demo_paths.root), "backup", "--to", str(usb))
    assert code == 0 and str(usb) in out and len(list(usb.glob("*.sqlite3"))) == 1


def test_restore_round_trip_and_refusal(
    demo_paths: StationPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(demo_paths.root)
    code, out, _ = run(capsys, "--data-dir", root, "backup")
    backup = Path(out.strip().split("：", 1)[1])
    unit = next(code for code, status in statuses(capsys, root).items() if status == "occupied")
    code, _, _ = run(
        capsys, "--data-dir", root, "units", "set-status", unit, "under_repair", "--reason", "外墙渗水维修"
    )
    assert code == 0 and statuses(capsys, root)[unit] == "under_repair"

    code, out, err = run(capsys, "--data-dir", root, "restore", str(backup))
    assert code == 0, err
    assert "已从" in out and "YXY01" in out and "恢复前的数据库已另存为" in out
    assert statuses(capsys, root)[unit] == "occupied"
    assert len(list(demo_paths.backups.glob("*-before-restore-*.sqlite3"))) == 1

    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(backup.read_bytes())
    with closing(sqlite3.connect(newer)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()
    before = statuses(capsys, root)
    code, out, err = run(capsys, "--data-dir", root, "restore", str(newer))
    assert code == 2 and out == "" and "比本程序新" in err
    # (Signing in to restore records the login, so the file's bytes may change; the data must not.)
    assert statuses(capsys, root) == before
    assert len(list(demo_paths.backups.glob("*-before-restore-*.sqlite3"))) == 1


def test_restore_into_an_empty_folder_sets_up_the_station(
    demo_paths: StationPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--data-dir", str(demo_paths.root), "backup")
    backup = Path(out.strip().split("：", 1)[1])
    new_pc = tmp_path / "new-pc"
    code, out, err = run(capsys, "--data-dir", str(new_pc), "restore", str(backup))
    assert code == 0, err
    assert "另存为" not in out
    code, out, _ = run(capsys, "--data-dir", str(new_pc), "units", "list", "--format", "json")
    assert code == 0 and out.count('"code"') == 194


def test_commands_refuse_a_data_folder_on_a_usb_stick_and_doctor_says_so(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from yuexiu_desk.services import health
    from yuexiu_desk.storage.location import REMOVABLE, DataLocation

    stick = DataLocation(REMOVABLE, "vfat /dev/sdb1 挂载于 /media/clerk/U DISK")
    monkeypatch.setattr(health, "data_location", lambda root: stick)
    before = demo_paths.database.read_bytes()
    code, out, err = run(
        capsys,
        "--data-dir",
        str(demo_paths.root),
        "units",
        "set-status",
        "1-1-101",
        "vacant",
        "--reason",
        "测试",
    )
    assert code == 1 and out == "" and "U 盘" in err and "拒绝" in err
    assert demo_paths.database.read_bytes() == before
    code, out, _ = run(capsys, "--data-dir", str(demo_paths.root), "doctor")
    assert "存放位置" in out
