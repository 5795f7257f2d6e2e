"""The command line as the station's IT helper uses it: output, exit codes, and nothing changed on bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from yuexiu_desk.cli import main
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services.lookup import unit_payload
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Station


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_creates_the_estate_and_units_list_json_has_the_promised_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--data-dir", str(tmp_path), "demo")
    assert code == 0 and "194" in out and "10,225.84" in out
    code, out, _ = run(capsys, "--data-dir", str(tmp_path), "units", "list", "--format", "json")
    units = json.loads(out)
    assert code == 0 and len(units) == 194
    keys = {
        "code",
        "building",
        "entrance",
        "floor",
        "room",
        "unit_type",
        "gross_area",
        "inner_area",
        "status",
    }
    assert keys <= set(units[0])
    assert round(sum(u["gross_area"] for u in units), 2) == 10225.84
    assert {u["status"] for u in units} <= {"vacant", "reserved", "occupied", "under_repair", "withheld"}
    first = next(u for u in units if u["code"] == "1-2-1603")
    assert (first["building"], first["entrance"], first["floor"], first["room"]) == (1, 2, 16, 3)


def test_units_list_csv_and_table(demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data-dir", str(demo_paths.root), "units", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 194 and rows[0]["gross_area"].count(".") == 1
    code, out, _ = run(capsys, "--data-dir", str(demo_paths.root), "units", "list", "--status", "维修中")
    assert code == 0 and "共 3 套" in out


def test_demo_refuses_to_overwrite_real_data_without_force(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(demo_paths)
    with store.unit_of_work() as session:
        session.scalars(select(Station)).one().is_demo = False
    store.close()
    before = demo_paths.database.stat().st_mtime_ns
    code, _, err = run(capsys, "--data-dir", str(demo_paths.root), "demo")
    assert code == 2 and "正式数据" in err and "--force" in err
    assert demo_paths.database.stat().st_mtime_ns == before
    code, _, _ = run(capsys, "--data-dir", str(demo_paths.root), "demo", "--force")
    assert code == 0
    assert list(demo_paths.backups.glob("before-demo-*.sqlite3")), "real data is backed up before --force"


def test_lookup_by_payload_and_code_and_refusals(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(demo_paths)
    with store.read() as session:
        payload = unit_payload("YXY01", find_unit_id_by_code(session, "2-1-101"))
    store.close()
    code, out, _ = run(capsys, "--data-dir", str(demo_paths.root), "lookup", payload, "--format", "json")
    assert code == 0 and json.loads(out)["code"] == "2-1-101"
    code, out, _ = run(capsys, "--data-dir", str(demo_paths.root), "lookup", "2-1-101")
    assert code == 0 and out.startswith("2-1-101")
    broken = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    code, out, err = run(capsys, "--data-dir", str(demo_paths.root), "lookup", broken)
    assert code == 2 and out == "" and "校验失败" in err and "Traceback" not in err


def test_set_status_records_the_change_and_refuses_impossible_ones(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(demo_paths.root)
    code, out, _ = run(capsys, "--data-dir", root, "units", "list", "--status", "vacant", "--format", "json")
    vacant = json.loads(out)[0]["code"]
    code, out, _ = run(
        capsys, "--data-dir", root, "units", "set-status", vacant, "occupied", "--reason", "配租签约入住"
    )
    assert code == 0 and "入住" in out
    code, _, err = run(
        capsys, "--data-dir", root, "units", "set-status", vacant, "reserved", "--reason", "预留"
    )
    assert code == 2 and "不能从" in err
    code, out, _ = run(capsys, "--data-dir", root, "changes", "--format", "json")
    assert code == 0 and json.loads(out)["status_now"]["vacant"] == 5


def test_a_folder_with_a_newer_schema_exits_1_with_a_sentence(
    empty_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(empty_paths.database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    code, _, err = run(capsys, "--data-dir", str(empty_paths.root), "units", "list")
    assert code == 1 and "升级" in err


def test_commands_on_an_empty_folder_say_to_create_the_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "--data-dir", str(tmp_path), "lookup", "YX1U-YXY01-AAAAAAAAAAAAAAAAAAAAAAAAAA-0"
    )
    assert code == 2 and "demo" in err


def test_headless_commands_never_import_qt(demo_paths: StationPaths) -> None:
    """The core is Qt-free: the CLI and every service module load without PySide6."""
    script = (
        "import sys, importlib, pkgutil\n"
        "import yuexiu_desk.cli, yuexiu_desk.services as s\n"
        "for m in pkgutil.iter_modules(s.__path__): importlib.import_module('yuexiu_desk.services.' + m.name)\n"
        "for name in ('printing.labels', 'labels.decode', 'labels.payload', 'storage.db'):\n"
        "    importlib.import_module('yuexiu_desk.' + name)\n"
        f"rc = yuexiu_desk.cli.main(['--data-dir', {str(demo_paths.root)!r}, 'units', 'list', '--format', 'json'])\n"
        "assert rc == 0\n"
        "qt = sorted(m for m in sys.modules if m.startswith('PySide6') or m.startswith('shiboken'))\n"
        "print('QT:', qt, file=sys.stderr)\n"
        "sys.exit(1 if qt else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr


def test_opening_the_desk_without_a_display_explains_instead_of_crashing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}}
    result = subprocess.run(
        [sys.executable, "-m", "yuexiu_desk", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 1
    assert "DISPLAY" in result.stderr and "xvfb-run" in result.stderr and "Traceback" not in result.stderr


def test_a_bug_is_logged_with_its_traceback_and_reported_in_one_sentence(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from yuexiu_desk.services import units

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(units, "list_units", broken)
    code, _, err = run(capsys, "--data-dir", str(demo_paths.root), "units", "list")
    assert code == 3 and "内部错误" in err and "Traceback" not in err
    log_text = (demo_paths.logs / "yuexiu-desk.log").read_text(encoding="utf-8")
    assert "ZeroDivisionError: simulated bug" in log_text


def test_labels_then_scan_a_printed_page_finds_the_units(
    demo_paths: StationPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Print labels for chosen units, photograph (render) the page, and scan the picture back."""
    import pypdfium2

    root = str(demo_paths.root)
    pdf = tmp_path / "labels.pdf"
    code, out, _ = run(
        capsys, "--data-dir", root, "labels", "--out", str(pdf), "--unit", "1-2-1603", "--unit", "2-2-701"
    )
    assert code == 0 and "2 张标签" in out and pdf.exists()
    document = pypdfium2.PdfDocument(str(pdf))
    png = tmp_path / "page.png"
    document[0].render(scale=200 / 72).to_pil().save(png)
    document.close()
    code, out, _ = run(capsys, "--data-dir", root, "scan", str(png), "--format", "json")
    found = json.loads(out)
    assert code == 0 and sorted(f["code"] for f in found) == ["1-2-1603", "2-2-701"]
    assert all(f["ok"] and f["via"] == "label" for f in found)


