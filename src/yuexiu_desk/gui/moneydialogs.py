"""The small dialogs of the money pages (作废收据, 登记催缴, 催缴台账) and where their PDFs go.

Receipts and reminder notices are written without asking where: they are records of the station, kept in
its data folder (receipts/, notices/) beside the database, and opened at once for printing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.billing import DunningMethod, DunningStage
from yuexiu_desk.domain.money import format_yuan
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel
from yuexiu_desk.gui.savedialog import SavingDialog, date_edit, from_qdate
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services.arrears import ArrearsRow, DunningEntry, DunningInput, record_dunning
from yuexiu_desk.services.billing import void_payment
from yuexiu_desk.services.money_print import print_receipt
from yuexiu_desk.storage.db import Store

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
MONEY_TOPIC = "money"


# --- where the station keeps its money papers -----------------------------------------------------------


def receipts_dir(paths: StationPaths) -> Path:
    return paths.receipts


def notices_dir(paths: StationPaths) -> Path:
    return paths.notices


def receipt_path(paths: StationPaths, receipt_no: str, voided: bool = False) -> Path:
    """The original keeps its plain name; the reprint with the red void note sits beside it, so the
    station holds both papers (the one handed out, and the one filed with the cancelled original)."""
    return receipts_dir(paths) / (f"{receipt_no}-作废.pdf" if voided else f"{receipt_no}.pdf")


def open_pdf(path: Path) -> None:
    """Open a written PDF in the system viewer, from where the clerk prints it."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def done_label() -> QLabel:
    """The green line that says what the last action did (and where its paper is), until the next one."""
    label = QLabel()
    label.setObjectName("doneStatus")
    label.setStyleSheet(
        "QLabel#doneStatus { background: #e6f4ea; color: #1b5e20; border: 1px solid #b7dfc2;"
        " border-radius: 4px; padding: 6px 10px; font-weight: bold; }"
    )
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def problem_text(exc: BaseException) -> str | None:
    """The one sentence to show inline for a refused action; None for a bug (which gets the apology)."""
    if isinstance(exc, UserError | EnvironmentProblem):
        return exc.message
    return None


# --- a saving dialog whose refusals stay inside it ---------------------------------------------------


class InlineSavingDialog(SavingDialog):
    """Like SavingDialog, but the service's sentence appears in red inside the dialog, not in a message box:
    the clerk reads it next to the field to fix, and nothing else pops up over the form."""

    def __init__(
        self, runner: OpRunner, title: str, ok_text: str = "保存", parent: QWidget | None = None
    ) -> None:
        super().__init__(runner, title, ok_text, parent)
        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.saving_label), self.error_label)

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def refuse(self, text: str) -> None:
        """For checks made in op() on the GUI thread: show the sentence and stop (op raises ValueError)."""
        self.show_error(text)
        raise ValueError(text)

    def accept(self) -> None:
        if self.busy:
            return
        self.show_error("")
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
            on_failure=self._failed,
            parent=self,
            owner=self,
            quiet=True,
        )

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        text = problem_text(exc)
        if text is None:
            messages.show_problem(self, exc)
        else:
            self.show_error(text)


# --- 作废收据 ------------------------------------------------------------------------------------------


class VoidPaymentDialog(InlineSavingDialog):
    """作废: the reason is required (the service refuses an empty one); the reprint with the red void note
    is written in the same unit of work and opened, to be filed with the original taken back."""

    description = "正在作废收据…"
    topic = MONEY_TOPIC

    def __init__(
        self,
        runner: OpRunner,
        paths: StationPaths,
        receipt_no: str,
        summary: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, f"作废收据 {receipt_no}", "作废并打印", parent)
        self.paths = paths
        self.receipt_no = receipt_no
        head = QLabel(summary)
        head.setWordWrap(True)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("例如：金额录错、重复收款、收错房号")
        form = QFormLayout()
        form.addRow("作废原因(&R)", self.reason_edit)
        hint = QLabel("作废后该笔缴费冲销，所缴账单重新变为未缴；请收回原收据，与加注“作废”的收据一并存档。")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.body.addWidget(head)
        self.body.addLayout(form)
        self.body.addWidget(hint)
        self.reason_edit.setFocus()

    def op(self) -> Callable[[Session], Any]:
        receipt_no, reason = self.receipt_no, self.reason_edit.text()
        out = receipt_path(self.paths, receipt_no, voided=True)

        def work(session: Session) -> Path:
            void_payment(session, receipt_no, reason, session.info["operator"])
            return print_receipt(session, receipt_no, out)

        return work

    def saved(self, result: Any) -> None:
        open_pdf(result)


