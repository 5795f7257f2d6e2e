"""资金对账: one month's money on one page — the fund report's figures with a billed/collected chart, the bank
reconciliation (matched, unmatched statement lines, unmatched payments), and the month-end actions: bill
run, statement import, confirming matches, month close and reopen, and the Excel exports for the bureau.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.billing import Channel, Period
from yuexiu_desk.domain.money import format_yuan
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel, rows_table
from yuexiu_desk.services import billing, funds, reconcile
from yuexiu_desk.storage.billing_models import Bill, Payment
from yuexiu_desk.storage.db import Store

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
BILLED_COLOUR = QColor("#90a4ae")
COLLECTED_COLOUR = QColor("#2e7d32")
GOOD = "#2e7d32"
BAD = "#c62828"


@dataclass(frozen=True)
class MonthView:
    """Everything the page shows for one month, read in one session."""

    period: Period
    figures: funds.FundFigures
    state: reconcile.Reconciliation
    closed: funds.CloseState
    history: list[tuple[str, int, int]]


def months_with_money(session: Session, today: date) -> list[Period]:
    """From the first billed or paid month to next month (the furthest a bill run may go), newest first."""
    first_bill = session.scalar(select(func.min(Bill.period)))
    first_paid = session.scalar(select(func.min(Payment.paid_on)))
    starts = [Period.parse(first_bill)] if first_bill else []
    if first_paid is not None:
        starts.append(Period.of(first_paid))
    this = Period.of(today)
    start = min(starts) if starts else this
    months = []
    current = this.shifted(1)
    while current >= start:
        months.append(current)
        current = current.shifted(-1)
    return months


def default_month(months: list[Period], closed: set[str], today: date) -> Period:
    """The month the clerk most likely works on: the oldest ended month not yet closed, else last month."""
    this = Period.of(today)
    open_ended = [m for m in months if m < this and str(m) not in closed]
    return min(open_ended) if open_ended else this.shifted(-1)


class TrendChart(QWidget):
    """Billed against collected, month by month (the last 12), as paired bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, int, int]] = []
        self.setMinimumHeight(170)

    def set_rows(self, rows: list[tuple[str, int, int]]) -> None:
        self.rows = rows
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(44, 24, -8, -22)
        top = max([max(b, c) for _p, b, c in self.rows], default=0)
        painter.setPen(QPen(QColor("#455a64")))
        painter.drawText(4, 14, "应收与实收（万元）" if top >= 1_000_000 else "应收与实收（元）")
        self._legend(painter)
        if not self.rows or top <= 0:
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "暂无数据")
            return
        scale = 1_000_000 if top >= 1_000_000 else 100
        painter.setPen(QPen(QColor("#cfd8dc")))
        for step in range(5):
            y = rect.bottom() - rect.height() * step / 4
            painter.drawLine(int(rect.left()), int(y), int(rect.right()), int(y))
            painter.drawText(
                QRectF(0, y - 8, 40, 16),
                _RIGHT,
                f"{top * step / 4 / scale:,.0f}" if scale == 100 else f"{top * step / 4 / scale:.1f}",
            )
        slot = rect.width() / len(self.rows)
        bar = max(2.0, slot * 0.32)
        for index, (period, billed, collected) in enumerate(self.rows):
            x = rect.left() + slot * index + slot / 2
            for offset, value, colour in ((-bar, billed, BILLED_COLOUR), (0.0, collected, COLLECTED_COLOUR)):
                height = rect.height() * value / top
                painter.fillRect(QRectF(x + offset, rect.bottom() - height, bar, height), colour)
            painter.setPen(QPen(QColor("#455a64")))
            painter.drawText(
                QRectF(x - slot / 2, rect.bottom() + 3, slot, 16),
                Qt.AlignmentFlag.AlignCenter,
                period[5:] + "月",
            )

    def _legend(self, painter: QPainter) -> None:
        x = self.width() - 150
        for label, colour in (("应收", BILLED_COLOUR), ("实收", COLLECTED_COLOUR)):
            painter.fillRect(QRectF(x, 5, 12, 10), colour)
            painter.setPen(QPen(QColor("#455a64")))
            painter.drawText(int(x + 16), 14, label)
            x += 64


