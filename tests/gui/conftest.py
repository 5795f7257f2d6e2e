"""GUI fixtures: a styled QApplication, recorded (never blocking) message boxes, a fake scanner clock,
and the main window over a fresh copy of the demo station."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.gui.app import create_main_window, setup_application
from yuexiu_desk.gui.mainwindow import MainWindow
from yuexiu_desk.services.station import station_info
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.db import Store

JOB_TIMEOUT_MS = 20_000


@pytest.fixture(scope="session", autouse=True)
def _styled_app(qapp: QApplication) -> QApplication:
    setup_application(qapp)
    return qapp


@dataclass
class Messages:
    """Every QMessageBox the app tried to show, and what question() answers."""

    shown: list[tuple[str, str, str]] = field(default_factory=list)
    answer_yes: bool = False
    opened_urls: list[QUrl] = field(default_factory=list)
    allow_critical: bool = False

    def texts(self, kind: str | None = None) -> list[str]:
        return [text for k, _title, text in self.shown if kind is None or k == kind]

    def record(self, kind: str):
        def show(parent: Any, title: str, text: str, *args: Any, **kwargs: Any) -> Any:
            self.shown.append((kind, title, text))
            if kind == "question":
                return QMessageBox.StandardButton.Yes if self.answer_yes else QMessageBox.StandardButton.No
            return QMessageBox.StandardButton.Ok

        return show


@pytest.fixture(autouse=True)
def messages(monkeypatch: pytest.MonkeyPatch) -> Iterator[Messages]:
    recorded = Messages()
    for kind in ("warning", "information", "critical", "question"):
        monkeypatch.setattr(QMessageBox, kind, recorded.record(kind))

    def open_url(url: QUrl) -> bool:
        recorded.opened_urls.append(url)
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    yield recorded
    if not recorded.allow_critical:
        assert not recorded.texts("critical"), f"unexpected apology dialog: {recorded.texts('critical')}"


class FakeTime:
    """The scanner's time source: stands still unless a test advances it (milliseconds)."""

    def __init__(self) -> None:
        self.ms = 1_000_000.0

    def __call__(self) -> float:
        return self.ms

    def advance(self, ms: float) -> None:
        self.ms += ms


@pytest.fixture
def scanner_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def open_window(
    qtbot: Any, scanner_time: FakeTime, tmp_path: Path, grant_demo_keys: Callable[[Store], None]
) -> Iterator[Callable[[Store], MainWindow]]:
    """Opens a main window over a store (closed again at the end of the test)."""
    opened: list[MainWindow] = []

    def opener(store: Store) -> MainWindow:
        if store.operator is None:
            with store.read() as session:
                has_station = station_info(session) is not None
            if has_station:
                # A window over a station needs someone signed in (else its sign-in dialog would block).
                store.operator = system_operator("测试")
                grant_demo_keys(store)
        window = create_main_window(store, scanner_time=scanner_time, labels_dir=tmp_path / "labels")
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(
            lambda: window.listening
        )  # the scanner is listened to from just after the first paint
        opened.append(window)
        return window

    yield opener
    for window in opened:
        window.close()


@pytest.fixture
def window(open_window: Callable[[Store], MainWindow], demo_store: Store) -> MainWindow:
    return open_window(demo_store)


@pytest.fixture
def wait_job(qtbot: Any) -> Callable[[Any], Any]:
    """with wait_job(window.runner): <start a background job>  — returns when the job has reported back."""

    def waiter(runner: Any) -> Any:
        return qtbot.waitSignal(runner.finished, timeout=JOB_TIMEOUT_MS)

    return waiter


@pytest.fixture
def unit_id(demo_store: Store) -> Callable[[str], uuid.UUID]:
    def lookup(code: str) -> uuid.UUID:
        with demo_store.read() as session:
            return find_unit_id_by_code(session, code)

    return lookup
