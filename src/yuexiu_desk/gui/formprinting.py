"""Printing a filled form of a lease (合同摘要, 住户登记表, 入住交接单, 退出查验及结算单): choose where to save
the PDF, write it in the background, then offer to open it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget
from shiboken6 import isValid

from yuexiu_desk.gui import messages
from yuexiu_desk.gui.oprunner import OpRunner

if TYPE_CHECKING:
    from yuexiu_desk.services.form_print import PrintedForm

FORM_TITLES = {
    "lease": "合同摘要",
    "household": "住户登记表",
    "checkin": "入住交接单",
    "moveout": "退出查验及结算单",
}


def default_forms_dir(fallback: Path) -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return Path(documents) / "服务站表单"
    return fallback / "forms"


def offer_to_open(parent: QWidget | None, printed: PrintedForm) -> None:
    if parent is None or not isValid(parent) or not parent.isVisible():
        parent = QApplication.activeWindow()
    text = f"已生成{printed.title}（{printed.pages} 页）：\n{printed.path}\n\n现在打开这个 PDF 吗？"
    if messages.ask(parent, text, "表单已生成"):
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(printed.path)))


def print_lease_form(
    runner: OpRunner, kind: str, lease_no: str, folder: Path, parent: QWidget | None = None
) -> int | None:
    """Ask where to save, then print the filled form; None when the clerk cancelled the file dialog."""
    # Imported on first print: the unit card imports this module, and start-up should not load the forms.
    from yuexiu_desk.services.form_print import print_form

    title = FORM_TITLES.get(kind, kind)
    suggested = folder / f"{title}-{lease_no}.pdf"
    chosen, _filter = QFileDialog.getSaveFileName(parent, f"保存{title}", str(suggested), "PDF 文件 (*.pdf)")
    if not chosen:
        return None
    out = Path(chosen)
    if out.suffix.lower() != ".pdf":
        out = out.with_name(out.name + ".pdf")
    return runner.run(
        lambda session: print_form(session, kind, out, lease_no=lease_no, paths=runner.store.paths),
        description=f"正在生成{title}…",
        topic=None,
        write=False,
        on_success=lambda printed: offer_to_open(parent, printed),
        parent=parent,
    )
