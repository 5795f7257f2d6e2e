"""How the desk app tells the clerk something: one warning per failed action, one apology per bug.

Every dialog goes through here so tests can replace QMessageBox once and nothing blocks.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from yuexiu_desk.errors import EnvironmentProblem, UserError

log = logging.getLogger(__name__)

# Shown for bugs, which can strike after a commit or while painting: it must not promise that nothing changed.
APOLOGY = "很抱歉，程序出现内部错误，已记录到日志。如果刚才在保存，请打开房源卡片确认是否已保存。"


def warn(parent: QWidget | None, text: str, title: str = "无法完成") -> None:
    QMessageBox.warning(parent, title, text)


def inform(parent: QWidget | None, text: str, title: str = "提示") -> None:
    QMessageBox.information(parent, title, text)


def ask(parent: QWidget | None, text: str, title: str = "请确认") -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def apologise(parent: QWidget | None) -> None:
    QMessageBox.critical(parent, "出错了", APOLOGY)


def show_problem(parent: QWidget | None, exc: BaseException) -> None:
    """A UserError or EnvironmentProblem as its own sentence; anything else is a bug: logged, apologised for."""
    from yuexiu_desk.storage.db import environment_problem

    if isinstance(exc, UserError | EnvironmentProblem):
        warn(parent, exc.message)
    elif (problem := environment_problem(exc)) is not None:
        # A full disk or a locked database is not a bug: the unit of work rolled back; say what to do.
        log.warning("environment problem: %s", exc)
        warn(parent, problem.message)
    else:
        log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
        apologise(parent)


class Toast(QLabel):
    """A short, non-blocking message over the bottom of a window (a scan that failed, a unit opened)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)

    def show_message(self, text: str, error: bool = False, msec: int = 4000) -> None:
        self.setProperty("error", error)
        self.style().unpolish(self)
        self.style().polish(self)
        self.setText(text)
        parent = self.parentWidget()
        assert parent is not None
        width = min(parent.width() - 40, 640)
        self.setFixedWidth(max(width, 200))
        self.adjustSize()
        self.move((parent.width() - self.width()) // 2, parent.height() - self.height() - 48)
        self.raise_()
        self.show()
        self._timer.start(msec)
