"""填写检查结果: one inspection round at the desk or walked with the laptop. Scan a unit's label (or type its
code) to jump to its items — a unit outside the round is said, and offered to be added —, answer each item
正常 / 有隐患 (severity, and the danger grade for structural items) / 不适用, mark the rest of a place 正常, and
close the round (refused while items are unanswered)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from yuexiu_desk.errors import UserError
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel, rows_table, selected_row

DEFECT = QColor("#b00020")


class RoundDialog(QDialog):
    def __init__(self, runner: OpRunner, round_no: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from yuexiu_desk.services.inspections import RoundItem

        self.runner = runner
        self.round_no = round_no
        self.location: str | None = None  # the place scanned last (None: the whole round)
        self.setWindowTitle(f"填写检查结果 · {round_no}")
        self.resize(900, 560)
        self.head_label = QLabel()
        self.scan_edit = QLineEdit()
        self.scan_edit.setPlaceholderText("扫描房源标签或输入房号，跳到该处的检查项目；留空回车显示全部")
        self.scan_edit.returnPressed.connect(lambda: self.jump(self.scan_edit.text()))
        self.model: RowsModel[RoundItem] = RowsModel(
            [
                RowColumn("位置", lambda i: i.location_label, 110),
                RowColumn("分项", lambda i: i.section, 110),
                RowColumn("检查项目", lambda i: i.label, 220),
                RowColumn("结果", lambda i: _result_text(i), 140),
                RowColumn("说明", lambda i: i.note, 200),
            ],
            foreground=lambda i: DEFECT if i.result is not None and i.result.value == "defect" else None,
        )
        self.table = rows_table(self.model)
        self.ok_button = QPushButton("正常")
        self.defect_button = QPushButton("有隐患…")
        self.na_button = QPushButton("不适用")
        self.rest_button = QPushButton("其余全部正常")
        self.close_button = QPushButton("关闭本轮")
        self.ok_button.clicked.connect(lambda: self.answer("ok"))
        self.defect_button.clicked.connect(lambda: self.answer("defect"))
        self.na_button.clicked.connect(lambda: self.answer("na"))
        self.rest_button.clicked.connect(lambda: self.rest_ok())
        self.close_button.clicked.connect(lambda: self.close_round())
        row = QHBoxLayout()
        for button in (self.ok_button, self.defect_button, self.na_button, self.rest_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.head_label)
        layout.addWidget(self.scan_edit)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        self.reload()

    def reload(self) -> None:
        from yuexiu_desk.services import inspections

        with self.runner.store.read() as session:
            info = inspections.round_info(session, inspections.find_round(session, self.round_no))
            items = inspections.round_items(session, self.round_no, self.location)
        self.info = info
        self.model.set_rows(items)
        where = "全部位置" if self.location is None else (items[0].location_label if items else self.location)
        self.head_label.setText(
            f"<b>{info.title}</b>　{info.scope_label}　轮次 {info.round_no}　"
            f"已填 {info.answered}/{info.expected} 项，隐患 {info.defects} 处　当前：{where}"
        )

    def jump(self, text: str) -> bool:
        """Show the items of the place scanned or typed (all places for an empty text)."""
        from yuexiu_desk.services import inspections

        if not text.strip():
            self.location = None
            self.reload()
            return True
        try:
            with self.runner.store.read() as session:
                place, _items = inspections.scan(session, self.round_no, text)
        except inspections.OutsideScope as outside:
            outside_place = str(outside.place)
            if messages.ask(self, f"{outside.message}\n\n现在把它加入本轮吗？", "不在本轮范围内"):
                self.runner.run(
                    lambda s: inspections.add_to_scope(s, self.round_no, outside_place, s.info["operator"]),
                    description=f"正在把 {outside.place.label} 加入本轮…",
                    topic=None,
                    on_success=lambda _info: self._jump_again(text),
                    parent=self,
                    owner=self,
                )
            return False
        except UserError as exc:
            messages.warn(self, exc.message)
            return False
        self.location = str(place)
        self.scan_edit.clear()
        self.reload()
        return True

    def accept_scan(self, text: str) -> None:
        """A scanner burst while this round is the active window (the main window routes it here)."""
        self.jump(text)

    def _jump_again(self, text: str) -> None:
        self.jump(text)

    def selected(self) -> Any:
        return selected_row(self.table, self.model, self, "请先选中一个检查项目。")

    def answer(
        self, result: str, severity: str | None = None, grade: str = "", note: str | None = None
    ) -> int | None:
        from yuexiu_desk.inspection_templates import Severity
        from yuexiu_desk.services import inspections

        item = self.selected()
        if item is None:
            return None
        if result == "defect":
            if severity is None:
                labels = [s.label for s in Severity]
                chosen, ok = QInputDialog.getItem(self, "隐患程度", f"{item.label}：", labels, 0, False)
                if not ok:
                    return None
                severity = next(s.value for s in Severity if s.label == chosen)
                if item.structural:
                    grade, ok = QInputDialog.getItem(
                        self, "危险等级（S1）", "房屋危险等级：", ["A", "B", "C", "D"], 1, False
                    )
                    if not ok:
                        return None
            if note is None:
                note, ok = QInputDialog.getText(self, "隐患说明", f"{item.label} 的情况：")
                if not ok:
                    return None
        given = inspections.Answer(
            item.item_id, item.location, result, severity=severity or "", danger_grade=grade, note=note or ""
        )
        return self._run(
            lambda s: inspections.record_result(s, self.round_no, given, s.info["operator"]), "正在保存…"
        )

    def rest_ok(self) -> int:
        from yuexiu_desk.services import inspections

        where = self.location
        return self._run(
            lambda s: inspections.record_rest_ok(s, self.round_no, s.info["operator"], where), "正在保存…"
        )

    def close_round(self) -> int:
        from yuexiu_desk.services import inspections

        return self.runner.run(
            lambda s: inspections.close_round(s, self.round_no, s.info["operator"]),
            description="正在关闭本轮…",
            topic="inspections",
            on_success=lambda _info: self.accept(),
            parent=self,
            owner=self,
        )

    def _run(self, op: Any, description: str) -> int:
        def after(_result: Any) -> None:
            self.reload()

        return self.runner.run(
            op, description=description, topic="inspections", on_success=after, parent=self, owner=self
        )


def _result_text(item: Any) -> str:
    if item.result is None:
        return "（未填）"
    text = str(item.result.label)
    if item.severity is not None:
        text += f" · {item.severity.label}"
    if item.danger_grade is not None:
        text += f" · {item.danger_grade.value}级"
    return text


def open_round(runner: OpRunner, session_round: str, parent: QWidget | None = None) -> RoundDialog:
    dialog = RoundDialog(runner, session_round, parent)
    dialog.show()
    return dialog
