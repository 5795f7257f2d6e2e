"""安全巡查 (Ctrl+9): the safety officer's dashboard — inspections due and overdue (print the blank record of
one to start its round), open hazards with their deadlines (overdue in red), C/D danger-grade alerts for the
station manager, and a hazard sent to the repair ledger in one click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.lazy import RefreshingPage
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel, rows_table, selected_row
from yuexiu_desk.storage.db import Store

OVERDUE = QColor("#b00020")


class SafetyPage(RefreshingPage):
    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from yuexiu_desk.inspection_templates import RESPONSIBLE
        from yuexiu_desk.services import hazards, inspections

        self.store = store
        self.runner = runner
        self.due_model: RowsModel[inspections.Due] = RowsModel(
            [
                RowColumn("检查", lambda d: d.title, 170),
                RowColumn("范围", lambda d: d.scope_label, 110),
                RowColumn("周期", lambda d: d.cadence, 60),
                RowColumn("上次完成", lambda d: str(d.last_done or "—"), 90),
                RowColumn("应在", lambda d: str(d.due_date), 90),
                RowColumn(
                    "状态",
                    lambda d: "逾期" if d.overdue else ("进行中 " + d.open_round if d.open_round else "待做"),
                    140,
                ),
            ],
            foreground=lambda d: OVERDUE if d.overdue else None,
        )
        self.hazard_model: RowsModel[hazards.HazardRow] = RowsModel(
            [
                RowColumn("编号", lambda h: h.hazard_no, 100),
                RowColumn("位置", lambda h: h.location_label, 100),
                RowColumn("类别", lambda h: hazards.kind_label(h.kind), 80),
                RowColumn("情况", lambda h: h.description, 200),
                RowColumn(
                    "程度",
                    lambda h: h.severity.label + (f" {h.danger_grade}级" if h.danger_grade else ""),
                    70,
                ),
                RowColumn("责任方", lambda h: RESPONSIBLE.get(h.responsible, h.responsible), 90),
                RowColumn("期限", lambda h: str(h.deadline), 90),
                RowColumn("状态", lambda h: h.status.label + ("（逾期）" if h.overdue else ""), 90),
                RowColumn("维修工单", lambda h: h.work_order_id or "", 140),
            ],
            foreground=lambda h: OVERDUE if h.overdue else None,
        )
        self.due_table = rows_table(self.due_model)
        self.hazard_table = rows_table(self.hazard_model)
        self.summary_label = QLabel()
        self.alert_label = QLabel()
        self.alert_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.print_button = QPushButton("打印空白记录表（开始这一轮）…")
        self.print_button.clicked.connect(lambda: self.print_blank())
        self.fill_button = QPushButton("填写检查结果…")
        self.fill_button.setToolTip("在电脑上逐项填写（可扫描房源标签跳到该处）；没有进行中的一轮则先开始")
        self.fill_button.clicked.connect(lambda: self.fill_in())
        self.repair_button = QPushButton("转维修")
        self.repair_button.setToolTip("为选中的隐患开一张维修工单")
        self.repair_button.clicked.connect(self.raise_repair)
        self.recheck_button = QPushButton("复查…")
        self.recheck_button.setToolTip("整改后复查验收：合格则可销项，不合格则继续整改")
        self.recheck_button.clicked.connect(lambda: self.reinspect())
        self.close_button = QPushButton("销项（须复查合格）")
        self.close_button.clicked.connect(self.close_hazard)

        due_row = QHBoxLayout()
        due_row.addWidget(QLabel("<b>到期的巡查和检查</b>"))
        due_row.addStretch(1)
        due_row.addWidget(self.fill_button)
        due_row.addWidget(self.print_button)
        hazard_row = QHBoxLayout()
        hazard_row.addWidget(QLabel("<b>未销项的隐患</b>"))
        hazard_row.addStretch(1)
        hazard_row.addWidget(self.repair_button)
        hazard_row.addWidget(self.recheck_button)
        hazard_row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.alert_label)
        layout.addLayout(due_row)
        layout.addWidget(self.due_table, 1)
        layout.addLayout(hazard_row)
        layout.addWidget(self.hazard_table, 2)

    def refresh(self) -> None:
        from yuexiu_desk.services import hazards, inspections

        today = local_date(self.store.clock.now())
        with self.store.read() as session:
            due = inspections.due(session, today)
            open_hazards = hazards.list_hazards(session, open_only=True)
            alerts = hazards.manager_alerts(session)
        # Overdue first, then by the day each falls due.
        self.due_model.set_rows(sorted(due, key=lambda d: (not d.overdue, d.due_date)))
        self.hazard_model.set_rows(sorted(open_hazards, key=lambda h: (not h.overdue, h.deadline)))
        overdue = sum(d.overdue for d in due)
        late = sum(h.overdue for h in open_hazards)
        self.summary_label.setText(
            f"到期 {len(due)} 项，其中逾期 {overdue} 项；未销项隐患 {len(open_hazards)} 条，其中超期 {late} 条。"
        )
        self.alert_label.setText(
            f"危险等级 C/D 级预警 {len(alerts)} 条待站长确认（S1）：" + "、".join(a.hazard_no for a in alerts)
            if alerts
            else ""
        )
        self.alert_label.setVisible(bool(alerts))
        self._stale = False

    def print_blank(self, out: Path | None = None) -> int | None:
        from yuexiu_desk.services.inspection_print import print_blank

        item = selected_row(self.due_table, self.due_model, self, "请先在“到期的巡查和检查”中选中一项。")
        if item is None:
            return None
        target = (
            out
            or self.store.paths.root / "inspections" / f"{item.template}-{item.scope.replace(':', '-')}.pdf"
        )
        target.parent.mkdir(parents=True, exist_ok=True)

        def work(session: Session) -> tuple[str, int, bool]:
            return print_blank(session, item.template, item.scope, target, session.info["operator"])

        def done(result: tuple[str, int, bool]) -> None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))
            self.refresh()

        return self.runner.run(
            work, description="正在打印空白记录表…", topic=None, on_success=done, parent=self, owner=self
        )

    def fill_in(self) -> int | None:
        """Open the round of the selected item (starting it when none is in progress) to fill in on screen."""
        from yuexiu_desk.services import inspections

        item = selected_row(self.due_table, self.due_model, self, "请先在“到期的巡查和检查”中选中一项。")
        if item is None:
            return None
        if item.open_round:
            self._open_round(item.open_round)
            return None
        return self.runner.run(
            lambda s: inspections.start_round(s, item.template, item.scope, s.info["operator"]).round_no,
            description="正在开始这一轮…",
            topic=None,
            on_success=self._open_round,
            parent=self,
            owner=self,
        )

    def _open_round(self, round_no: str) -> None:
        from yuexiu_desk.gui.rounddialog import RoundDialog

        self.round_dialog = RoundDialog(self.runner, round_no, self)
        self.round_dialog.finished.connect(lambda _r: self.refresh())
        self.round_dialog.show()
        self.refresh()

    def _selected_hazard(self) -> Any:
        return selected_row(self.hazard_table, self.hazard_model, self, "请先选中一条隐患。")

    def _on_hazard(self, op: Any, description: str, on_success: Any = None) -> int:
        return self.runner.run(
            op,
            description=description,
            topic=None,
            on_success=on_success or (lambda _row: self.refresh()),
            parent=self,
            owner=self,
        )

    def raise_repair(self) -> int | None:
        from yuexiu_desk.services import hazards

        hazard = self._selected_hazard()
        if hazard is None:
            return None
        number = hazard.hazard_no
        return self._on_hazard(
            lambda s: hazards.raise_repair(s, number, s.info["operator"]),
            "正在开维修工单…",
            self._repair_raised,
        )

    def _repair_raised(self, order: str) -> None:
        self.refresh()
        messages.inform(self, f"已开维修工单 {order}；整改完成后仍须复查验收再销项。")

    def reinspect(self, fixed: bool | None = None, note: str | None = None) -> int | None:
        from yuexiu_desk.services import hazards

        hazard = self._selected_hazard()
        if hazard is None:
            return None
        if fixed is None:
            fixed = messages.ask(
                self, f"隐患 {hazard.hazard_no}（{hazard.description}）复查是否合格？", "复查验收"
            )
        if note is None:
            from PySide6.QtWidgets import QInputDialog

            note, ok = QInputDialog.getText(self, "复查说明", "复查情况：")
            if not ok:
                return None
        number, passed, said = hazard.hazard_no, fixed, note
        return self._on_hazard(
            lambda s: hazards.reinspect(s, number, passed, said, s.info["operator"]), "正在登记复查…"
        )

    def close_hazard(self) -> int | None:
        from yuexiu_desk.services import hazards

        hazard = self._selected_hazard()
        if hazard is None:
            return None
        number = hazard.hazard_no
        return self._on_hazard(lambda s: hazards.close_hazard(s, number, s.info["operator"]), "正在销项…")
