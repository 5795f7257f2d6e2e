"""The CLI signs in for anything that writes or reveals (YUEXIU_USER / YUEXIU_PASSWORD or a prompt), refuses a
wrong password or a role without the right with exit 2 and one sentence, and manages accounts."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from yuexiu_desk.cli import main
from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import keys
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Station


def run(capsys: pytest.CaptureFixture[str], paths: StationPaths, *argv: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(paths.root), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def unit_status(paths: StationPaths, code: str) -> str:
    with closing(sqlite3.connect(paths.database)) as conn:
        return str(conn.execute("SELECT status FROM unit WHERE code = ?", (code,)).fetchone()[0])


def a_vacant_unit(paths: StationPaths) -> str:
    with closing(sqlite3.connect(paths.database)) as conn:
        return str(conn.execute("SELECT code FROM unit WHERE status = 'vacant' ORDER BY code").fetchone()[0])


def set_status(capsys, paths: StationPaths, code: str) -> tuple[int, str, str]:
    return run(capsys, paths, "units", "set-status", code, "under_repair", "--reason", "卫生间漏水维修")


def test_a_wrong_password_is_refused_with_exit_2_and_nothing_changes(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code_ = a_vacant_unit(demo_paths)
    monkeypatch.setenv("YUEXIU_PASSWORD", "not the password")
    code, out, err = set_status(capsys, demo_paths, code_)
    assert (code, out) == (2, "") and err.strip() == "用户名或密码不对，请重新输入。"
    assert unit_status(demo_paths, code_) == "vacant"


def test_without_credentials_and_no_terminal_the_cli_says_how_to_sign_in(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YUEXIU_USER")
    monkeypatch.delenv("YUEXIU_PASSWORD")
    code_ = a_vacant_unit(demo_paths)
    code, _, err = set_status(capsys, demo_paths, code_)
    assert code == 2 and "YUEXIU_USER" in err and "YUEXIU_PASSWORD" in err
    assert unit_status(demo_paths, code_) == "vacant"
    # Even masked lists are opened with a signed-in account's key: the same sentence, nothing printed.
    code, out, err = run(capsys, demo_paths, "households", "list", "--format", "json")
    assert code == 2 and out == "" and "YUEXIU_USER" in err


def test_a_role_without_the_right_is_refused_by_name(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YUEXIU_USER", "finance")
    code_ = a_vacant_unit(demo_paths)
    code, _, err = set_status(capsys, demo_paths, code_)
    assert code == 2 and err.strip() == "财务岗位无权“变更房源信息和房态”。请由房管员（前台）、站长登录办理。"
    monkeypatch.setenv("YUEXIU_USER", "frontdesk")
    code, _out, err = set_status(capsys, demo_paths, code_)
    assert code == 0, err
    assert unit_status(demo_paths, code_) == "under_repair"
    code, _, err = run(capsys, demo_paths, "bills", "run", "--month", "2026-12")
    assert code == 2 and "请由财务登录办理" in err


def test_the_manager_adds_an_account_that_can_then_sign_in(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YUEXIU_NEW_PASSWORD", "zhao's password")
    code, out, err = run(
        capsys, demo_paths, "users", "add", "zhao", "--role", "house_manager", "--name", "赵房管"
    )
    assert code == 0, err
    assert out.strip() == "已添加账户 zhao（赵房管，房管员（前台））。"
    code, out, _ = run(capsys, demo_paths, "users", "list")
    assert "zhao\t赵房管\t房管员（前台）" in out.splitlines()
    monkeypatch.setenv("YUEXIU_USER", "zhao")
    monkeypatch.setenv("YUEXIU_PASSWORD", "zhao's password")
    code_ = a_vacant_unit(demo_paths)
    assert set_status(capsys, demo_paths, code_)[0] == 0
    # zhao is no manager: adding accounts is refused before the new password is even asked for.
    code, _, err = run(capsys, demo_paths, "users", "add", "qian", "--role", "finance")
    assert code == 2 and "站长" in err
    code, out, _ = run(capsys, demo_paths, "users", "list")
    assert "qian" not in out


def test_the_first_account_of_a_new_station_needs_no_sign_in_and_must_be_the_manager(
    demo_paths: StationPaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    demo_recovery_code: str,
) -> None:
    with closing(sqlite3.connect(demo_paths.database)) as conn:
        # A station built before any account (as the demo is): its key has only the recovery slot.
        conn.execute("DELETE FROM user_account")
        conn.execute("DELETE FROM key_slot WHERE holder != 'recovery'")
        conn.commit()
    code_ = a_vacant_unit(demo_paths)
    code, _, err = set_status(capsys, demo_paths, code_)
    assert code == 2 and "还没有账户" in err and "users add" in err
    monkeypatch.setenv("YUEXIU_NEW_PASSWORD", "boss password")
    code, _, err = run(capsys, demo_paths, "users", "add", "boss", "--role", "finance")
    assert code == 2 and "第一个账户必须是站长" in err
    code, _, err = run(
        capsys, demo_paths, "users", "add", "boss", "--role", "station_manager", "--name", "周站长"
    )
    assert code == 2 and "YUEXIU_RECOVERY_KEY" in err  # no terminal to type the printed key at
    monkeypatch.setenv("YUEXIU_RECOVERY_KEY", demo_recovery_code.lower().replace("-", " "))
    code, _, err = run(
        capsys, demo_paths, "users", "add", "boss", "--role", "station_manager", "--name", "周站长"
    )
    assert code == 0, err
    monkeypatch.setenv("YUEXIU_USER", "boss")
    monkeypatch.setenv("YUEXIU_PASSWORD", "boss password")
    code, _out, err = run(capsys, demo_paths, "users", "add", "qian", "--role", "finance")
    assert code == 0, err
    # The manager made with the recovery key reads the households (masked), as any signed-in clerk would.
    code, out, err = run(capsys, demo_paths, "households", "list", "--format", "json")
    assert code == 0 and "**********" in out, err


def test_a_new_stations_first_manager_gets_the_recovery_key_on_paper_and_it_recovers_a_forgotten_password(
    empty_paths: StationPaths,
    clock: FixedClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store.open(empty_paths, clock)
    with store.unit_of_work(system_operator("首次设置")) as session:
        session.add(Station(code="NEWSTN", name="新服务站", estate_name="新苑", created_at=clock.now()))
    store.close()
    sheet = tmp_path / "保险柜" / "恢复密钥单.pdf"
    monkeypatch.setenv("YUEXIU_NEW_PASSWORD", "boss password")
    code, out, err = run(
        capsys,
        empty_paths,
        "users",
        "add",
        "boss",
        "--role",
        "station_manager",
        "--recovery-sheet",
        str(sheet),
    )
    assert code == 0, err
    found = re.search(r"恢复密钥：((?:[A-Z2-7]{4}-){7}[A-Z2-7]{4})", out)
    assert found is not None, out
    recovery = found.group(1)
    document = pdfium.PdfDocument(str(sheet))
    lines = [" ".join(line.split()) for line in document[0].get_textpage().get_text_range().splitlines()]
    document.close()
    groups = recovery.split("-")
    assert "服务站：新服务站" in lines and " ".join(groups[:4]) in lines and " ".join(groups[4:]) in lines

    # Every manager forgot: a mistyped key is refused and changes nothing; the right one sets a new password.
    monkeypatch.setenv("YUEXIU_NEW_PASSWORD", "new boss password")
    monkeypatch.setenv("YUEXIU_RECOVERY_KEY", ("B" if groups[0][0] != "B" else "C") + recovery[1:])
    code, _out, err = run(capsys, empty_paths, "users", "recover", "boss")
    assert code == 2 and "恢复密钥不对" in err
    monkeypatch.setenv("YUEXIU_USER", "boss")
    monkeypatch.setenv("YUEXIU_PASSWORD", "boss password")
    assert run(capsys, empty_paths, "users", "add", "qian", "--role", "finance")[0] == 0
    monkeypatch.setenv("YUEXIU_RECOVERY_KEY", recovery)
    code, out, err = run(capsys, empty_paths, "users", "recover", "boss")
    assert code == 0 and "已用恢复密钥为 boss 设置新密码" in out, err
    code, _out, err = run(capsys, empty_paths, "users", "add", "sun", "--role", "finance")
    assert code == 2 and "用户名或密码不对" in err  # the forgotten password no longer opens anything
    monkeypatch.setenv("YUEXIU_PASSWORD", "new boss password")
    assert run(capsys, empty_paths, "users", "add", "sun", "--role", "finance")[0] == 0
    store = Store.open(empty_paths, clock)
    try:
        with store.read() as session:
            by_paper = keys.open_with_recovery_code(session, recovery)
            assert keys.open_with_password(session, "sun", "new boss password").data_key == by_paper.data_key
    finally:
        store.close()