PAIR_COLUMNS: tuple[RowColumn[reconcile.MatchedPair], ...] = (
    RowColumn("记账日", lambda p: str(p.line.booked_on), 90),
    RowColumn("流水金额", lambda p: format_yuan(p.line.amount_fen), 90, _RIGHT),
    RowColumn("对方", lambda p: p.line.counterparty, 80),
    RowColumn("收据号", lambda p: p.receipt_no, 170),
    RowColumn("房号", lambda p: p.payment.unit_code, 70),
    RowColumn(
        "方式",
        lambda p: {"reference": "流水号", "amount_date": "金额日期", "manual": "手工"}.get(
            p.matched_by, p.matched_by
        ),
        70,
    ),
    RowColumn("状态", lambda p: "已确认" if p.confirmed else "待确认", 60),
)
LINE_COLUMNS: tuple[RowColumn[reconcile.LineView], ...] = (
    RowColumn("记账日", lambda v: str(v.booked_on), 90),
    RowColumn("金额", lambda v: format_yuan(v.amount_fen), 90, _RIGHT),
    RowColumn("流水号", lambda v: v.reference, 140),
    RowColumn("对方", lambda v: v.counterparty, 80),
    RowColumn(
        "摘要",
        lambda v: v.summary + (f"（原收据 {v.voided_receipt_no} 已作废）" if v.voided_receipt_no else ""),
        200,
    ),
)
PAYMENT_COLUMNS: tuple[RowColumn[reconcile.PaymentView], ...] = (
    RowColumn("缴费日", lambda v: str(v.paid_on), 90),
    RowColumn("金额", lambda v: format_yuan(v.amount_fen), 90, _RIGHT),
    RowColumn("收据号", lambda v: v.receipt_no, 170),
    RowColumn("房号", lambda v: v.unit_code, 70),
    RowColumn("方式", lambda v: v.channel.label, 70),
    RowColumn("流水号", lambda v: v.reference, 140),
)