def test_scan_refuses_unreadable_images_and_pictures_without_a_code(
    demo_paths: StationPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    root = str(demo_paths.root)
    blank = tmp_path / "blank.png"
    Image.new("L", (640, 480), 255).save(blank)
    not_image = tmp_path / "notes.png"
    not_image.write_text("这不是图片", encoding="utf-8")
    for image, words in [
        (blank, "没有找到二维码"),
        (not_image, "图片"),
        (tmp_path / "missing.png", "找不到"),
    ]:
        code, out, err = run(capsys, "--data-dir", root, "scan", str(image))
        assert code == 2 and out == "" and words in err and "Traceback" not in err


def test_labels_with_a_grid_too_small_for_a_qr_write_nothing(
    demo_paths: StationPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = tmp_path / "labels.pdf"
    code, _, err = run(
        capsys,
        "--data-dir",
        str(demo_paths.root),
        "labels",
        "--out",
        str(pdf),
        "--columns",
        "12",
        "--rows",
        "30",
    )
    assert code == 2 and err and not pdf.exists()


def test_households_and_leases_lists_show_masked_ids_and_promised_keys(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(demo_paths.root)
    code, out, _ = run(capsys, "--data-dir", root, "households", "list", "--format", "json")
    households = json.loads(out)
    assert code == 0 and len(households) == 185
    assert {"unit_code", "leaseholder", "members", "flags"} <= set(households[0])
    ids = [m["id_number"] for h in households for m in h["members"]]
    assert all(len(i) == 18 and i[4:14] == "*" * 10 for i in ids)
    code, out, _ = run(capsys, "--data-dir", root, "leases", "list", "--active", "--format", "json")
    leases = json.loads(out)
    assert code == 0 and len(leases) == 185
    assert {"unit_code", "leaseholder", "start", "end", "monthly_rent", "status"} <= set(leases[0])
    assert all(round(lease["monthly_rent"], 2) == lease["monthly_rent"] for lease in leases)
    code, out, _ = run(capsys, "--data-dir", root, "leases", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and all(
        r["monthly_rent"].count(".") == 1 and len(r["monthly_rent"].split(".")[1]) == 2 for r in rows
    )
    code, out, _ = run(capsys, "--data-dir", root, "leases", "due", "--format", "json")
    due = json.loads(out)
    assert code == 0 and {d["kind"] for d in due} == {"filing", "renewal"}


def test_units_list_output_survives_a_closed_pipe(demo_paths: StationPaths) -> None:
    result = subprocess.run(
        f"{sys.executable} -m yuexiu_desk --data-dir {demo_paths.root} units list --format csv | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert result.stdout.startswith("id,code") and "内部错误" not in result.stderr


@pytest.mark.parametrize(
    "command", [["units", "list"], ["changes"], ["lookup", "1-2-1603"], ["households", "list"]]
)
def test_a_folder_without_a_station_is_not_silently_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    folder = tmp_path / "typo"
    code, out, err = run(capsys, "--data-dir", str(folder), *command)
    assert code == 2 and out == "" and "demo" in err
    assert not (folder / "station.sqlite3").exists()


def test_demo_force_that_fails_midway_keeps_the_real_data(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from yuexiu_desk.services import station

    store = Store.open(demo_paths)
    with store.unit_of_work() as session:
        session.scalars(select(Station)).one().name = "正式服务站"
        session.scalars(select(Station)).one().is_demo = False
    store.close()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(station, "create_demo_station", disk_full)
    code, _, err = run(capsys, "--data-dir", str(demo_paths.root), "demo", "--force")
    assert code == 1 and "磁盘已满" in err
    store = Store.open(demo_paths)
    with store.read() as session:
        assert session.scalars(select(Station)).one().name == "正式服务站"
    store.close()


def test_a_printed_form_scans_back_to_its_unit(
    demo_paths: StationPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Print a filled check-in form, photograph (render) it, scan it: the desk finds the lease's unit."""
    import pypdfium2

    root = str(demo_paths.root)
    pdf = tmp_path / "checkin.pdf"
    code, out, _ = run(
        capsys, "--data-dir", root, "forms", "print", "checkin", "--unit", "2-1-101", "--out", str(pdf)
    )
    assert code == 0 and "入住交接单" in out
    document = pypdfium2.PdfDocument(str(pdf))
    png = tmp_path / "checkin.png"
    document[0].render(scale=200 / 72).to_pil().save(png)
    document.close()
    code, out, _ = run(capsys, "--data-dir", root, "scan", str(png), "--format", "json")
    (found,) = json.loads(out)
    assert code == 0 and found["code"] == "2-1-101" and found["via"] == "form"
    blank = tmp_path / "blank.pdf"
    code, _, _ = run(
        capsys, "--data-dir", root, "forms", "print", "household", "--blank", "--out", str(blank)
    )
    assert code == 0 and blank.exists()
    code, _, err = run(
        capsys, "--data-dir", root, "forms", "print", "moveout", "--out", str(tmp_path / "x.pdf")
    )
    assert code == 2 and "合同编号或房号" in err


def test_template_then_import_a_households_ledger(
    demo_paths: StationPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The IT helper exports the template, the clerk fills one household, the import takes it (or refuses all)."""
    import openpyxl
    from stdnum.iso7064 import mod_11_2

    root = str(demo_paths.root)
    template = tmp_path / "t.xlsx"
    code, _, _ = run(capsys, "template", "households", "--out", str(template))
    assert code == 0
    _, out, _ = run(capsys, "--data-dir", root, "units", "list", "--status", "vacant", "--format", "json")
    unit = json.loads(out)[0]["code"]
    body = "42010219700101002"
    member = {
        "房号": unit,
        "户序号": 1,
        "姓名": "测试戊",
        "与承租人关系": "本人",
        "身份证号": body + mod_11_2.calc_check_digit(body),
        "联系电话": "13900000001",
    }
    lease = {
        "户序号": 1,
        "房号": unit,
        "合同开始日期": "2026-11-01",
        "租期(月)": 36,
        "签约日期": "2026-10-28",
        "押金(元)": 1000,
        "租金档次": "标准租金",
    }

    def book(name: str, id_number: str) -> Path:
        wb = openpyxl.load_workbook(template)
        for sheet, row in (("住户", {**member, "身份证号": id_number}), ("合同", lease)):
            headers = [c.value for c in wb[sheet][1]]
            wb[sheet].append([row.get(h) for h in headers])
        path = tmp_path / name
        wb.save(path)
        return path

    bad = book("bad.xlsx", body + ("0" if mod_11_2.calc_check_digit(body) != "0" else "1"))
    code, _, err = run(capsys, "--data-dir", root, "import", "households", str(bad))
    assert code == 2 and "“住户”表第 2 行“身份证号”" in err
    good = book("good.xlsx", str(member["身份证号"]))
    code, out, _ = run(capsys, "--data-dir", root, "import", "households", str(good), "--dry-run")
    assert code == 0 and "未写入" in out
    code, out, _ = run(capsys, "--data-dir", root, "import", "households", str(good))
    assert code == 0 and "1 户" in out
    _, out, _ = run(capsys, "--data-dir", root, "households", "list", "--format", "json")
    assert any(h["unit_code"] == unit and h["leaseholder"] == "测试戊" for h in json.loads(out))
