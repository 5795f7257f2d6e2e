"""维修台账 (Ctrl+0): open work orders, those past their response or completion target first and in red;
登记报修 (a unit by scan or code, or a public place), 派工 with a printed slip, 开工, 完工 (who did what, what it
cost and who pays), 回访 (satisfaction 1–5; 未修好 sends it back to the same worker)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date, local_text
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.barchart import BarChart
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.lazy import RefreshingPage
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel, rows_table, selected_row
from yuexiu_desk.storage.db import Store

LATE = QColor("#b00020")


def _open(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def choice_combo(choices: Any) -> QComboBox:
    combo = QComboBox()
    for choice in choices:
        combo.addItem(choice.label, choice.value)
    return combo


class FormDialog(QDialog):
    """A small form: labelled fields, 确定/取消."""

    def __init__(self, title: str, rows: list[tuple[str, QWidget]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        for label, widget in rows:
            form.addRow(label, widget)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("确定")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class RepairsPage(RefreshingPage):
    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from yuexiu_desk.domain.repairs import Payer, RepairCategory, Urgency
        from yuexiu_desk.services.workorders import WorkOrderRow

        self.store = store
        self.runner = runner
        self.late: set[str] = set()
        self.model: RowsModel[WorkOrderRow] = RowsModel(
            [
                RowColumn("工单号", lambda w: w.number, 150),
                RowColumn("位置", lambda w: w.place, 110),
                RowColumn("类别", lambda w: w.category.label, 80),
                RowColumn("紧急程度", lambda w: w.urgency.label, 70),
                RowColumn(
                    "状态", lambda w: w.status.label + ("（超时）" if w.number in self.late else ""), 100
                ),
                RowColumn("报修时间", lambda w: local_text(w.reported_at), 130),
                RowColumn("维修人", lambda w: w.assignee, 90),
                RowColumn("情况", lambda w: w.description, 260),
            ],
            foreground=lambda w: LATE if w.number in self.late else None,
        )
        self.table = rows_table(self.model)
        self.summary_label = QLabel()
        self.add_button = QPushButton("登记报修…")
        self.dispatch_button = QPushButton("派工…")
        self.start_button = QPushButton("开工")
        self.complete_button = QPushButton("完工…")
        self.follow_button = QPushButton("回访…")
        self.slip_button = QPushButton("打印派工单")
        for button, slot in (
            (self.add_button, self.add_order),
            (self.dispatch_button, self.dispatch),
            (self.start_button, self.start),
            (self.complete_button, self.complete),
            (self.follow_button, self.follow_up),
            (self.slip_button, self.print_slip),
        ):
            button.clicked.connect(lambda _c=False, slot=slot: slot())
        buttons = QHBoxLayout()
        for button in (
            self.add_button,
            self.dispatch_button,
            self.start_button,
            self.complete_button,
            self.follow_button,
            self.slip_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        orders = QWidget()
        orders_layout = QVBoxLayout(orders)
        orders_layout.setContentsMargins(0, 0, 0, 0)
        orders_layout.addWidget(self.summary_label)
        orders_layout.addLayout(buttons)
        orders_layout.addWidget(self.table, 1)
        # 统计: the last twelve months, read when the tab is first shown (and after each change while shown).
        self.stats_label = QLabel()
        self.stats_label.setWordWrap(True)
        self.month_chart = BarChart("每月报修（张）")
        self.category_chart = BarChart("按类别（张）")
        self.floor_chart = BarChart("报修最多的楼层（张）")
        stats = QWidget()
        stats_layout = QVBoxLayout(stats)
        stats_layout.addWidget(self.stats_label)
        stats_layout.addWidget(self.month_chart, 1)
        charts = QHBoxLayout()
        charts.addWidget(self.category_chart, 1)
        charts.addWidget(self.floor_chart, 1)
        stats_layout.addLayout(charts, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(orders, "未结案工单")
        self.tabs.addTab(stats, "统计（近一年）")
        self.tabs.currentChanged.connect(lambda index: self.refresh_statistics() if index == 1 else None)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self._categories, self._urgencies, self._payers = RepairCategory, Urgency, Payer

    def refresh(self) -> None:
        from yuexiu_desk.services import workorders

        with self.store.read() as session:
            rows = workorders.list_work_orders(session, open_only=True, awaiting_visit=True)
            late = workorders.breaches(session, open_only=True)
        self.late = {b.row.number for b in late}
        # Late ones first, then the oldest report.
        self.model.set_rows(sorted(rows, key=lambda w: (w.number not in self.late, w.reported_at)))
        visits = sum(r.status.value == "completed" for r in rows)
        self.summary_label.setText(
            f"未结案工单 {len(rows)} 张（其中待回访 {visits} 张），超过响应或完工时限 {len(self.late)} 张。"
        )
        if self.tabs.currentIndex() == 1:
            self.refresh_statistics()
        self._stale = False

    def refresh_statistics(self) -> None:
        from yuexiu_desk.services.workorders import repair_statistics

        end = local_date(self.store.clock.now())
        start = end - timedelta(days=364)
        with self.store.read() as session:
            stats = repair_statistics(session, start, end)
        self.statistics = stats
        self.month_chart.set_rows([(month[2:].replace("-", "/"), n) for month, n in stats.by_month])
        self.category_chart.set_rows([(f.category.label, f.orders) for f in stats.by_category])
        self.floor_chart.set_rows([(f.place, f.orders) for f in stats.hotspot_floors[:6]])

        def hours(value: float | None) -> str:
            return "—" if value is None else f"{value:.1f} 小时"

        satisfaction = "—" if stats.avg_satisfaction is None else f"{stats.avg_satisfaction:.2f} 分"
        repeats = "、".join(f"{r.unit_code}（{r.orders} 次）" for r in stats.repeat_units[:5]) or "无"
        self.stats_label.setText(
            f"{start} 至 {end}：报修 {stats.orders} 张（公共部位 {stats.public_area_orders} 张），"
            f"平均响应 {hours(stats.avg_response_hours)}，平均完工 {hours(stats.avg_completion_hours)}；"
            f"超时：响应 {stats.response_breaches} 张、完工 {stats.completion_breaches} 张；"
            f"回访 {stats.followed_up} 次，平均满意度 {satisfaction}；返修 {stats.reopened_orders} 张。"
            f"<br>反复报修的房屋：{repeats}"
        )

    def selected(self) -> Any:
        return selected_row(self.table, self.model, self, "请先选中一张工单。")

    def _run(self, op: Any, description: str, on_success: Any = None) -> int:
        return self.runner.run(
            op,
            description=description,
            topic="repairs",
            on_success=on_success or (lambda _r: self.refresh()),
            parent=self,
            owner=self,
        )

    # --- actions (each takes a filled dialog in tests, or asks) ---------------------------------------
    def new_order_dialog(self) -> FormDialog:
        self.unit_edit = QLineEdit()
        self.unit_edit.setPlaceholderText("房号（如 1-2-1603）或扫描标签；公共部位留空")
        self.location_edit = QLineEdit()
        self.location_edit.setPlaceholderText("公共部位，例如 1栋2单元楼道")
        self.category_combo = choice_combo(self._categories)
        self.urgency_combo = choice_combo(self._urgencies)
        self.urgency_combo.setCurrentIndex(self.urgency_combo.findData("normal"))
        self.description_edit = QLineEdit()
        self.reporter_edit = QLineEdit()
        return FormDialog(
            "登记报修",
            [
                ("房号", self.unit_edit),
                ("或公共部位", self.location_edit),
                ("类别", self.category_combo),
                ("紧急程度", self.urgency_combo),
                ("情况", self.description_edit),
                ("报修人", self.reporter_edit),
            ],
            self,
        )

    def add_order(self, dialog: FormDialog | None = None) -> int | None:
        from yuexiu_desk.services.lookup import resolve
        from yuexiu_desk.services.workorders import create_work_order

        if dialog is None:
            dialog = self.new_order_dialog()
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        unit_text, location = self.unit_edit.text().strip(), self.location_edit.text().strip()
        category, urgency = self.category_combo.currentData(), self.urgency_combo.currentData()
        description, reporter = self.description_edit.text(), self.reporter_edit.text()

        def work(session: Session) -> Any:
            # A scanned label or a typed code: the one parser of the lookup box.
            unit_code = resolve(session, unit_text).code if unit_text else None
            return create_work_order(
                session,
                category=category,
                description=description,
                unit_code=unit_code,
                location=location,
                urgency=urgency,
                channel="walk_in",
                reporter=reporter,
                operator=session.info["operator"],
            )

        return self._run(work, "正在登记报修…", self._added)

    def _added(self, row: Any) -> None:
        self.refresh()
        messages.inform(self, f"已登记工单 {row.number}（{row.place}）。")

    def dispatch(self, assignee: str | None = None) -> int | None:
        from yuexiu_desk.services import workorders

        order = self.selected()
        if order is None:
            return None
        if assignee is None:
            assignee, ok = QInputDialog.getText(self, "派工", f"{order.number} 派给（维修工或外包单位）：")
            if not ok:
                return None
        who = assignee
        return self._run(lambda s: workorders.dispatch(s, order.number, who, s.info["operator"]), "正在派工…")

    def start(self) -> int | None:
        from yuexiu_desk.services import workorders

        order = self.selected()
        if order is None:
            return None
        return self._run(lambda s: workorders.start(s, order.number, s.info["operator"]), "正在保存…")

    def completion_dialog(self) -> FormDialog:
        self.labour_edit = QLineEdit()
        self.materials_edit = QLineEdit()
        self.cost_edit = QLineEdit("0.00")
        self.payer_combo = choice_combo(self._payers)
        return FormDialog(
            "完工登记",
            [
                ("维修内容", self.labour_edit),
                ("材料", self.materials_edit),
                ("费用（元）", self.cost_edit),
                ("费用承担", self.payer_combo),
            ],
            self,
        )

    def complete(self, dialog: FormDialog | None = None) -> int | None:
        from yuexiu_desk.services import workorders

        order = self.selected()
        if order is None:
            return None
        if dialog is None:
            dialog = self.completion_dialog()
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        labour, materials = self.labour_edit.text(), self.materials_edit.text()
        cost, payer = self.cost_edit.text(), self.payer_combo.currentData()
        return self._run(
            lambda s: workorders.complete(
                s,
                order.number,
                labour=labour,
                materials=materials,
                cost_yuan=cost,
                payer=payer,
                operator=s.info["operator"],
            ),
            "正在登记完工…",
        )

    def follow_up_dialog(self) -> FormDialog:
        self.satisfaction_spin = QSpinBox()
        self.satisfaction_spin.setRange(1, 5)
        self.satisfaction_spin.setValue(5)
        self.comment_edit = QLineEdit()
        self.not_fixed_check = QCheckBox("租户说没有修好（返修，回到原维修人）")
        return FormDialog(
            "回访",
            [
                ("满意度（1–5）", self.satisfaction_spin),
                ("意见", self.comment_edit),
                ("", self.not_fixed_check),
            ],
            self,
        )

    def follow_up(self, dialog: FormDialog | None = None) -> int | None:
        from yuexiu_desk.services import workorders

        order = self.selected()
        if order is None:
            return None
        if dialog is None:
            dialog = self.follow_up_dialog()
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        score, comment = self.satisfaction_spin.value(), self.comment_edit.text()
        fixed = not self.not_fixed_check.isChecked()
        return self._run(
            lambda s: workorders.follow_up(s, order.number, score, s.info["operator"], comment, fixed=fixed),
            "正在登记回访…",
        )

    def print_slip(self, out: Path | None = None) -> int | None:
        from yuexiu_desk.services import workorders

        order = self.selected()
        if order is None:
            return None
        target = out or self.store.paths.root / "workorders" / f"{order.number}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        return self.runner.run(
            lambda s: workorders.print_slip(s, order.number, target),
            description="正在打印派工单…",
            topic=None,
            write=False,
            on_success=lambda _p: _open(target),
            parent=self,
            owner=self,
        )
