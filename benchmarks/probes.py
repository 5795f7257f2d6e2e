"""Child processes for benchmarks/run.py: each probe runs in a fresh interpreter and prints one JSON line.

    python benchmarks/probes.py <probe> [args…]

Module-level imports are kept to the standard library so that start-up figures only count what a probe
imports itself. Times are CLOCK_MONOTONIC nanoseconds, which is system-wide on Linux, so the parent's
spawn time (passed as --spawn-ns) can be compared with the child's.
"""

from __future__ import annotations

import time

T_START = time.clock_gettime_ns(time.CLOCK_MONOTONIC)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

# The filter keystrokes run.py times; the RSS probes replay them too.
KEYSTROKES = ["1", "12", "12-", "12-2", "12-2-1", "12-2-15", "12-2-150"]
PAGE = 40
REGISTER_ORDER = "building_no, entrance, floor, room"


def now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def emit(**values: Any) -> None:
    print(json.dumps(values), flush=True)


def _max_rss_mb() -> float:
    """Peak resident memory of this process.

    VmHWM is per address space, so it starts afresh at exec; getrusage's ru_maxrss would also count the
    parent's memory at fork time (Linux keeps it across execve), which inflates a probe started from a
    big parent.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for text in status.read_text().splitlines():
            if text.startswith("VmHWM:"):
                return int(text.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _qapp() -> Any:
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


# ---------------------------------------------------------------- a. start-up


def probe_bare_window(args: argparse.Namespace) -> None:
    """Floor: import QtWidgets, QApplication, show an empty QMainWindow, processEvents."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication([])
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    done = now_ns()
    emit(since_spawn=(done - args.spawn_ns) / 1e9, in_process=(done - T_START) / 1e9)


def probe_app_window(args: argparse.Namespace) -> None:
    """The app: Store.open on the demo station, gui.app.create_main_window, show, processEvents."""
    try:
        from yuexiu_desk.gui import app as gui_app
    except ImportError as exc:
        emit(unavailable=f"yuexiu_desk.gui.app not importable: {exc}")
        return
    if not hasattr(gui_app, "create_main_window"):
        emit(unavailable="yuexiu_desk.gui.app has no create_main_window")
        return
    from yuexiu_desk.paths import StationPaths
    from yuexiu_desk.storage.db import Store

    app = _qapp()
    store = open_store(StationPaths(Path(args.data_dir)), Store)
    window = create_window(gui_app, store)
    window.show()
    app.processEvents()
    done = now_ns()
    emit(since_spawn=(done - args.spawn_ns) / 1e9, in_process=(done - T_START) / 1e9)
    window.close()
    store.close()


def open_store(paths: Any, store_class: Any) -> Any:
    """ADAPT HERE: how gui.app.run opens the station (the location and quick_check of services.health)."""
    try:
        from yuexiu_desk.services.health import open_for_desk
    except ImportError:
        store = store_class.open(paths)
    else:
        store = open_for_desk(paths).store
    try:
        from yuexiu_desk.domain.access import system_operator
        from yuexiu_desk.services.users import DEMO_LOGIN, DEMO_PASSWORD, has_accounts, sign_in
    except ImportError:
        return store
    with store.read() as session:
        if not has_accounts(session):
            # benchmarks/generate.py's bureau-scale stations have no accounts: nobody to sign in.
            store.operator = system_operator("基准测试")
            return store
    # The clerk's typing is not the app's time, but checking the password (Argon2id) and recording the sign-in
    # are: the demo manager's 登录 as pressed on the prefilled dialog.
    store.operator = sign_in(store, DEMO_LOGIN, DEMO_PASSWORD)
    return store


def create_window(gui_app: Any, store: Any) -> Any:
    """ADAPT HERE if the GUI's bootstrap changes: what gui.app.run does before showing the window
    (application names, the shipped CJK font, the style), then the main window over the store."""
    setup = getattr(gui_app, "setup_application", None)
    if setup is not None:
        setup(_qapp())
    window = gui_app.create_main_window(store)
    freeze = getattr(gui_app, "freeze_startup_objects", None)  # gui.app.run does this after the window
    if freeze is not None:
        freeze()
    return window


def close_cards(window: Any) -> None:
    """ADAPT HERE: close what a scan opened (the clerk closes the card before the next scan), then let the
    window go idle, as it does between two real scans (seconds apart): work it deferred until after the
    card was painted must not land in the next scan's time."""
    for widget in _qapp().topLevelWidgets():
        if widget is not window and widget.isVisible():
            widget.close()
    settle = now_ns() + 30_000_000
    while now_ns() < settle:
        _qapp().processEvents()
        time.sleep(0.001)


