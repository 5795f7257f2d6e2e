"""`audit verify` and `audit list` as the station's IT helper runs them: messages, exit codes, and the entries
that a payment, an export and a backup from the command line leave behind."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from yuexiu_desk.cli import main
from yuexiu_desk.paths import StationPaths


def run(capsys: pytest.CaptureFixture[str], paths: StationPaths, *argv: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(paths.root), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def intact_count(capsys: pytest.CaptureFixture[str], paths: StationPaths) -> int:
    code, out, err = run(capsys, paths, "audit", "verify")
    assert code == 0 and err == "", out + err
    assert out.startswith("审计日志完好：共 ")
    return int(out.split("共 ")[1].split(" 条")[0])


def test_verify_is_exit_0_with_the_count_and_a_cli_payment_export_and_backup_add_entries(
    demo_paths: StationPaths,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = intact_count(capsys, demo_paths)
    assert before > 0  # the demo's payments and month closes
    with closing(sqlite3.connect(demo_paths.database)) as conn:
        (unit,) = conn.execute(
            "SELECT unit.code FROM lease JOIN unit ON unit.id = lease.unit_id "
            "WHERE lease.status = 'active' ORDER BY unit.code LIMIT 1"
        ).fetchone()
    monkeypatch.setenv("YUEXIU_USER", "finance")
    code, out, err = run(
        capsys, demo_paths, "payments", "add", "--unit", unit, "--amount", "50", "--channel", "wechat"
    )
    assert code == 0, err
    receipt = re.search(r"收据号 ([A-Z0-9]+-SJ\d{4}-\d{6})", out)
    assert receipt is not None
    code, _out, err = run(
        capsys,
        demo_paths,
        "ledger",
        "export",
        "rent",
        "--month",
        "2026-10",
        "--out",
        str(tmp_path / "台账.xlsx"),
    )
    assert code == 0, err
    code, _out, err = run(capsys, demo_paths, "backup")
    assert code == 0, err
    monkeypatch.setenv("YUEXIU_USER", "manager")  # reading the audit log is the station manager's
    # Each command that signed in left its login first; verifying signs the manager in too.
    assert intact_count(capsys, demo_paths) == before + 2 + 2 + 1 + 1

    code, out, _ = run(capsys, demo_paths, "audit", "list", "--limit", "7", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert [(e["seq"], e["operator"], e["action"]) for e in listed] == [
        (before + 7, "manager", "login"),
        (before + 6, "manager", "login"),
        (before + 5, "命令行", "backup"),  # backing up needs no sign-in
        (before + 4, "finance", "export"),
        (before + 3, "finance", "login"),
        (before + 2, "finance", "payment"),
        (before + 1, "finance", "login"),
    ]
    newest = [e for e in listed if e["action"] != "login"]
    assert newest[2]["subject"] == receipt[1] and newest[2]["detail"]["amount_fen"] == 5000
    assert newest[1]["subject"] == "台账.xlsx" and newest[1]["detail"] == {
        "kind": "rent_ledger",
        "period": "2026-10",
    }
    code, out, _ = run(capsys, demo_paths, "audit", "list", "--limit", "5")
    assert (
        code == 0 and "备份" in out and "导出" in out and out.rstrip().endswith("共列出 5 条（时间为 UTC）。")
    )


def test_verify_is_exit_1_naming_the_first_tampered_entry(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    count = intact_count(capsys, demo_paths)
    with closing(sqlite3.connect(demo_paths.database)) as conn:
        conn.execute("DROP TRIGGER audit_entry_no_update")  # what someone editing the file would do first
        conn.execute("UPDATE audit_entry SET detail = replace(detail, '0', '1') WHERE seq = 17")
        conn.commit()
    code, out, err = run(capsys, demo_paths, "audit", "verify")
    assert code == 1 and err == ""
    assert "第 17 条起不可信" in out and "被改动" in out and "此前的 16 条校验无误" in out

    code, out, _ = run(capsys, demo_paths, "doctor")
    assert code == 1 and "[有问题] 审计链：第 17 条起不可信" in out

    with closing(sqlite3.connect(demo_paths.database)) as conn:
        conn.execute("DROP TRIGGER audit_entry_no_delete")
        conn.execute("DELETE FROM audit_entry WHERE seq >= 10")
        conn.commit()
    code, out, _ = run(capsys, demo_paths, "audit", "verify")
    # Signing in to verify appended a login after the cut: the hole before it is what gives the cut away.
    assert code == 1 and "第 10 条起不可信" in out and "有记录被删除" in out and f"第 {count + 2} 条" in out
