"""Starting the app: the window with the station totals, the first-run page, a store that cannot open."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from yuexiu_desk.gui.app import _ApologyHook, run
from yuexiu_desk.gui.mainwindow import window_title
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.storage.db import Store


def test_window_shows_station_totals(window):
    assert window.windowTitle() == "悦秀苑 · 服务站桌面 yuexiu-desk" == window_title("悦秀苑")
    assert window.isVisible()
    assert "194" in window.totals_label.text()
    assert "10,225.84" in window.totals_label.text()
    assert window.totals_label.text() == "194 套 · 10,225.84 m²"
    assert "悦秀苑" in window.station_label.text()
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == [
        "房源台账",
        "房态图",
        "异动统计",
        "住户档案",
        "租赁合同",
        "收费",
        "欠费催缴",
        "资金对账",
        "安全巡查",
        "维修台账",
        "投诉建议",
    ]


def test_chinese_font_is_registered(window):
    family = QApplication.font().family()
    assert "WenQuanYi" in family or "文泉" in family


def test_pages_switch_with_shortcuts(window, qtbot):
    window.act_pages[1].trigger()
    assert window.current_page() is window.housemap
    window.act_pages[2].trigger()
    assert window.current_page() is window.statistics
    window.act_pages[0].trigger()
    assert window.current_page() is window.register
    assert window.act_print.shortcut().toString() == "Ctrl+P"
    assert window.act_paste.shortcut().toString() == "Ctrl+Shift+V"
    assert window.act_lookup.shortcut().toString() == "Ctrl+L"


def test_ctrl_l_focuses_lookup_box(window, qtbot):
    window.act_lookup.trigger()
    qtbot.waitUntil(window.lookup_edit.hasFocus)


def test_first_run_page_creates_the_demo(qtbot, empty_paths, clock, open_window, wait_job):
    from yuexiu_desk.gui.login import SignInDialog

    store = Store.open(empty_paths, clock)
    try:
        window = open_window(store)
        assert window.first_run is not None and window.first_run.isVisible()
        assert window.register is None
        assert window.station_label.text() == "尚未创建服务站"
        assert not window.act_print.isEnabled()
        signed = []

        def sign_in(store_, parent):
            # The demo now has accounts: its sign-in (prefilled with the demo manager) comes up.
            dialog = SignInDialog(store_, parent)
            signed.append(dialog.login_edit.text())
            dialog.ok_button.click()
            store_.operator = dialog.operator
            return dialog.operator

        window.sign_in = sign_in
        with wait_job(window.runner):
            window.first_run.create_button.click()
        assert signed == ["manager"] and window.operator_label.text() == "经办人：王站长（站长）"
        assert window.register is not None and window.register.isVisible()
        assert window.register.count_label.text() == "共 194 套"
        assert window.totals_label.text() == "194 套 · 10,225.84 m²"
        assert window.act_print.isEnabled()
        window.close()
    finally:
        store.close()


def test_run_shows_store_problem_and_exits_1(tmp_path: Path, messages):
    folder = tmp_path / "station"
    folder.mkdir()
    (folder / "station.sqlite3").write_bytes(b"this is not a database at all" * 10)
    assert run(StationPaths(folder)) == 1
    (critical,) = messages.texts("critical")
    assert "不是本系统的数据库" in critical
    messages.allow_critical = True


def test_uncaught_exception_is_logged_and_apologised_once(messages, caplog):
    hook = _ApologyHook()
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        hook(type(exc), exc, exc.__traceback__)
    assert len(messages.texts("critical")) == 1
    assert "很抱歉" in messages.texts("critical")[0]
    assert any("uncaught exception" in r.message for r in caplog.records)
    messages.allow_critical = True


def test_run_opens_the_window_and_cleans_up(demo_paths, monkeypatch):
    import sys

    seen = {}

    def fake_exec(*args):
        windows = [
            w
            for w in QApplication.topLevelWidgets()
            if w.isVisible() and w.windowTitle() == window_title("悦秀苑")
        ]
        seen["windows"] = windows
        seen["totals"] = windows[0].totals_label.text() if windows else ""
        seen["hook"] = sys.excepthook
        return 0

    import gc

    from yuexiu_desk.gui.login import SignInDialog

    def sign_in_as_prefilled(dialog):
        # The demo's sign-in comes filled with the documented manager login: 登录 is all it takes.
        seen["login"] = dialog.login_edit.text()
        dialog.ok_button.click()
        return dialog.result()

    hook_before = sys.excepthook
    monkeypatch.setattr(QApplication, "exec", fake_exec)
    monkeypatch.setattr(SignInDialog, "exec", sign_in_as_prefilled)
    frozen_before = gc.get_freeze_count()
    try:
        assert run(demo_paths) == 0
        # start-up's objects (imports, the window) are out of the collector's sight: no pauses for them
        assert gc.get_freeze_count() > frozen_before
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
    assert len(seen["windows"]) == 1
    assert seen["login"] == "manager"
    assert seen["windows"][0].operator_label.text() == "经办人：王站长（站长）"
    assert seen["totals"] == "194 套 · 10,225.84 m²"
    assert isinstance(seen["hook"], _ApologyHook)
    assert sys.excepthook is hook_before
    seen["windows"][0].close()


def rename_estate(store, name):
    from sqlalchemy import select

    from yuexiu_desk.storage.models import Station

    with store.unit_of_work() as session:
        station = session.scalar(select(Station))
        assert station is not None
        station.estate_name = name


def test_title_and_label_folder_come_from_the_station(qtbot, demo_store, monkeypatch, tmp_path):
    from PySide6.QtCore import QStandardPaths

    from yuexiu_desk.gui.app import create_main_window

    rename_estate(demo_store, "锦绣园")
    documents = tmp_path / "Documents"
    documents.mkdir()
    monkeypatch.setattr(QStandardPaths, "writableLocation", lambda *_args: str(documents))
    window = create_main_window(demo_store)  # no labels_dir: the default folder
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.windowTitle() == "锦绣园 · 服务站桌面 yuexiu-desk"
        assert "悦秀苑" not in window.windowTitle()
        assert window.labels_dir() == documents / "锦绣园标签"
        dialog = window.open_print_dialog()
        assert dialog.path_edit.text().startswith(str(documents / "锦绣园标签"))
        dialog.reject()
        # Qt appends the application display name to titles not ending with it: no estate name there either
        assert "悦秀苑" not in QApplication.applicationDisplayName()
        assert window.windowTitle().endswith(QApplication.applicationDisplayName())
    finally:
        window.close()


def test_renamed_estate_shows_after_a_refresh(window, qtbot, demo_store, wait_job):
    assert window.windowTitle().startswith("悦秀苑 · ")
    rename_estate(demo_store, "锦绣园")
    window.act_refresh.trigger()
    assert window.windowTitle() == "锦绣园 · 服务站桌面 yuexiu-desk"


def test_no_station_no_estate_in_the_title(qtbot, empty_paths, clock, open_window):
    store = Store.open(empty_paths, clock)
    try:
        window = open_window(store)
        assert window.windowTitle() == "服务站桌面 yuexiu-desk"
        window.close()
    finally:
        store.close()
