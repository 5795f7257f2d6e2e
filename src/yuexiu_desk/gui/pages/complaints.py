"""投诉建议: complaints and suggestions, unanswered ones past their time limit first (in red); 受理 by channel
and category, 处理记录, 答复 (with the sentence the public notice shows), 回访 with satisfaction 1–5, and the
public notice of handled complaints (no names, phones or units). Names and phones are shown masked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from yuexiu_desk.clock import local_date, local_text
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.lazy import RefreshingPage
from yuexiu_desk.gui.pages.repairs import FormDialog, choice_combo
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel, rows_table, selected_row
from yuexiu_desk.storage.db import Store

LATE = QColor("#b00020")


class ComplaintsPage(RefreshingPage):
    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from yuexiu_desk.domain.repairs import ComplaintCategory, ComplaintChannel
        from yuexiu_desk.services.complaints import ComplaintRow

        self.store = store
        self.runner = runner
        self._channels, self._categories = ComplaintChannel, ComplaintCategory
        self.model: RowsModel[ComplaintRow] = RowsModel(
            [
                RowColumn("编号", lambda c: c.number, 150),
                RowColumn("渠道", lambda c: c.channel.label, 70),
                RowColumn("类别", lambda c: c.category.label, 70),
                RowColumn("内容", lambda c: c.content, 260),
                RowColumn("投诉人", lambda c: c.complainant or "—", 70),
                RowColumn("受理时间", lambda c: local_text(c.received_at), 130),
                RowColumn("时限", lambda c: local_text(c.due_at), 130),
                RowColumn("状态", lambda c: c.status.label + ("（超时）" if c.overdue else ""), 90),
            ],
            foreground=lambda c: LATE if c.overdue else None,
        )
        self.table = rows_table(self.model)
        self.summary_label = QLabel()
        self.add_button = QPushButton("受理…")
        self.note_button = QPushButton("处理记录…")
        self.reply_button = QPushButton("答复…")
        self.visit_button = QPushButton("回访…")
        self.notice_button = QPushButton("打印处理结果公示（近 3 个月）")
        row = QHBoxLayout()
        for button, slot in (
            (self.add_button, self.add),
            (self.note_button, self.note),
            (self.reply_button, self.reply),
            (self.visit_button, self.visit),
            (self.notice_button, self.print_notice),
        ):
            button.clicked.connect(lambda _c=False, slot=slot: slot())
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        from yuexiu_desk.services import complaints

        with self.store.read() as session:
            rows = complaints.list_complaints(session, open_only=True)
        self.model.set_rows(rows)  # the service orders them: overdue first
        late = sum(c.overdue for c in rows)
        self.summary_label.setText(f"未办结 {len(rows)} 件，其中超过时限 {late} 件。")
        self._stale = False

    def selected(self) -> Any:
        return selected_row(self.table, self.model, self, "请先选中一件投诉或建议。")

    def _run(self, op: Any, description: str) -> int:
        return self.runner.run(
            op,
            description=description,
            topic="complaints",
            on_success=lambda _r: self.refresh(),
            parent=self,
            owner=self,
        )

    def intake_dialog(self) -> FormDialog:
        self.channel_combo = choice_combo(self._channels)
        self.category_combo = choice_combo(self._categories)
        self.content_edit = QLineEdit()
        self.name_edit = QLineEdit()
        self.phone_edit = QLineEdit()
        self.unit_edit = QLineEdit()
        return FormDialog(
            "受理投诉建议",
            [
                ("渠道", self.channel_combo),
                ("类别", self.category_combo),
                ("内容", self.content_edit),
                ("投诉人（可不填）", self.name_edit),
                ("电话（可不填）", self.phone_edit),
                ("房号（可不填）", self.unit_edit),
            ],
            self,
        )

    def add(self, dialog: FormDialog | None = None) -> int | None:
        from yuexiu_desk.services.complaints import add_complaint

        if dialog is None:
            dialog = self.intake_dialog()
            if not dialog.exec():
                return None
        values = {
            "channel": self.channel_combo.currentData(),
            "category": self.category_combo.currentData(),
            "content": self.content_edit.text(),
            "complainant": self.name_edit.text(),
            "phone": self.phone_edit.text(),
            "unit_code": self.unit_edit.text().strip() or None,
        }
        return self._run(lambda s: add_complaint(s, operator=s.info["operator"], **values), "正在受理…")

    def _text(self, title: str, label: str, given: str | None) -> str | None:
        if given is not None:
            return given
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(self, title, label)
        return text if ok else None

    def note(self, text: str | None = None) -> int | None:
        from yuexiu_desk.services.complaints import add_note

        item = self.selected()
        said = None if item is None else self._text("处理记录", f"{item.number} 的处理情况：", text)
        if item is None or said is None:
            return None
        return self._run(lambda s: add_note(s, item.number, said, s.info["operator"]), "正在保存…")

    def reply(self, text: str | None = None) -> int | None:
        from yuexiu_desk.services.complaints import reply

        item = self.selected()
        said = None if item is None else self._text("答复", f"答复 {item.number} 的投诉人：", text)
        if item is None or said is None:
            return None
        return self._run(
            lambda s: reply(s, item.number, said, s.info["operator"], public_result=said), "正在保存…"
        )

    def visit(self, dialog: FormDialog | None = None) -> int | None:
        from yuexiu_desk.services.complaints import return_visit

        item = self.selected()
        if item is None:
            return None
        if dialog is None:
            dialog = self.visit_dialog()
            if not dialog.exec():
                return None
        score, comment = self.satisfaction_spin.value(), self.comment_edit.text()
        return self._run(
            lambda s: return_visit(s, item.number, score, s.info["operator"], comment), "正在登记回访…"
        )

    def visit_dialog(self) -> FormDialog:
        self.satisfaction_spin = QSpinBox()
        self.satisfaction_spin.setRange(1, 5)
        self.satisfaction_spin.setValue(5)
        self.comment_edit = QLineEdit()
        return FormDialog(
            "回访", [("满意度（1–5）", self.satisfaction_spin), ("意见", self.comment_edit)], self
        )

    def print_notice(self, out: Path | None = None) -> int | None:
        from yuexiu_desk.services.complaints import print_notice

        end = local_date(self.store.clock.now())
        start = end - timedelta(days=91)
        target = out or self.store.paths.root / "notices" / f"投诉建议处理结果公示-{end}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        return self.runner.run(
            lambda s: print_notice(s, start, end, target),
            description="正在生成公示…",
            topic=None,
            write=False,
            on_success=lambda _n: _open(target),
            parent=self,
            owner=self,
        )


def _open(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
