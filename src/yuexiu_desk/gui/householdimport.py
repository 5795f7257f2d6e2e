"""Importing the station's existing ledgers from Excel (住户档案 page and the 文件 menu).

The clerk saves the template (export.household_template), fills it in, and picks the file. The file is first
checked in full (a dry run through the op runner: a bureau-size file takes about ten seconds, the window
stays usable). Refused → every problem in a table (表, 行, 列, 问题) that can be copied or saved, and nothing was
imported. Accepted → what would be imported, with any warnings; 确认导入 runs the real import, which is all
or nothing, and the pages refresh through the runner's changed("households").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid
from sqlalchemy.orm import Session

from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel
from yuexiu_desk.services.household_import import (
    ImportProblem,
    ImportRejected,
    ImportReport,
    import_households,
)

TEMPLATE_NAME = "住户导入模板.xlsx"
EXCEL_FILTER = "Excel 工作簿 (*.xlsx)"
TXT_FILTER = "文本文件 (*.txt)"
CSV_FILTER = "CSV 表格 (*.csv)"
NOTHING_IMPORTED = "未导入任何数据，请改正后重新导入。"
CHECKING = "正在检查导入文件…"
IMPORTING = "正在导入住户…"

PROBLEM_HEADERS = ("表", "行", "列", "问题")


def _row_text(problem: ImportProblem) -> str:
    return str(problem.row) if problem.row else "（整表）"


def _column_text(problem: ImportProblem) -> str:
    return problem.column or ("—" if problem.row == 0 else "（整行）")


PROBLEM_COLUMNS: tuple[RowColumn[ImportProblem], ...] = (
    RowColumn("表", lambda p: p.sheet, 60),
    RowColumn("行", _row_text, 60, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    RowColumn("列", _column_text, 110),
    RowColumn("问题", lambda p: p.message, 420),
)


def problem_cells(problem: ImportProblem) -> list[str]:
    return [column.value(problem) for column in PROBLEM_COLUMNS]


def problems_as_tsv(problems: Sequence[ImportProblem]) -> str:
    """Tab-separated with a header line: pastes into Excel as a table."""
    lines = ["\t".join(PROBLEM_HEADERS)]
    lines += ["\t".join(c.replace("\t", " ").replace("\n", " ") for c in problem_cells(p)) for p in problems]
    return "\n".join(lines) + "\n"


def problems_as_csv(problems: Sequence[ImportProblem]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(PROBLEM_HEADERS)
    for problem in problems:
        writer.writerow(problem_cells(problem))
    return buffer.getvalue()


def problems_as_text(problems: Sequence[ImportProblem], source: str = "") -> str:
    head = f"导入文件：{source}\n" if source else ""
    lines = [f"{i}. {p}" for i, p in enumerate(problems, start=1)]
    return f"{head}共 {len(problems)} 处问题，{NOTHING_IMPORTED}\n\n" + "\n".join(lines) + "\n"


def default_folder() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return Path(documents)
    return Path.home()


def _anchor(widget: QWidget | None) -> QWidget | None:
    if widget is not None and isValid(widget) and widget.isVisible():
        return widget
    return QApplication.activeWindow()


class ProblemsTable(QTableView):
    """Read-only table of import problems; Ctrl+C (or copy()) copies the selected rows, else all of them."""

    def __init__(self, problems: Sequence[ImportProblem], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_: RowsModel[ImportProblem] = RowsModel(PROBLEM_COLUMNS, parent=self)
        self.model_.set_rows(problems)
        self.setModel(self.model_)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(True)
        for column, spec in enumerate(PROBLEM_COLUMNS):
            self.setColumnWidth(column, spec.width)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        copy = QAction("复制", self)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(lambda _checked=False: self.copy())
        self.addAction(copy)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    @property
    def problems(self) -> list[ImportProblem]:
        return self.model_.rows

    def selected_problems(self) -> list[ImportProblem]:
        rows = sorted({index.row() for index in self.selectionModel().selectedRows()})
        return [self.model_.row(r) for r in rows]

    def copy(self) -> str:
        text = problems_as_tsv(self.selected_problems() or self.problems)
        QGuiApplication.clipboard().setText(text)
        return text


class ImportProblemsDialog(QDialog):
    """The file was refused: every problem, and the sentence that nothing was imported."""

    def __init__(self, path: Path, problems: Sequence[ImportProblem], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle("导入未通过检查")
        self.resize(820, 480)
        head = QLabel(f"文件“{path.name}”中发现 {len(problems)} 处问题：")
        head.setWordWrap(True)
        self.nothing_label = QLabel(NOTHING_IMPORTED)
        self.nothing_label.setObjectName("pageTitle")
        self.table = ProblemsTable(problems, self)
        hint = QLabel("行号即 Excel 中的行号。可选中若干行按 Ctrl+C 复制，或导出问题清单交给填表人。")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.copy_button = QPushButton("复制(&C)")
        self.save_button = QPushButton("导出问题清单(&E)…")
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setText("关闭")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(lambda: self.table.copy())
        self.save_button.clicked.connect(lambda: self.save_problems())
        layout = QVBoxLayout(self)
        layout.addWidget(self.nothing_label)
        layout.addWidget(head)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint)
        layout.addWidget(buttons)

    def save_problems(self) -> Path | None:
        suggested = self.path.with_name(f"{self.path.stem}-问题清单.txt")
        chosen, chosen_filter = QFileDialog.getSaveFileName(
            self, "导出问题清单", str(suggested), f"{TXT_FILTER};;{CSV_FILTER}"
        )
        if not chosen:
            return None
        out = Path(chosen)
        if out.suffix.lower() not in (".txt", ".csv"):
            out = out.with_name(out.name + (".csv" if chosen_filter == CSV_FILTER else ".txt"))
        problems = self.table.problems
        if out.suffix.lower() == ".csv":
            data = problems_as_csv(problems).encode("utf-8-sig")  # Excel reads the BOM as UTF-8
        else:
            data = problems_as_text(problems, str(self.path)).encode("utf-8")
        try:
            out.write_bytes(data)
        except OSError as exc:
            messages.warn(self, f"无法保存问题清单到 {out}：{exc.strerror or exc}")
            return None
        messages.inform(self, f"问题清单已保存：\n{out}", "已导出")
        return out


class ImportPreviewDialog(QDialog):
    """The file passed the check: what will be imported, the warnings, and 确认导入 (runs the real import)."""

    imported = Signal(object)  # ImportReport

    def __init__(
        self, runner: OpRunner, path: Path, report: ImportReport, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.path = path
        self.report = report
        self.result_report: ImportReport | None = None
        self._busy = False
        self.setWindowTitle("确认导入住户")
        self.setMinimumWidth(560)
        summary = QLabel(
            f"文件“{path.name}”已通过检查，可以导入：\n"
            f"{report.households} 户，{report.members} 人，{report.leases} 份合同"
            f"（其中 {report.filings} 份已备案）。\n"
            "导入时为每套房源登记入住异动；全部成功才写入，否则不写入任何数据。"
        )
        summary.setWordWrap(True)
        self.summary_label = summary
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        self.warnings_table: ProblemsTable | None = None
        if report.warnings:
            caption = QLabel(f"以下 {len(report.warnings)} 处可以导入，但请留意：")
            caption.setWordWrap(True)
            self.warnings_table = ProblemsTable(report.warnings, self)
            self.warnings_table.setMinimumHeight(160)
            layout.addWidget(caption)
            layout.addWidget(self.warnings_table, 1)
            self.resize(820, 420)
        self.busy_label = QLabel("正在导入，请稍候…（大文件可能需要几十秒）")
        self.busy_label.setObjectName("hint")
        self.busy_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.confirm_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.confirm_button.setText("确认导入")
        self.confirm_button.setObjectName("primary")
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText("取消")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.busy_label)
        layout.addWidget(self.buttons)

    @property
    def busy(self) -> bool:
        return self._busy

    def accept(self) -> None:
        if self._busy:
            return
        path = self.path
        self._set_busy(True)
        store = self.runner.store

        def work(session: Session) -> Any:
            from yuexiu_desk.services.backups import make_backup

            # Before anything is written: a verified copy to go back to.
            make_backup(store, "before-import", operator=session.info["operator"], session=session)
            return import_households(session, path, session.info["operator"])

        self.runner.run(
            work,
            description=IMPORTING,
            topic="households",
            on_success=self._succeeded,
            on_failure=self._failed,
            parent=self,
            owner=self,
            quiet=True,
        )

    def _succeeded(self, report: ImportReport) -> None:
        self._set_busy(False)
        self.result_report = report
        super().accept()
        self.imported.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ImportRejected):  # the file changed since it was checked
            super().reject()
            show_rejection(self.path, exc, self.parentWidget())
        else:
            messages.show_problem(self, exc)

    def reject(self) -> None:
        if self._busy:  # not while importing: the clerk could not know whether it was imported
            QApplication.beep()
            return
        super().reject()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy_label.setVisible(busy)
        self.confirm_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)


def show_rejection(path: Path, exc: ImportRejected, parent: QWidget | None) -> ImportProblemsDialog:
    dialog = ImportProblemsDialog(path, exc.problems, _anchor(parent))
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


def import_summary(report: ImportReport) -> str:
    text = (
        f"已导入 {report.households} 户，{report.members} 人，{report.leases} 份合同"
        f"（其中 {report.filings} 份已备案）。"
    )
    if report.warnings:
        text += f"\n另有 {len(report.warnings)} 处提示，请在住户档案和租赁合同中核对。"
    return text


class HouseholdImporter(QObject):
    """The two actions of the 住户档案 page: save the template, import a file (check, confirm, import).

    busy_changed(bool) tells the page to disable its buttons while a check or an import runs; dialog is the
    last dialog shown (for tests and for keeping it alive)."""

    busy_changed = Signal(bool)

    def __init__(self, runner: OpRunner, parent: QWidget) -> None:
        super().__init__(parent)
        self.runner = runner
        self._widget = parent
        self.folder: Path | None = None
        self.dialog: Any = None
        self._busy = False

    @property
    def busy(self) -> bool:
        return self._busy

    def _start_folder(self) -> Path:
        return self.folder or default_folder()

    # --- template -----------------------------------------------------------------------------------
    def export_template(self) -> int | None:
        """Ask where to save the template, write it in the background, then offer to open it."""
        suggested = self._start_folder() / TEMPLATE_NAME
        chosen, _filter = QFileDialog.getSaveFileName(
            self._widget, "导出住户导入模板", str(suggested), EXCEL_FILTER
        )
        if not chosen:
            return None
        out = Path(chosen)
        if out.suffix.lower() != ".xlsx":
            out = out.with_name(out.name + ".xlsx")
        self.folder = out.parent
        from yuexiu_desk.export.household_template import write_household_template

        widget = self._widget
        return self.runner.run_task(
            lambda: write_household_template(out),
            description="正在生成导入模板…",
            on_success=lambda written: self._offer_template(widget, written),
            parent=widget,
        )

    @staticmethod
    def _offer_template(parent: QWidget | None, path: Path) -> None:
        text = (
            f"已生成住户导入模板：\n{path}\n\n"
            "按“说明”表填写“住户”和“合同”两张表后，用“从 Excel 导入住户…”导入。\n现在打开这个文件吗？"
        )
        if messages.ask(_anchor(parent), text, "模板已生成"):
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    # --- import -------------------------------------------------------------------------------------
    def choose_and_import(self) -> int | None:
        """Ask for the workbook, then check it; None when the clerk cancelled or a check is running."""
        if self._busy:
            QApplication.beep()
            return None
        chosen, _filter = QFileDialog.getOpenFileName(
            self._widget, "从 Excel 导入住户", str(self._start_folder()), EXCEL_FILTER
        )
        if not chosen:
            return None
        return self.check(Path(chosen))

    def check(self, path: Path) -> int:
        """The dry run, in the background: every row checked, nothing written."""
        self.folder = path.parent
        self._set_busy(True)
        return self.runner.run(
            lambda session: import_households(session, path, session.info["operator"], dry_run=True),
            description=CHECKING,
            topic=None,
            on_success=lambda report: self._checked(path, report),
            on_failure=lambda exc: self._check_failed(path, exc),
            parent=self._widget,
            owner=self,
            quiet=True,
        )

    def _checked(self, path: Path, report: ImportReport) -> None:
        self._set_busy(False)
        dialog = ImportPreviewDialog(self.runner, path, report, _anchor(self._widget))
        dialog.imported.connect(self._imported)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def _check_failed(self, path: Path, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ImportRejected):
            self.dialog = show_rejection(path, exc, self._widget)
        elif isinstance(exc, UserError | EnvironmentProblem):
            messages.warn(_anchor(self._widget), f"{exc.message}\n\n{NOTHING_IMPORTED}", "无法导入")
        else:
            messages.show_problem(_anchor(self._widget), exc)

    def _imported(self, report: ImportReport) -> None:
        messages.inform(_anchor(self._widget), import_summary(report), "导入完成")

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy_changed.emit(busy)
