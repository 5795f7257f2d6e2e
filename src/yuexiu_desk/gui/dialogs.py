"""Small dialogs: change a unit's status (异动), print a sheet of QR labels, and opening a finished PDF."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from yuexiu_desk.domain.units import TRANSITIONS, UnitStatus
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.services.label_sheet import LabelSheetResult, make_unit_label_sheet, split_codes
from yuexiu_desk.services.units import UnitRow, change_status


def possible_targets(current: UnitStatus) -> list[UnitStatus]:
    """The statuses a unit can move to from current, in the order of UnitStatus."""
    allowed = {to for (frm, to) in TRANSITIONS if frm == current}
    return [s for s in UnitStatus if s in allowed]


class ChangeStatusDialog(QDialog):
    """变更房态: target status (only the possible ones) and a required reason; saved through the op runner."""

    def __init__(self, row: UnitRow, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._row = row
        self._runner = runner
        self._busy = False
        self.setWindowTitle(f"变更房态 · {row.code}")
        self.setMinimumWidth(420)

        current = QLabel(f"{row.code}　当前房态：<b>{row.status.label}</b>")
        self.target_combo = QComboBox()
        for target in possible_targets(row.status):
            kind = TRANSITIONS[(row.status, target)]
            self.target_combo.addItem(f"{target.label}（{kind.label}）", target.value)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("必填，例如：配租签约入住、卫生间漏水维修")
        self.reason_edit.setMaxLength(200)

        form = QFormLayout()
        form.addRow("变更为(&T)", self.target_combo)
        form.addRow("异动原因(&R)", self.reason_edit)
        note = QLabel("每次变更都会记录为一条异动（时间、原因、经办人），计入异动统计。")
        note.setObjectName("hint")
        note.setWordWrap(True)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("确定变更")
        self.ok_button.setObjectName("primary")
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText("取消")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.saving_label = QLabel("正在保存，请稍候…")
        self.saving_label.setObjectName("hint")
        self.saving_label.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(current)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.saving_label)
        layout.addWidget(self.buttons)
        self.target_combo.setFocus()

    def selected_target(self) -> UnitStatus:
        return UnitStatus(self.target_combo.currentData())

    @property
    def busy(self) -> bool:
        return self._busy

    def accept(self) -> None:
        """Save through the runner; the dialog stays open (with the clerk's text) if the service says no."""
        if self._busy:
            return  # already saving
        unit_id, target, reason = self._row.id, self.selected_target(), self.reason_edit.text()
        self._set_busy(True)
        self._runner.run(
            lambda session: change_status(session, unit_id, target, reason, session.info["operator"]),
            description="正在保存房态变更…",
            topic="units",
            on_success=lambda _event: self._saved(),
            on_failure=lambda _exc: self._failed(),
            parent=self,
            owner=self,
        )

    def reject(self) -> None:
        """Esc, 取消 and the close button: not while saving, or the clerk could not know whether it was saved."""
        if self._busy:
            QApplication.beep()
            return
        super().reject()

    def _saved(self) -> None:
        self._set_busy(False)
        super().accept()

    def _failed(self) -> None:
        self._set_busy(False)
        self.reason_edit.setFocus()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.saving_label.setVisible(busy)
        self.ok_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
        self.target_combo.setEnabled(not busy)
        self.reason_edit.setEnabled(not busy)


def offer_to_open(parent: QWidget | None, result: LabelSheetResult) -> None:
    text = f"已生成 {result.labels} 张标签，共 {result.pages} 页：\n{result.path}\n\n现在打开这个 PDF 吗？"
    if messages.ask(parent, text, "标签已生成"):
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(result.path)))