# ---------------------------------------------------------------- b. scan → card in the GUI


def find_scan_entry(window: Any) -> Callable[[str], Any] | None:
    """ADAPT HERE: the main window's way in for a scanned text (the scanner box's signal or a method)."""
    for name in ("open_scanned", "handle_scanned", "on_scanned", "show_scanned", "open_scan", "scan"):
        method = getattr(window, name, None)
        if callable(method):
            return method  # type: ignore[no-any-return]
    from PySide6.QtCore import QObject

    for child in window.findChildren(QObject):
        signal = getattr(child, "scanned", None)
        if signal is not None and hasattr(signal, "emit"):
            return signal.emit  # type: ignore[no-any-return]
    return None


def card_shown(window: Any, code: str) -> bool:
    """ADAPT HERE: True once a visible widget shows the unit card of `code`."""
    from PySide6.QtWidgets import QLabel, QWidget

    for widget in window.findChildren(QWidget):
        name = type(widget).__name__.lower() + widget.objectName().lower()
        if "card" in name and widget.isVisible():
            labels = [widget, *widget.findChildren(QLabel)]
            if any(code in (getattr(w, "text", lambda: "")() or "") for w in labels):
                return True
    return any(w.isVisible() and code in w.windowTitle() for w in _qapp().topLevelWidgets())


def register_shows(window: Any, code: str) -> bool:
    """ADAPT HERE: True once the main window has caught up with a scan: its register's current row is the
    scanned unit (the app may do this after the card is painted)."""
    page = getattr(window, "register", None)
    view = getattr(page, "view", None)
    if view is None:
        return True
    index = view.currentIndex()
    return bool(index.isValid() and index.siblingAtColumn(0).data() == code)


def lease_shown(window: Any, code: str, leaseholder: str) -> bool:
    """ADAPT HERE: True once the visible card of `code` shows its lease with the leaseholder's name (the
    card's lease line, objectName "leaseSummary")."""
    from PySide6.QtWidgets import QLabel

    for widget in _qapp().topLevelWidgets():
        if widget is not window and widget.isVisible() and code in widget.windowTitle():
            for label in widget.findChildren(QLabel):
                if label.isVisible() and leaseholder in label.text():
                    return True
    return False


def _leased_units(store: Any) -> list[tuple[Any, str, str]]:
    """(unit id, code, leaseholder) of every unit with a current lease."""
    from sqlalchemy import select

    from yuexiu_desk.domain.leases import CURRENT_STATUSES
    from yuexiu_desk.storage.models import HouseholdMember, Lease, Unit

    with store.read() as session:
        return [
            (u, c, n)
            for u, c, n in session.execute(
                select(Unit.id, Unit.code, HouseholdMember.name)
                .join(Lease, Lease.unit_id == Unit.id)
                .join(
                    HouseholdMember,
                    (HouseholdMember.household_id == Lease.household_id) & HouseholdMember.is_leaseholder,
                )
                .where(Lease.status.in_(CURRENT_STATUSES))
                .order_by(Unit.code)
            )
        ]


