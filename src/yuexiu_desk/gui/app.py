"""Starting the desk app: the QApplication (font, style), the store, the main window, and the last-resort
handler that turns an uncaught exception into a log entry and one apology instead of a crash.
"""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication

from yuexiu_desk.clock import Clock
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.mainwindow import APP_TITLE, MainWindow
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.scanner import ScannerFilter, TimeSource
from yuexiu_desk.gui.style import apply_style
from yuexiu_desk.logs import configure_logging
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.storage.db import Store

log = logging.getLogger(__name__)

# No estate name here: Qt appends the display name to window titles that do not end with it, and the main
# window's title ("<estate> · 服务站桌面 yuexiu-desk") takes the estate from the station.
APP_NAME = APP_TITLE


def setup_application(app: QApplication) -> None:
    """Names, the shipped CJK font and the style; idempotent (tests and screenshots call it too)."""
    app.setApplicationName("yuexiu-desk")
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("yuexiu")
    apply_style(app)


def create_main_window(
    store: Store,
    *,
    scanner_time: TimeSource | None = None,
    labels_dir: Path | None = None,
) -> MainWindow:
    """The main window over an open store, with its op runner and the app-wide scanner filter."""
    runner = OpRunner(store)
    scanner = ScannerFilter(time_source=scanner_time)
    window = MainWindow(store, runner, scanner, labels_dir=labels_dir)
    runner.setParent(window)
    scanner.setParent(window)
    return window


def freeze_startup_objects() -> None:
    """Take what start-up built (imported modules, the window and its pages) out of the garbage collector's
    sight, once the main window exists.

    Those objects live as long as the app, yet every full collection walked all of them — some 150,000,
    i.e. pauses of tens of milliseconds that landed in the middle of a keystroke or a scan. gc.freeze()
    moves them to the permanent generation; objects made later are collected as usual. No gc.collect()
    first: it would cost start-up time to free the little garbage start-up leaves.
    """
    gc.freeze()


class _ApologyHook:
    """sys.excepthook for the GUI: log every uncaught exception, show at most one apology at a time."""

    def __init__(self) -> None:
        self._showing = False

    def __call__(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        log.critical("uncaught exception", exc_info=(kind, exc, tb))
        if self._showing:
            return
        self._showing = True
        try:
            messages.show_problem(QApplication.activeWindow(), exc)
        finally:
            self._showing = False


def _start_daily_jobs(window: MainWindow, store: Store) -> None:
    """The daily integrity check, then the daily backup, in the background once the window is up.

    Jobs run in order on one thread, so any write the clerk starts meanwhile waits for the check."""
    from yuexiu_desk.services.backups import backup_if_due
    from yuexiu_desk.services.health import daily_check

    def checked(result: object) -> None:
        if store.read_only_reason is not None:
            window.statusBar().showMessage("只读：数据库未通过完整性检查，不能保存修改。请从备份恢复。")
            messages.warn(window, store.read_only_reason, "数据库已损坏")

    window.runner.run_task(
        lambda: daily_check(store), description="正在做每日完整性检查…", quiet=True, on_success=checked
    )
    # A verified copy into backups/ (backup_database refuses to keep a copy that fails integrity_check).
    window.runner.run_task(lambda: backup_if_due(store), description="正在做每日备份…", quiet=True)


def run(paths: StationPaths, clock: Clock | None = None) -> int:
    """Open the desk app on a station data folder; the process exit code."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv)
    setup_application(app)
    configure_logging(paths)
    from yuexiu_desk.gui.startup import open_station

    # Refuses a network/removable folder; a damaged database opens read-only (or is restored from a backup).
    opening = open_station(paths, clock)
    if opening is None:
        return 1
    store = opening.store
    from yuexiu_desk.gui.login import sign_in_at_desk
    from yuexiu_desk.services.station import station_info

    with store.read() as session:
        has_station = station_info(session) is not None
    # Nobody works at the desk unsigned: the first run creates the manager, later runs sign in (the demo
    # station's dialog comes prefilled). A new station without one signs in once the demo is made.
    if has_station and sign_in_at_desk(store) is None:
        store.close()
        return 0
    previous_hook = sys.excepthook
    sys.excepthook = _ApologyHook()
    window = create_main_window(store)
    freeze_startup_objects()
    try:
        window.show()
        if opening.read_only:
            window.statusBar().showMessage("只读：数据库未通过完整性检查，不能保存修改。请从备份恢复。")
        else:
            _start_daily_jobs(window, store)
        window.start_idle_lock()
        return app.exec()
    finally:
        window.shutdown()
        sys.excepthook = previous_hook
        store.close()
