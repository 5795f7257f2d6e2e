"""Signing in at the desk, driven as a clerk would: the first run's manager account, the demo's prefilled
sign-in, wrong passwords, the idle lock hiding every window, switching user, and the GUI refusing what a
role may not do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog

from yuexiu_desk.domain.access import Operator, system_operator
from yuexiu_desk.domain.billing import Period
from yuexiu_desk.gui.login import (
    FirstRunDialog,
    IdleLock,
    RecoveryKeyDialog,
    SignInDialog,
    copy_briefly,
    sign_in_at_desk,
)
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import billing, keys, users
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.fieldcrypt import FieldKeys
from yuexiu_desk.storage.models import Station


def answer_modal(qtbot: Any, act: Any, count: int = 1) -> list[QDialog]:
    """When each of the next count modal dialogs is up, let act(dialog) drive it (exec() blocks the test until
    then). A failing act closes its dialog, so the test fails (pytest-qt reports the error) instead of hanging."""
    seen: list[QDialog] = []

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog) and dialog not in seen:
            seen.append(dialog)
            if len(seen) < count:
                # Before act: the next dialog may open inside it (exec() nested in a button's handler).
                QTimer.singleShot(20, poll)
            try:
                act(dialog)
            except BaseException:
                dialog.done(QDialog.DialogCode.Rejected)
                raise
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    return seen


@pytest.fixture
def new_station(empty_paths: StationPaths, clock) -> Any:
    """A station just set up: its row exists, but no account and no data key yet."""
    store = Store.open(empty_paths, clock)
    with store.unit_of_work(system_operator("首次设置")) as session:
        session.add(
            Station(
                code="TESTSTN", name="测试服务站", estate_name="测试苑", is_demo=False, created_at=clock.now()
            )
        )
    yield store
    store.close()


def pdf_text(path: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_first_run_creates_the_manager_and_prints_the_recovery_key(
    qtbot, new_station: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, messages
) -> None:
    sheet = tmp_path / "纸" / "恢复密钥单.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(sheet), "PDF (*.pdf)"))
    shown: dict[str, str] = {}

    def act(dialog: QDialog) -> None:
        if isinstance(dialog, FirstRunDialog):
            dialog.login_edit.setText("zhouzz")
            dialog.name_edit.setText("周站长")
            dialog.password_edit.setText("station pass 1")
            dialog.repeat_edit.setText("station pass 2")
            dialog.ok_button.click()
            assert dialog.error_label.text() == "两次输入的密码不一致，请重新输入。" and dialog.isVisible()
            dialog.password_edit.setText("short")
            dialog.repeat_edit.setText("short")
            dialog.ok_button.click()
            assert "至少 8 个字符" in dialog.error_label.text() and dialog.isVisible()
            dialog.password_edit.setText("station pass 1")
            dialog.repeat_edit.setText("station pass 1")
            dialog.ok_button.click()
            return
        assert isinstance(dialog, RecoveryKeyDialog)
        shown["screen"] = dialog.code_label.text()
        shown["code"] = dialog.recovery_code
        # Not closable (Escape, the close box) and 完成 disabled until the sheet is said to be kept.
        assert not dialog.done_button.isEnabled()
        dialog.reject()
        assert dialog.isVisible()
        dialog.print_button.click()
        shown["printed"] = dialog.printed_label.text()
        dialog.kept_box.setChecked(True)
        dialog.done_button.click()

    seen = answer_modal(qtbot, act, count=2)
    operator = sign_in_at_desk(new_station)
    assert [type(d) for d in seen] == [FirstRunDialog, RecoveryKeyDialog]
    assert operator == Operator("zhouzz", "周站长", "station_manager")
    assert new_station.operator == operator
    code = shown["code"]
    groups = code.split("-")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    # On screen and on paper, in the groups a person copies back; the sheet was opened for printing.
    assert shown["screen"].split() == groups
    lines = [" ".join(line.split()) for line in pdf_text(sheet).splitlines()]
    assert "个人信息恢复密钥单" in lines and " ".join(groups[:4]) in lines and " ".join(groups[4:]) in lines
    assert str(sheet) in shown["printed"] and [u.toLocalFile() for u in messages.opened_urls] == [str(sheet)]
    # The printed key opens the station's data, as the manager's password does.
    with new_station.read() as session:
        by_paper = keys.open_with_recovery_code(session, code)
        by_password = keys.open_with_password(session, "zhouzz", "station pass 1")
    assert isinstance(by_password, FieldKeys) and by_paper.data_key == by_password.data_key
    assert users.sign_in(new_station, "zhouzz", "station pass 1").role == "station_manager"


def test_the_demo_sign_in_is_prefilled_and_a_wrong_password_is_said(qtbot, demo_store: Store) -> None:
    demo_store.operator = None

    def sign(dialog: QDialog) -> None:
        assert isinstance(dialog, SignInDialog)
        assert (dialog.login_edit.text(), dialog.password_edit.text()) == ("manager", users.DEMO_PASSWORD)
        dialog.password_edit.setText("wrong one")
        dialog.ok_button.click()
        assert dialog.error_label.text() == "用户名或密码不对，请重新输入。"
        assert dialog.password_edit.text() == "" and dialog.isVisible()
        dialog.login_edit.setText("finance")
        dialog.password_edit.setText(users.DEMO_PASSWORD)
        dialog.ok_button.click()

    answer_modal(qtbot, sign)
    operator = sign_in_at_desk(demo_store)
    assert operator is not None and operator.label == "张会计（财务）"


def test_cancelling_the_sign_in_opens_nothing(qtbot, demo_store: Store) -> None:
    demo_store.operator = None
    answer_modal(qtbot, lambda dialog: dialog.reject())
    assert sign_in_at_desk(demo_store) is None and demo_store.operator is None


def test_idle_desk_locks_showing_no_personal_data_until_the_password(
    qtbot, window, demo_store: Store, messages
) -> None:
    demo_store.operator = users.sign_in(demo_store, "frontdesk", users.DEMO_PASSWORD)
    window.show_operator()
    window.show_page(3)  # 住户档案
    page = window.households
    dialog = page.open_household(page.row_at(0))
    assert dialog.isVisible()
    lock = window.start_idle_lock(minutes=5)
    assert lock.timer.interval() == 5 * 60_000
    lock.timer.setInterval(30)
    lock.timer.start()
    qtbot.waitUntil(lambda: window.desk_lock.locked, timeout=3000)
    screen = window.desk_lock.dialog
    assert screen is not None and screen.isVisible()
    assert not window.isVisible() and not dialog.isVisible()
    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert visible == [screen]
    shown = " ".join(label.text() for label in screen.findChildren(type(screen.error_label)))
    assert "4201" not in shown and "悦秀苑" in shown and screen.login_edit.text() == "frontdesk"
    assert screen.login_edit.isReadOnly()
    screen.password_edit.setText("guess")
    screen.ok_button.click()
    assert window.desk_lock.locked and "用户名或密码不对" in screen.error_label.text()
    screen.password_edit.setText(users.DEMO_PASSWORD)
    screen.ok_button.click()
    assert not window.desk_lock.locked
    assert window.isVisible() and dialog.isVisible()
    dialog.done(0)


def test_input_keeps_the_desk_unlocked(qtbot, window) -> None:
    lock = IdleLock(5)
    lock.start()
    try:
        lock.timer.setInterval(400)
        lock.timer.start()
        qtbot.wait(250)
        qtbot.keyClick(window.lookup_edit, "1")
        assert lock.timer.remainingTime() > 300
    finally:
        lock.stop()


def test_switch_user_changes_who_acts_and_a_role_is_refused_by_the_services(
    qtbot, window, demo_store: Store, wait_job, messages
) -> None:
    def sign(dialog: QDialog) -> None:
        dialog.login_edit.setText("frontdesk")
        dialog.password_edit.setText(users.DEMO_PASSWORD)
        dialog.ok_button.click()

    answer_modal(qtbot, sign)
    window.switch_user()
    assert window.operator_label.text() == "经办人：李房管（房管员（前台））"
    with wait_job(window.runner):
        window.runner.run(lambda s: billing.run_bills(s, Period(2026, 12), s.info["operator"]), parent=window)
    assert messages.texts("warning")[-1] == "房管员（前台）岗位无权“出账和补录账单”。请由财务登录办理。"


def test_a_copied_number_is_taken_off_the_clipboard(qtbot) -> None:
    clipboard = QApplication.clipboard()
    copy_briefly("420102199001011234", seconds=0)
    assert clipboard.text() == "420102199001011234"
    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=2000)
    copy_briefly("420102199001011234", seconds=0)
    clipboard.setText("something the clerk copied since")
    qtbot.wait(50)
    assert clipboard.text() == "something the clerk copied since"


def test_the_manager_adds_an_account_at_the_desk_and_others_are_refused(
    qtbot, window, demo_store: Store, wait_job, messages
) -> None:
    from yuexiu_desk.gui.accounts import NewAccountDialog

    demo_store.operator = users.sign_in(demo_store, "manager", users.DEMO_PASSWORD)
    accounts = window.open_accounts()
    assert {row.login for row in accounts.model.rows} == {login for login, _n, _r in users.DEMO_ACCOUNTS}
    new = NewAccountDialog(accounts)
    new.login_edit.setText("zhao")
    new.name_edit.setText("赵出纳")
    new.role_combo.setCurrentIndex(new.role_combo.findData("finance"))
    new.password_edit.setText("zhao password")
    new.repeat_edit.setText("zhao passwore")
    new.ok_button.click()
    assert (
        new.error_label.text() == "两次输入的密码不一致，请重新输入。"
        and new.result() != QDialog.DialogCode.Accepted
    )
    new.repeat_edit.setText("zhao password")
    new.ok_button.click()
    with wait_job(window.runner):
        accounts.add_account(new)
    assert [r.role_label for r in accounts.model.rows if r.login == "zhao"] == ["财务"]
    assert users.sign_in(demo_store, "zhao", "zhao password").role == "finance"

    demo_store.operator = users.sign_in(demo_store, "frontdesk", users.DEMO_PASSWORD)
    manager_row = [r.login for r in accounts.model.rows].index("manager")
    accounts.table.selectRow(manager_row)
    accounts.role_combo.setCurrentIndex(accounts.role_combo.findData("finance"))
    with wait_job(window.runner):
        accounts.change_role()
    assert messages.texts("warning")[-1] == "房管员（前台）岗位无权“添加账户和变更岗位”。请由站长登录办理。"
    assert accounts.model.rows[manager_row].role == "station_manager"
    accounts.close()


def test_the_desktops_screen_lock_locks_the_desk(qtbot, window, demo_store: Store) -> None:
    demo_store.operator = users.sign_in(demo_store, "archive", users.DEMO_PASSWORD)
    window.start_idle_lock()
    assert window.screen_watch is not None
    window.screen_watch.active_changed(False)  # the screen saver going off changes nothing
    assert not window.desk_lock.locked
    window.screen_watch.active_changed(True)  # what the desktop's ActiveChanged(true) delivers
    assert window.desk_lock.locked and not window.isVisible()
    screen = window.desk_lock.dialog
    screen.password_edit.setText(users.DEMO_PASSWORD)
    screen.ok_button.click()
    assert window.isVisible()
