"""The base of the small input dialogs that save through the op runner: 保存 / 取消, busy while saving,
and the dialog stays open with the clerk's input when the service says no (the runner shows its sentence).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QApplication,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.gui.oprunner import OpRunner


def to_qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


def date_edit(day: date) -> QDateEdit:
    edit = QDateEdit(to_qdate(day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMaximumWidth(160)
    return edit


class SavingDialog(QDialog):
    """Subclasses put their fields in self.body and implement op(); accept() runs it through the runner."""

    description = "正在保存…"
    topic: str | None = "leases"

    def __init__(
        self, runner: OpRunner, title: str, ok_text: str = "保存", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.result_value: Any = None
        self._busy = False
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        self.body = QVBoxLayout()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setObjectName("primary")
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText("取消")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.saving_label = QLabel("正在保存，请稍候…")
        self.saving_label.setObjectName("hint")
        self.saving_label.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(self.body, 1)
        layout.addWidget(self.saving_label)
        layout.addWidget(self.buttons)

    @property
    def busy(self) -> bool:
        return self._busy

    def op(self) -> Callable[[Session], Any]:
        """The write, built from the fields on the GUI thread; it runs in the worker with its own session."""
        raise NotImplementedError

    def saved(self, result: Any) -> None:
        """Called on the GUI thread after a successful save, before the dialog closes."""

    def accept(self) -> None:
        if self._busy:
            return
        try:
            work = self.op()
        except ValueError:
            return
        self._set_busy(True)
        self.runner.run(
            work,
            description=self.description,
            topic=self.topic,
            on_success=self._succeeded,
            on_failure=lambda _exc: self._set_busy(False),
            parent=self,
            owner=self,
        )

    def _succeeded(self, result: Any) -> None:
        self._set_busy(False)
        self.result_value = result
        super().accept()
        self.saved(result)

    def reject(self) -> None:
        if self._busy:  # not while saving: the clerk could not know whether it was saved
            QApplication.beep()
            return
        super().reject()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.saving_label.setVisible(busy)
        self.ok_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