def _card_paint_watch() -> Any:
    """An application event filter that notes when the card's first paint is complete: at the first event
    after the card's paint events that is not one of them (painting a window paints all its children at
    once, so nothing else runs in between)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QWidget

    class Watch(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.code = ""
            self.painting = False
            self.done_ns: int | None = None

        def expect(self, code: str) -> None:
            self.code, self.painting, self.done_ns = code, False, None

        def eventFilter(self, watched: Any, event: Any) -> bool:
            if self.code and self.done_ns is None:
                is_card_paint = (
                    event.type() == QEvent.Type.Paint
                    and isinstance(watched, QWidget)
                    and self.code in watched.window().windowTitle()
                )
                if is_card_paint:
                    self.painting = True
                elif self.painting:
                    self.done_ns = now_ns()
            return False

    return Watch()


def open_shown_window(
    args: argparse.Namespace, size: tuple[int, int] | None = None
) -> tuple[Any, Any, Any, Any] | None:
    """The app's main window over args.data_dir, shown and laid out: (qapp, gui.app module, store, window).

    None (after emitting why) when the GUI package cannot be imported.
    """
    try:
        from yuexiu_desk.gui import app as gui_app
    except ImportError as exc:
        emit(unavailable=f"yuexiu_desk.gui.app not importable: {exc}")
        return None
    from yuexiu_desk.paths import StationPaths
    from yuexiu_desk.storage.db import Store

    app = _qapp()
    store = open_store(StationPaths(Path(args.data_dir)), Store)
    window = create_window(gui_app, store)
    if size is not None:
        window.resize(*size)
    window.show()
    app.processEvents()
    return app, gui_app, store, window


def probe_gui_scan(args: argparse.Namespace) -> None:
    import random

    from yuexiu_desk.services.lookup import unit_payload
    from yuexiu_desk.storage.db import require_station
    from yuexiu_desk.storage.models import Unit

    opened = open_shown_window(args)
    if opened is None:
        return
    app, _, store, window = opened
    entry = find_scan_entry(window)
    if entry is None:
        emit(unavailable="no scan entry found on the main window (adapt probes.find_scan_entry)")
        return
    from sqlalchemy import select

    with store.read() as session:
        station_code = require_station(session).code
        if args.lease:  # units with a current lease; the card must show its leaseholder (figure g)
            units = _leased_units(store)
        else:
            units = [(u, c, "") for u, c in session.execute(select(Unit.id, Unit.code))]
    rng = random.Random(7)
    watch = _card_paint_watch()
    app.installEventFilter(watch)
    times, caught_up = [], []
    for unit_id, code, leaseholder in rng.sample(units, args.reps):
        text = unit_payload(station_code, unit_id)
        watch.expect(code)
        started = now_ns()
        entry(text)
        app.processEvents()  # the card is seen once it is painted, not when show() is called
        deadline = started + 2_000_000_000
        while (
            not card_shown(window, code)
            or (leaseholder and not lease_shown(window, code, leaseholder))
            or (watch.painting is False and now_ns() < started + 200_000_000)
        ):
            app.processEvents()
            if now_ns() > deadline:
                what = "with its lease " if leaseholder else ""
                emit(
                    unavailable=f"no card for {code} {what}became visible within 2 s "
                    "(adapt probes.card_shown / lease_shown)"
                )
                return
        seen = now_ns()
        times.append(((watch.done_ns or seen) - started) / 1e9)
        while not register_shows(window, code) and now_ns() < deadline:
            app.processEvents()
        caught_up.append((now_ns() - started) / 1e9)
        watch.expect("")
        close_cards(window)
    emit(times=times, caught_up=caught_up)
    window.close()
    store.close()


def probe_bare_dialog(args: argparse.Namespace) -> None:
    """Floor of the GUI card: a bare sqlite3 row by primary key shown in a plain QDialog of 15 labels
    and a small table, shown and painted over a main window, then closed."""
    import sqlite3

    from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QMainWindow, QTableWidget

    app = _qapp()
    window = QMainWindow()
    window.resize(1280, 820)
    window.show()
    app.processEvents()
    conn = sqlite3.connect(Path(args.data_dir) / "station.sqlite3")
    where = "WHERE id IN (SELECT unit_id FROM lease WHERE status = 'active')" if args.lease else ""
    ids = [r[0] for r in conn.execute(f"SELECT id FROM unit {where} ORDER BY random() LIMIT ?", (args.reps,))]
    times = []
    for unit_id in ids:
        started = now_ns()
        row = conn.execute("SELECT * FROM unit WHERE id = ?", (unit_id,)).fetchone()
        values = list(row[2:])
        if args.lease:  # figure g: also its current lease, the household's members and the 异动 rows
            lease = conn.execute(
                "SELECT * FROM lease WHERE unit_id = ? AND status IN ('active', 'terminated') "
                "ORDER BY version DESC LIMIT 1",
                (unit_id,),
            ).fetchone()
            members = conn.execute("SELECT name FROM household_member WHERE household_id = ?", (lease[3],))
            values += [lease[1], lease[7], lease[8], lease[12], " ".join(m[0] for m in members)]
            conn.execute(
                "SELECT * FROM change_event WHERE unit_id = ? ORDER BY occurred_at DESC LIMIT 50", (unit_id,)
            ).fetchall()
        dialog = QDialog(window)
        dialog.setMinimumSize(640, 560)
        grid = QGridLayout(dialog)
        for i, value in enumerate(values):
            grid.addWidget(QLabel(str(value)), i, 0)
        grid.addWidget(QTableWidget(3, 5), len(values), 0)
        dialog.show()
        app.processEvents()
        times.append((now_ns() - started) / 1e9)
        dialog.close()
        dialog.deleteLater()
        app.processEvents()
    emit(times=times)


# ---------------------------------------------------------------- c. peak RSS while filtering


def register_model(gui_app: Any, store: Any, window: Any) -> Any:
    """ADAPT HERE: the register's table model (the one with set_filter), or None."""
    from PySide6.QtCore import QAbstractItemModel
    from PySide6.QtWidgets import QAbstractItemView

    found = []
    for view in window.findChildren(QAbstractItemView):
        model = view.model()
        while model is not None and not hasattr(model, "set_filter") and hasattr(model, "sourceModel"):
            model = model.sourceModel()
        if isinstance(model, QAbstractItemModel) and hasattr(model, "set_filter"):
            found.append((model, view))
    return max(found, key=lambda mv: mv[0].rowCount(), default=(None, None))[0]