# --- 登记催缴 ------------------------------------------------------------------------------------------


class RecordDunningDialog(InlineSavingDialog):
    """One dunning step with a household: method, date (today by default), outcome and proof of delivery."""

    description = "正在登记催缴…"
    topic = MONEY_TOPIC

    def __init__(
        self, store: Store, runner: OpRunner, row: ArrearsRow, parent: QWidget | None = None
    ) -> None:
        super().__init__(runner, f"登记催缴 · {row.unit_code} · {row.leaseholder}", "登记", parent)
        self.row = row
        head = QLabel(
            f"房号：{row.unit_code}　承租人：{row.leaseholder}　"
            f"逾期 {row.months_overdue} 个月，{format_yuan(row.amount_due_fen)} 元（{row.stage.label}）"
        )
        head.setWordWrap(True)
        self.method_combo = QComboBox()
        for method in DunningMethod:
            self.method_combo.addItem(method.label, method.value)
        # The step the ladder asks for at this stage comes first to hand.
        suggested = {
            DunningStage.REMINDER: DunningMethod.PHONE,
            DunningStage.NOTICE: DunningMethod.VISIT,
            DunningStage.TERMINATION: DunningMethod.LEGAL,
        }.get(row.stage, DunningMethod.PHONE)
        self.method_combo.setCurrentIndex(self.method_combo.findData(suggested.value))
        self.date_edit = date_edit(local_date(store.clock.now()))
        self.outcome_edit = QLineEdit()
        self.outcome_edit.setPlaceholderText("例如：承租人答应月底前缴清")
        self.proof_edit = QLineEdit()
        self.proof_edit.setPlaceholderText("签收人、照片或回执编号（书面通知和上门必填）")
        form = QFormLayout()
        form.addRow("催缴方式(&M)", self.method_combo)
        form.addRow("日期(&D)", self.date_edit)
        form.addRow("结果(&O)", self.outcome_edit)
        form.addRow("送达凭证(&P)", self.proof_edit)
        self.body.addWidget(head)
        self.body.addLayout(form)
        if row.needs_manager:
            note = QLabel("该户累计欠费已达解除合同条件，请站长处理。")
            note.setObjectName("error")
            self.body.addWidget(note)

    def method(self) -> DunningMethod:
        return DunningMethod(self.method_combo.currentData())

    def op(self) -> Callable[[Session], Any]:
        data = DunningInput(
            unit_code=self.row.unit_code,
            method=self.method(),
            done_on=from_qdate(self.date_edit.date()),
            outcome=self.outcome_edit.text(),
            proof=self.proof_edit.text(),
            household_id=self.row.household_id,
        )
        return lambda session: record_dunning(session, data, session.info["operator"])


# --- 催缴台账 ------------------------------------------------------------------------------------------

HISTORY_COLUMNS: tuple[RowColumn[DunningEntry], ...] = (
    RowColumn("日期", lambda e: str(e.done_on), 96),
    RowColumn("阶段", lambda e: e.stage.label, 130),
    RowColumn("方式", lambda e: e.method.label, 70),
    RowColumn("欠费月数", lambda e: str(e.months_overdue), 70, RIGHT),
    RowColumn("逾期金额(元)", lambda e: format_yuan(e.amount_due_fen), 100, RIGHT),
    RowColumn("通知书编号", lambda e: e.notice_no, 150),
    RowColumn("结果", lambda e: e.outcome, 220),
    RowColumn("送达凭证", lambda e: e.proof, 150),
    RowColumn("经办人", lambda e: e.operator, 70),
)


class DunningHistoryDialog(QDialog):
    """A household's 催缴台账, newest first (read-only)."""

    def __init__(
        self, row: ArrearsRow, entries: Sequence[DunningEntry], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"催缴台账 · {row.unit_code} · {row.leaseholder}")
        self.resize(1080, 420)
        head = QLabel(
            f"房号：{row.unit_code}　承租人：{row.leaseholder}　合同：{row.lease_no}　"
            f"逾期 {row.months_overdue} 个月，{format_yuan(row.amount_due_fen)} 元　阶段：{row.stage.label}"
        )
        head.setWordWrap(True)
        self.model: RowsModel[DunningEntry] = RowsModel(HISTORY_COLUMNS, parent=self)
        self.model.set_rows(entries)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.verticalHeader().setVisible(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        for column, spec in enumerate(HISTORY_COLUMNS):
            self.view.setColumnWidth(column, spec.width)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        empty = QLabel("尚无催缴记录。")
        empty.setObjectName("hint")
        empty.setVisible(not entries)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.view, 1)
        layout.addWidget(empty)
        layout.addWidget(buttons)