def print_labels(
    runner: OpRunner,
    out: Path,
    codes: Sequence[str] | None,
    columns: int = 3,
    rows: int = 8,
    *,
    parent: QWidget | None = None,
    on_success: Callable[[LabelSheetResult], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
) -> int:
    """Write a label sheet in the background (codes None = every unit), then offer to open it.

    on_success / on_failure belong to parent and are skipped if it was closed meanwhile; the offer to open
    the finished PDF is made in any case, over whatever window is still there.
    """
    wanted = list(codes) if codes is not None else None

    def done(result: LabelSheetResult) -> None:
        if on_success is not None and _alive(parent):
            on_success(result)
        offer_to_open(_anchor(parent), result)

    def failed(exc: BaseException) -> None:
        if on_failure is not None and _alive(parent):
            on_failure(exc)

    return runner.run(
        lambda session: make_unit_label_sheet(session, out, wanted, columns, rows),
        description="正在生成标签 PDF…",
        topic=None,
        write=False,
        on_success=done,
        on_failure=failed,
        parent=parent,
    )


def _alive(widget: QWidget | None) -> bool:
    """No widget, or one that still exists."""
    return widget is None or isValid(widget)


def _anchor(parent: QWidget | None) -> QWidget | None:
    """Where to ask a follow-up question: parent if still on screen (the asking dialog may have closed itself
    in on_success), else its parent window, else the active window."""
    widget = parent
    while widget is not None and isValid(widget):
        if widget.isVisible():
            return widget
        widget = widget.parentWidget()
    return QApplication.activeWindow()


class LabelPrintDialog(QDialog):
    """打印标签: which units (all / selected in the register / typed codes), grid, and where to save the PDF."""

    def __init__(
        self,
        runner: OpRunner,
        total_units: int,
        selected_codes: Sequence[str],
        default_path: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._selected = list(selected_codes)
        self._busy = False
        self.sheet: LabelSheetResult | None = None
        self.setWindowTitle("打印房源标签")
        self.setMinimumWidth(520)

        self.all_radio = QRadioButton(f"全部房源（{total_units} 套）")
        self.selected_radio = QRadioButton(f"台账中选中的房源（{len(self._selected)} 套）")
        self.codes_radio = QRadioButton("指定房号：")
        self.codes_edit = QLineEdit()
        self.codes_edit.setPlaceholderText("用空格或逗号分隔，例如 1-2-1603 1-2-1604")
        group = QButtonGroup(self)
        for button in (self.all_radio, self.selected_radio, self.codes_radio):
            group.addButton(button)
        self.selected_radio.setEnabled(bool(self._selected))
        (self.selected_radio if self._selected else self.all_radio).setChecked(True)
        self.codes_edit.textEdited.connect(lambda _text: self.codes_radio.setChecked(True))

        self.columns_spin = QSpinBox()
        self.columns_spin.setRange(1, 10)
        self.columns_spin.setValue(3)
        self.rows_spin = QSpinBox()
        self.rows_spin.setRange(1, 20)
        self.rows_spin.setValue(8)
        grid_row = QHBoxLayout()
        grid_row.addWidget(self.columns_spin)
        grid_row.addWidget(QLabel("列 ×"))
        grid_row.addWidget(self.rows_spin)
        grid_row.addWidget(QLabel("行（每页）"))
        grid_row.addStretch(1)

        self.path_edit = QLineEdit(str(default_path))
        self.browse_button = QPushButton("浏览…")
        self.browse_button.clicked.connect(self.browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)

        codes_row = QHBoxLayout()
        codes_row.addWidget(self.codes_radio)
        codes_row.addWidget(self.codes_edit, 1)
        which = QVBoxLayout()
        which.addWidget(self.all_radio)
        which.addWidget(self.selected_radio)
        which.addLayout(codes_row)

        form = QFormLayout()
        form.addRow("打印哪些", which)
        form.addRow("标签排列", grid_row)
        form.addRow("保存为", path_row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("生成 PDF")
        self.ok_button.setObjectName("primary")
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText("取消")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)

    def browse(self) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "保存标签 PDF", self.path_edit.text(), "PDF 文件 (*.pdf)"
        )
        if chosen:
            if not chosen.lower().endswith(".pdf"):
                chosen += ".pdf"
            self.path_edit.setText(chosen)

    def chosen_codes(self) -> list[str] | None:
        """None means every unit."""
        if self.selected_radio.isChecked():
            return list(self._selected)
        if self.codes_radio.isChecked():
            return split_codes(self.codes_edit.text())
        return None

    def accept(self) -> None:
        if self._busy:
            return
        text = self.path_edit.text().strip()
        if not text:
            messages.warn(self, "请选择标签 PDF 的保存位置。")
            return
        self._set_busy(True)
        print_labels(
            self._runner,
            Path(text).expanduser(),
            self.chosen_codes(),
            self.columns_spin.value(),
            self.rows_spin.value(),
            parent=self,
            on_success=self._done,
            on_failure=lambda _exc: self._set_busy(False),
        )

    def reject(self) -> None:
        """Not while the PDF is being written: wait for it (it takes seconds, and then opens)."""
        if self._busy:
            QApplication.beep()
            return
        super().reject()

    def _done(self, result: LabelSheetResult) -> None:
        self.sheet = result
        self._set_busy(False)
        super().accept()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        self.ok_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
        self.browse_button.setEnabled(not busy)