def register_view(window: Any, model: Any) -> Any:
    from PySide6.QtWidgets import QAbstractItemView

    for view in window.findChildren(QAbstractItemView):
        inner = view.model()
        while inner is not None and inner is not model and hasattr(inner, "sourceModel"):
            inner = inner.sourceModel()
        if inner is model:
            return view
    return None


def probe_gui_filter(args: argparse.Namespace) -> None:
    """Keystrokes through the GUI register: model.set_filter, then the view repaints its first page."""
    from yuexiu_desk.services.units import UnitFilter

    opened = open_shown_window(args, size=(1280, 800))
    if opened is None:
        return
    app, gui_app, store, window = opened
    model = register_model(gui_app, store, window)
    if model is None:
        emit(unavailable="no register model with set_filter found (adapt probes.register_model)")
        return
    view = register_view(window, model)
    if view is not None and not view.isVisible():
        # Bring the register page forward, whatever holds it (a tab or a stacked page).
        widget = view
        while widget is not None and widget is not window:
            parent = widget.parentWidget()
            if parent is not None and hasattr(parent, "setCurrentWidget"):
                parent.setCurrentWidget(widget)
            widget = parent
        app.processEvents()
    steps = [*KEYSTROKES, ""]
    times: dict[str, list[float]] = {s: [] for s in steps}
    for round_no in range(args.reps + 1):
        for text in steps:
            started = now_ns()
            model.set_filter(UnitFilter(text=text))
            for row in range(min(PAGE, model.rowCount())):
                for column in range(model.columnCount()):
                    model.data(model.index(row, column))
            if view is not None:
                view.viewport().repaint()
            app.processEvents()
            if round_no:
                times[text].append((now_ns() - started) / 1e9)
    emit(times=times, rows=model.rowCount(), view=view is not None and view.isVisible())
    window.close()
    store.close()


def probe_rss(args: argparse.Namespace) -> None:
    """Open the 50k store (and the GUI with its register when it exists) and run the keystrokes."""
    from yuexiu_desk.paths import StationPaths
    from yuexiu_desk.services.units import UnitFilter, fetch_rows_by_key, search_unit_keys
    from yuexiu_desk.storage.db import Store

    # As the desk opens it: signed in (the generated stations have the demo accounts, and a window over a
    # store nobody signed in to would wait for the sign-in dialog).
    store = open_store(StationPaths(Path(args.data_dir)), Store)
    gui = "no"
    window = None
    if args.gui:
        try:
            from yuexiu_desk.gui import app as gui_app

            app = _qapp()
            window = create_window(gui_app, store)
            window.show()
            app.processEvents()
            model = register_model(gui_app, store, window)
            gui = f"yes (register rows: {model.rowCount() if model is not None else '?'})"
            if model is not None:
                for text in [*KEYSTROKES, ""]:
                    model.set_filter(UnitFilter(text=text))
                    app.processEvents()
        except ImportError:
            gui = "not available"
    for _ in range(2):
        for text in [*KEYSTROKES, ""]:
            with store.read() as session:
                keys = search_unit_keys(session, UnitFilter(text=text))
                fetch_rows_by_key(session, keys[:PAGE])
    emit(rss_mb=_max_rss_mb(), gui=gui)
    store.close()


def probe_rss_floor(args: argparse.Namespace) -> None:
    """Floor: import sqlalchemy, fetch all 50k ids with sqlite3 (and a bare QApplication when --gui)."""
    import sqlite3

    import sqlalchemy  # noqa: F401

    if args.gui:
        from PySide6.QtWidgets import QMainWindow

        app = _qapp()
        window = QMainWindow()
        window.show()
        app.processEvents()
    conn = sqlite3.connect(Path(args.data_dir) / "station.sqlite3")
    for _ in range(2):
        ids = [r[0] for r in conn.execute(f"SELECT id FROM unit ORDER BY {REGISTER_ORDER}")]
        placeholders = ",".join("?" * PAGE)
        conn.execute(f"SELECT * FROM unit WHERE id IN ({placeholders})", ids[:PAGE]).fetchall()
    emit(rss_mb=_max_rss_mb())