class FundsPage(QWidget):
    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self.view: MonthView | None = None
        self._stale = True

        title = QLabel("资金对账")
        title.setObjectName("pageTitle")
        self.month = QComboBox()
        self.month.setMinimumWidth(120)
        self.month.currentIndexChanged.connect(lambda _i: self.refresh())
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(16)
        head.addWidget(QLabel("账期"))
        head.addWidget(self.month)
        head.addSpacing(12)
        head.addWidget(self.status, 1)

        self.bill_button = QPushButton("出账")
        self.bill_button.setToolTip("为所选账期出账（重复出账不会重复生成账单）")
        self.bill_button.clicked.connect(self.run_bills)
        self.import_button = QPushButton("导入银行流水…")
        self.import_button.clicked.connect(self.choose_statement)
        self.confirm_button = QPushButton("确认全部匹配")
        self.confirm_button.clicked.connect(self.confirm_all)
        self.manual_button = QPushButton("手工匹配…")
        self.manual_button.setToolTip("把选中的银行流水匹配到一张收据")
        self.manual_button.clicked.connect(self.match_selected_line)
        self.close_button = QPushButton("结账")
        self.close_button.clicked.connect(self.close_month)
        self.reopen_button = QPushButton("反结账…")
        self.reopen_button.clicked.connect(self.reopen_month)
        self.report_button = QPushButton("导出资金报表…")
        self.report_button.clicked.connect(lambda: self.choose_export("report"))
        self.ledger_button = QPushButton("导出租金台账…")
        self.ledger_button.clicked.connect(lambda: self.choose_export("ledger"))
        actions = QHBoxLayout()
        for button in (
            self.bill_button,
            self.import_button,
            self.confirm_button,
            self.manual_button,
            self.close_button,
            self.reopen_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.report_button)
        actions.addWidget(self.ledger_button)

        self.figure_labels: dict[str, QLabel] = {}
        figures = QGridLayout()
        figures.setHorizontalSpacing(18)
        names = [
            ("opening", "期初欠费"),
            ("billed", "本月应收"),
            ("bill_voids", "作废账单"),
            ("collected", "本月实收"),
            ("payment_voids", "作废收款"),
            ("closing", "期末欠费"),
        ]
        for index, (key, label) in enumerate(names):
            figures.addWidget(QLabel(label), 0, index)
            value = QLabel("—")
            value.setObjectName("figure")
            value.setStyleSheet("font-size: 15px; font-weight: 600;")
            figures.addWidget(value, 1, index)
            self.figure_labels[key] = value
        self.channels = QLabel()
        self.bands = QLabel()
        self.chart = TrendChart()
        figure_box = QFrame()
        figure_box.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(figure_box)
        box.addLayout(figures)
        box.addWidget(self.channels)
        box.addWidget(self.bands)
        box.addWidget(self.chart, 1)

        self.pairs: RowsModel[reconcile.MatchedPair] = RowsModel(
            PAIR_COLUMNS, foreground=lambda p: None if p.confirmed else QColor("#ef6c00")
        )
        self.lines: RowsModel[reconcile.LineView] = RowsModel(LINE_COLUMNS)
        self.unmatched_payments: RowsModel[reconcile.PaymentView] = RowsModel(PAYMENT_COLUMNS)
        self.pair_view = rows_table(self.pairs)
        self.line_view = rows_table(self.lines)
        self.payment_view = rows_table(self.unmatched_payments)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.line_view, "未匹配的银行流水")
        self.tabs.addTab(self.payment_view, "未到账的收款")
        self.tabs.addTab(self.pair_view, "已匹配")

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(figure_box)
        splitter.addWidget(self.tabs)
        splitter.setSizes([330, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(actions)
        layout.addWidget(splitter, 1)

    # --- loading --------------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload_months()

    def data_changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self.reload_months()

    @property
    def period(self) -> Period | None:
        data = self.month.currentData()
        return Period.parse(data) if data else None

    def reload_months(self) -> None:
        """Fill the month list (keeping the chosen month) and show it."""
        self._stale = False
        today = local_date(self.store.clock.now())
        with self.store.read() as session:
            months = months_with_money(session, today)
            closed = billing.closed_periods(session)
        chosen = self.period or default_month(months, closed, today)
        self.month.blockSignals(True)
        self.month.clear()
        for month in months:
            mark = "（已结账）" if str(month) in closed else ""
            self.month.addItem(f"{month.label}{mark}", str(month))
        index = self.month.findData(str(chosen))
        self.month.setCurrentIndex(max(0, index))
        self.month.blockSignals(False)
        self.refresh()

    def select_month(self, period: Period) -> None:
        index = self.month.findData(str(period))
        if index < 0:
            self.reload_months()
            index = self.month.findData(str(period))
        self.month.setCurrentIndex(index)

    def refresh(self) -> None:
        period = self.period
        if period is None:
            return
        with self.store.read() as session:
            self.view = MonthView(
                period,
                funds.fund_figures(session, period),
                reconcile.reconciliation(session, period),
                funds.close_state(session, period),
                funds.history(session, period),
            )
        self._show(self.view)

    def _show(self, view: MonthView) -> None:
        f, state = view.figures, view.state
        values = {
            "opening": f.opening_fen,
            "billed": f.billed_fen,
            "bill_voids": f.bill_voids_fen,
            "collected": f.collected_fen,
            "payment_voids": f.payment_voids_fen,
            "closing": f.closing_fen,
        }
        for key, fen in values.items():
            self.figure_labels[key].setText(f"{format_yuan(fen)} 元")
        self.channels.setText(
            "实收分渠道："
            + "；".join(
                f"{Channel(c).label} {format_yuan(fen)}" for c, fen in f.collected_by_channel.items() if fen
            )
        )
        self.bands.setText(
            "欠费账龄："
            + "；".join(
                f"{label} {count} 户 {format_yuan(fen)} 元" for label, count, fen in f.arrears_by_band
            )
        )
        self.chart.set_rows([(p, b, c) for p, b, c in view.history])
        self.pairs.set_rows(state.pairs)
        self.lines.set_rows(state.unmatched_lines)
        self.unmatched_payments.set_rows(state.unmatched_payments)
        self.tabs.setTabText(0, f"未匹配的银行流水（{len(state.unmatched_lines)}）")
        self.tabs.setTabText(1, f"未到账的收款（{len(state.unmatched_payments)}）")
        self.tabs.setTabText(2, f"已匹配（{len(state.pairs)}，待确认 {len(state.unconfirmed)}）")
        if view.closed.closed:
            status = f"<b style='color:{GOOD}'>已结账</b>（{view.closed.operator}）"
        elif state.reconciles:
            status = f"<b style='color:{GOOD}'>已对平</b>，可以结账"
        else:
            status = f"<b style='color:{BAD}'>未对平</b>：{reconcile.describe(state).splitlines()[0]}"
        self.status.setText(status)
        closed = view.closed.closed
        for button in (self.bill_button, self.import_button, self.confirm_button, self.manual_button):
            button.setEnabled(not closed)
        self.close_button.setEnabled(not closed and state.reconciles)
        self.reopen_button.setEnabled(closed)

    # --- actions --------------------------------------------------------------------------------------
    def _after_write(self, text: str) -> None:
        self.reload_months()
        messages.inform(self, text)

    def run_bills(self) -> int | None:
        period = self.period
        if period is None:
            return None
        return self.runner.run(
            lambda session: billing.run_bills(session, period, self.runner.operator),
            description=f"正在为 {period} 出账…",
            topic="money",
            on_success=lambda made: self._after_write(
                f"{period.label}出账 {made} 张账单。" if made else f"{period.label}没有需要新出的账单。"
            ),
            parent=self,
            owner=self,
        )

    def choose_statement(self) -> int | None:
        chosen, _filter = QFileDialog.getOpenFileName(
            self, "选择银行流水", str(Path.home()), "银行流水 (*.xlsx *.csv)"
        )
        return self.import_statement(Path(chosen)) if chosen else None

    def import_statement(self, path: Path) -> int | None:
        period = self.period
        if period is None:
            return None
        store = self.store

        def work(session: Session) -> Any:
            from yuexiu_desk.services.backups import make_backup

            make_backup(
                store, "before-import", operator=self.runner.operator, session=session
            )  # before any write
            return reconcile.import_statement(session, path, period, self.runner.operator)

        return self.runner.run(
            work,
            description="正在导入银行流水…",
            topic="money",
            on_success=lambda result: self._after_write(reconcile.describe_import(result)),
            parent=self,
            owner=self,
        )

    def confirm_all(self) -> int | None:
        period = self.period
        if period is None:
            return None
        return self.runner.run(
            lambda session: reconcile.confirm_matches(session, period, None, self.runner.operator),
            description="正在确认匹配…",
            topic="money",
            on_success=lambda count: self._after_write(f"已确认 {count} 笔匹配。"),
            parent=self,
            owner=self,
        )

    def match_selected_line(self, receipt_no: str | None = None) -> int | None:
        rows = self.line_view.selectionModel().selectedRows() if self.line_view.selectionModel() else []
        if not rows:
            messages.warn(self, "请先在“未匹配的银行流水”里选中一条流水，再手工匹配。")
            return None
        line = self.lines.row(rows[0].row())
        if receipt_no is None:
            text, ok = QInputDialog.getText(
                self,
                "手工匹配",
                f"{line.booked_on} {format_yuan(line.amount_fen)} 元 {line.counterparty}\n匹配到收据号：",
            )
            if not ok or not text.strip():
                return None
            receipt_no = text
        chosen = receipt_no
        return self.runner.run(
            lambda session: reconcile.match_manually(session, line.line_id, chosen, self.runner.operator),
            description="正在匹配…",
            topic="money",
            on_success=lambda _r: self._after_write(f"已把这笔流水匹配到收据 {chosen.strip().upper()}。"),
            parent=self,
            owner=self,
        )

    def close_month(self) -> int | None:
        period = self.period
        if period is None:
            return None
        if not messages.ask(
            self, f"结账后{period.label}的账单、收款和作废都不能再改动，确定结账吗？", "结账"
        ):
            return None
        return self.runner.run(
            lambda session: funds.close_month(session, period, self.runner.operator),
            description=f"正在结账 {period}…",
            topic="money",
            on_success=lambda figures: self._after_write(
                f"{period.label}已结账，期末欠费 {format_yuan(figures.closing_fen)} 元。"
            ),
            parent=self,
            owner=self,
        )

    def reopen_month(self, reason: str | None = None) -> int | None:
        period = self.period
        if period is None:
            return None
        if reason is None:
            text, ok = QInputDialog.getText(self, "反结账", f"反结账{period.label}的原因（会记入日志）：")
            if not ok:
                return None
            reason = text
        why = reason
        return self.runner.run(
            lambda session: funds.reopen_month(session, period, why, self.runner.operator),
            description=f"正在反结账 {period}…",
            topic="money",
            on_success=lambda _r: self._after_write(f"{period.label}已反结账，原因已记录。"),
            parent=self,
            owner=self,
        )

    def choose_export(self, kind: str) -> int | None:
        period = self.period
        if period is None:
            return None
        title = "资金报表" if kind == "report" else "租金台账"
        suggested = Path.home() / f"{title}-{period}.xlsx"
        chosen, _filter = QFileDialog.getSaveFileName(
            self, f"保存{title}", str(suggested), "Excel 工作簿 (*.xlsx)"
        )
        if not chosen:
            return None
        out = Path(chosen)
        if out.suffix.lower() != ".xlsx":
            out = out.with_name(out.name + ".xlsx")
        return self.export(kind, out)

    def export(self, kind: str, out: Path) -> int | None:
        from yuexiu_desk.services.money_export import export_fund_report, export_rent_ledger

        period = self.period
        if period is None:
            return None

        def work(session: Session) -> Any:
            if kind == "report":
                return export_fund_report(session, period, out)
            return export_rent_ledger(session, period, out)

        title = "资金报表" if kind == "report" else "租金台账"
        return self.runner.run(
            work,
            description=f"正在导出{title}…",
            topic=None,
            write=True,  # the export is recorded in the audit log
            on_success=lambda _r: self._offer_to_open(title, out),
            parent=self,
            owner=self,
        )

    def _offer_to_open(self, title: str, out: Path) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        if messages.ask(self, f"已导出{title}：\n{out}\n\n现在打开吗？", "导出完成"):
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(out)))