# ---------------------------------------------------------------- d. label PDF


def probe_labels(args: argparse.Namespace) -> None:
    """services.labels.unit_labels + printing.labels.write_label_sheet on the demo, cold then warm."""
    from yuexiu_desk.paths import StationPaths
    from yuexiu_desk.storage.db import Store

    store = Store.open(StationPaths(Path(args.data_dir)))
    out = Path(args.out)
    runs = []
    for attempt in range(2):
        started = now_ns()
        # The first print in a running app pays for the lazy imports (reportlab, fonts): counted.
        from yuexiu_desk.printing.labels import write_label_sheet
        from yuexiu_desk.services.labels import unit_labels

        with store.read() as session:
            labels = unit_labels(session)
        try:
            pages = write_label_sheet(labels, out.with_name(f"{out.stem}-{attempt}.pdf"))
        except NotImplementedError:
            emit(unavailable="printing.labels.write_label_sheet is not implemented yet")
            return
        runs.append((now_ns() - started) / 1e9)
    emit(cold=runs[0], warm=runs[1], labels=len(labels), pages=pages)
    store.close()


def probe_labels_floor(args: argparse.Namespace) -> None:
    """Floor: import reportlab, embed the CJK TrueType font, draw 194 labels' text on 9 A4 pages."""
    started = now_ns()
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from yuexiu_desk.paths import font_path

    pdfmetrics.registerFont(TTFont("WQY", str(font_path()), subfontIndex=0))
    pdf = canvas.Canvas(str(args.out), pagesize=A4)
    per_page, columns = 24, 3
    height = A4[1]
    for i in range(args.labels):
        if i and i % per_page == 0:
            pdf.showPage()
        slot = i % per_page
        x = 8 * mm + (slot % columns) * 65 * mm
        y = height - 10 * mm - (slot // columns + 1) * 34 * mm
        pdf.setFont("WQY", 10)
        pdf.drawString(x, y + 20 * mm, "悦秀苑")
        pdf.drawString(x, y + 14 * mm, f"{i // 30 + 1}栋{i % 2 + 1}单元{i % 16 + 1}0{i % 3 + 1}室")
        pdf.drawString(x, y + 8 * mm, f"{i // 30 + 1}-{i % 2 + 1}-{i % 16 + 1}0{i % 3 + 1}")
    pdf.showPage()
    pdf.save()
    emit(cold=(now_ns() - started) / 1e9)


def probe_gui_refresh(args: argparse.Namespace) -> None:
    """What every write costs the GUI afterwards: the main window's refresh after a change."""
    opened = open_shown_window(args)
    if opened is None:
        return
    app, _, store, window = opened
    refresh = refresh_after_write(window)
    if refresh is None:
        emit(unavailable="no refresh method on the main window (adapt probes.refresh_after_write)")
        return
    times = []
    for _ in range(args.reps):
        started = now_ns()
        refresh()
        app.processEvents()
        times.append((now_ns() - started) / 1e9)
    emit(times=times)
    window.close()
    store.close()


def refresh_after_write(window: Any) -> Callable[[], Any] | None:
    """ADAPT HERE: what the window runs when the op runner reports a change (changed(topic))."""
    changed = getattr(window, "_on_changed", None)
    if callable(changed):
        return lambda: changed("units")
    return getattr(window, "refresh_all", None)


PROBES: dict[str, Callable[[argparse.Namespace], None]] = {
    "gui_refresh": probe_gui_refresh,
    "bare_window": probe_bare_window,
    "bare_dialog": probe_bare_dialog,
    "app_window": probe_app_window,
    "gui_scan": probe_gui_scan,
    "gui_filter": probe_gui_filter,
    "rss": probe_rss,
    "rss_floor": probe_rss_floor,
    "labels": probe_labels,
    "labels_floor": probe_labels_floor,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("probe", choices=sorted(PROBES))
    parser.add_argument("--spawn-ns", type=int, default=T_START)
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--labels", type=int, default=194)
    parser.add_argument("--gui", action="store_true")
    parser.add_argument(
        "--lease", action="store_true", help="gui_scan / bare_dialog: leased units (figure g)"
    )
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    PROBES[args.probe](args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
