"""The unit card (房源卡片): one non-modal window per unit with its facts, status and 异动 history, and the
actions 变更房态… and 打印本房标签. CardManager keeps at most one card per unit, refreshes them after writes,
and keeps one closed card to show the next unit in (building a card costs more than filling one).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid
from sqlalchemy import select

from yuexiu_desk.domain.money import format_yuan
from yuexiu_desk.domain.units import UnitCode
from yuexiu_desk.errors import UserError
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.dialogs import ChangeStatusDialog, print_labels
from yuexiu_desk.gui.formprinting import default_forms_dir
from yuexiu_desk.gui.models import HistoryModel
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.style import status_colour, text_colour_on
from yuexiu_desk.services.handover import CHECKIN, MOVEOUT
from yuexiu_desk.services.leases import LeaseSummary, current_lease_of_unit
from yuexiu_desk.services.units import UnitCard, unit_card
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Unit

AFTER_PAINT_AT_MOST_MS = 250


class UnitCardDialog(QDialog):
    def __init__(
        self,
        store: Store,
        runner: OpRunner,
        unit_id: uuid.UUID,
        labels_dir: Callable[[], Path],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._runner = runner
        self._labels_dir = labels_dir
        self.unit_id = unit_id
        self.card: UnitCard | None = None
        self.lease: LeaseSummary | None = None
        self.handover_dialog: QDialog | None = None
        self.status_dialog: ChangeStatusDialog | None = None
        self._chip_style = ""
        self._after_paint: list[Callable[[], object]] = []
        self.setModal(False)
        self.setMinimumSize(640, 560)

        self.code_label = QLabel()
        self.code_label.setObjectName("cardCode")
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sub_label = QLabel()
        self.sub_label.setObjectName("cardSub")
        self.status_chip = QLabel()
        self.status_chip.setObjectName("statusChip")
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.code_label)
        titles.addWidget(self.sub_label)
        head.addLayout(titles, 1)
        head.addWidget(self.status_chip, 0, Qt.AlignmentFlag.AlignTop)

        self.values: dict[str, QLabel] = {}
        facts = QGridLayout()
        facts.setHorizontalSpacing(16)
        facts.setVerticalSpacing(6)
        names = ["楼栋", "单元", "楼层", "房号", "户型", "朝向", "建筑面积", "套内面积", "无障碍", "房态"]
        for i, name in enumerate(names):
            caption = QLabel(f"{name}：")
            caption.setObjectName("hint")
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[name] = value
            facts.addWidget(caption, i // 2, (i % 2) * 2, Qt.AlignmentFlag.AlignRight)
            facts.addWidget(value, i // 2, (i % 2) * 2 + 1)
        fittings_caption = QLabel("配套设施：")
        fittings_caption.setObjectName("hint")
        self.values["配套设施"] = QLabel()
        self.values["配套设施"].setWordWrap(True)
        row = len(names) // 2
        facts.addWidget(fittings_caption, row, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        facts.addWidget(self.values["配套设施"], row, 1, 1, 3)
        facts.setColumnStretch(1, 1)
        facts.setColumnStretch(3, 1)

        self.lease_label = QLabel()
        self.lease_label.setObjectName("leaseSummary")
        self.lease_label.setWordWrap(True)
        self.lease_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.checkin_button = QPushButton("入住交接(&I)…")
        self.moveout_button = QPushButton("退出交接(&O)…")
        self.checkin_button.clicked.connect(lambda: self.open_handover(CHECKIN))
        self.moveout_button.clicked.connect(lambda: self.open_handover(MOVEOUT))
        lease_line = QHBoxLayout()
        lease_line.addWidget(self.lease_label, 1)
        lease_line.addWidget(self.checkin_button, 0, Qt.AlignmentFlag.AlignTop)
        lease_line.addWidget(self.moveout_button, 0, Qt.AlignmentFlag.AlignTop)

        self.history_title = QLabel("异动记录")
        font = self.history_title.font()
        font.setBold(True)
        self.history_title.setFont(font)
        self.history_model = HistoryModel(self)
        self.history_view = QTableView()
        self.history_view.setModel(self.history_model)
        self.history_view.verticalHeader().setVisible(False)
        self.history_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_view.setAlternatingRowColors(True)
        self.history_view.setWordWrap(False)
        header = self.history_view.horizontalHeader()
        for column, width in enumerate((130, 80, 140, 180)):
            self.history_view.setColumnWidth(column, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.ResizeToContents)

        self.change_button = QPushButton("变更房态(&S)…")
        self.change_button.setObjectName("primary")
        self.print_button = QPushButton("打印本房标签(&P)")
        self.close_button = QPushButton("关闭")
        buttons = QHBoxLayout()
        buttons.addWidget(self.change_button)
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(facts)
        layout.addSpacing(6)
        layout.addLayout(lease_line)
        layout.addSpacing(6)
        layout.addWidget(self.history_title)
        layout.addWidget(self.history_view, 1)
        layout.addStretch(0)
        layout.addLayout(buttons)

        self.change_button.clicked.connect(self.change_status)
        self.print_button.clicked.connect(self.print_label)
        self.close_button.clicked.connect(self.reject)
        self.change_button.setDefault(True)
        self.change_button.setFocus()
        self.refresh()

    @property
    def code(self) -> str:
        return self.card.row.code if self.card else ""

    def show_unit(self, unit_id: uuid.UUID) -> bool:
        """Fill this (closed) card with another unit; False, after saying why, if that unit cannot be shown."""
        self.unit_id = unit_id
        self.card = None
        self.refresh()
        if self.card is None:
            return False
        self.history_view.scrollToTop()
        self.change_button.setFocus()
        return True

    def after_paint(self, callback: Callable[[], object]) -> None:
        """Run callback once this card is on screen: right after its next paint, so that work the clerk is
        not waiting for (the main window catching up) does not delay the card. Should no paint come (a
        hidden or minimised window), it runs a little later anyway."""
        self._after_paint.append(callback)
        self.update()  # a paint is due even if refreshing changed nothing on screen
        QTimer.singleShot(AFTER_PAINT_AT_MOST_MS, self, self._run_after_paint)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._after_paint:
            # A timer started while painting fires once the whole window (children included) is painted.
            QTimer.singleShot(0, self, self._run_after_paint)

    def _run_after_paint(self) -> None:
        callbacks, self._after_paint = self._after_paint, []
        for callback in callbacks:
            callback()

    def is_busy(self) -> bool:
        """True while its status change dialog is open (the card cannot be reused for another unit then)."""
        handover = self.handover_dialog is not None and isValid(self.handover_dialog)
        return handover or (self.status_dialog is not None and isValid(self.status_dialog))

    def refresh(self) -> None:
        try:
            with self._store.read() as session:
                card = unit_card(session, self.unit_id)
                lease = current_lease_of_unit(session, self.unit_id)
        except UserError as exc:
            messages.warn(self, exc.message)
            self.reject()
            return
        self.card = card
        self.lease = lease
        self._show_lease(lease)
        row = card.row
        code = UnitCode(row.building, row.entrance, row.floor, row.room)
        self.setWindowTitle(f"房源卡片 · {row.code}")
        self.code_label.setText(row.code)
        self.sub_label.setText(code.chinese + ("　· 无障碍房" if row.accessible else ""))
        colour = status_colour(row.status)
        self.status_chip.setText(row.status.label)
        chip_style = (
            f"background: {colour.name()}; color: {text_colour_on(colour).name()};"
            " border-radius: 4px; padding: 4px 12px; font-weight: bold;"
        )
        if chip_style != self._chip_style:  # parsing a style sheet is the dearest part of a refresh
            self.status_chip.setStyleSheet(chip_style)
            self._chip_style = chip_style
        shown = {
            "楼栋": f"{row.building}栋",
            "单元": f"{row.entrance}单元",
            "楼层": f"{row.floor}层",
            "房号": f"{row.floor}{row.room:02d}室",
            "户型": row.unit_type,
            "朝向": row.orientation or "—",
            "建筑面积": f"{row.gross_area:.2f} m²",
            "套内面积": f"{row.inner_area:.2f} m²",
            "无障碍": "是（无障碍房）" if row.accessible else "否",
            "房态": row.status.label,
            "配套设施": card.fittings or "—",
        }
        for name, text in shown.items():
            self.values[name].setText(text)
        self.history_model.set_events(card.history)
        if card.history:
            self.history_title.setText(f"异动记录（{len(card.history)} 条，最近的在前）")
        else:
            self.history_title.setText("异动记录（暂无：这套房源还没有变更过房态）")
        self.history_view.setVisible(bool(card.history))

    def _show_lease(self, lease: LeaseSummary | None) -> None:
        if lease is None:
            self.lease_label.setText("住户与合同：暂无生效合同")
        else:
            state = "已入住交接" if lease.has_checkin else "未办入住交接"
            lines = [
                f"承租人：<b>{lease.leaseholder}</b>　合同 {lease.lease_no}（{lease.status.label}，{state}）",
                f"租期 {lease.start} 至 {lease.end}　月租金 {lease.monthly_rent:,.2f} 元"
                f"　押金 {lease.deposit:,.2f} 元",
                "同住：" + ("、".join(lease.members) if lease.members else "无（独居）"),
            ]
            if lease.balance_fen > 0:
                lines.append(f"<b style='color:#c62828'>欠费 {format_yuan(lease.balance_fen)} 元</b>")
            elif lease.balance_fen < 0:
                lines.append(f"预存 {format_yuan(-lease.balance_fen)} 元")
            if len(lease.versions) > 1:
                # Changes are new versions (never overwritten): the card lists them, newest last.
                lines.append(
                    "合同变更："
                    + "；".join(
                        f"第{v.version}版 {v.effective_from} 起 {v.monthly_rent:,.2f} 元"
                        + (f"（{v.note}）" if v.note and v.version > 1 else "")
                        for v in lease.versions
                    )
                )
            self.lease_label.setText("<br>".join(lines))
        self.checkin_button.setEnabled(lease is not None and not lease.has_checkin)
        self.moveout_button.setEnabled(lease is not None)

    def open_handover(self, kind: str) -> QDialog | None:
        if self.lease is None:
            return None
        from yuexiu_desk.gui.handover import open_handover

        folder = default_forms_dir(self._store.paths.root)
        self.handover_dialog = open_handover(
            self._store, self._runner, self.lease.lease_no, kind, folder, self
        )
        return self.handover_dialog

    def change_status(self) -> ChangeStatusDialog | None:
        if self.card is None:
            return None
        if self.status_dialog is not None and isValid(self.status_dialog) and self.status_dialog.isVisible():
            self.status_dialog.raise_()
            return self.status_dialog
        dialog = ChangeStatusDialog(self.card.row, self._runner, self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(self._status_dialog_closed)
        self.status_dialog = dialog
        dialog.open()
        return dialog

    def _status_dialog_closed(self) -> None:
        self.status_dialog = None

    def print_label(self) -> int | None:
        if self.card is None:
            return None
        out = self._labels_dir() / f"房源标签-{self.card.row.code}.pdf"
        return print_labels(self._runner, out, [self.card.row.code], parent=self)


class CardManager(QObject):
    """At most one card per unit; opening an open card brings it to the front. A closed card is kept (one)
    and filled with the next unit opened, instead of building a new window each time."""

    def __init__(
        self,
        store: Store,
        runner: OpRunner,
        labels_dir: Callable[[], Path],
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._store = store
        self._runner = runner
        self._labels_dir = labels_dir
        self._window = window
        self._cards: dict[uuid.UUID, UnitCardDialog] = {}
        self._spare: UnitCardDialog | None = None

    def open(self, unit_id: uuid.UUID) -> UnitCardDialog | None:
        card = self._cards.get(unit_id)
        if card is not None:
            card.refresh()
        else:
            card = self._fill_spare(unit_id) if self._spare is not None else self._new_card(unit_id)
            if card is None:  # the unit is gone; the card already said so
                return None
            self._cards[unit_id] = card
        card.show()
        card.raise_()
        card.activateWindow()
        return card

    def _new_card(self, unit_id: uuid.UUID) -> UnitCardDialog | None:
        card = UnitCardDialog(self._store, self._runner, unit_id, self._labels_dir, self._window)
        if card.card is None:
            card.deleteLater()
            return None
        card.finished.connect(lambda _result, closed=card: self._closed(closed))
        return card

    def _fill_spare(self, unit_id: uuid.UUID) -> UnitCardDialog | None:
        card, self._spare = self._spare, None
        assert card is not None
        if not isValid(card):
            return self._new_card(unit_id)
        if not card.show_unit(unit_id):
            self._retire(card)
            return None
        return card

    def warm_up(self) -> None:
        """Build the spare card once, hidden, for any unit: the first scan of the day then only refills a
        card whose widgets exist and whose queries SQLAlchemy has already compiled (~40 ms saved)."""
        if self._spare is not None or self._cards:
            return
        with self._store.read() as session:
            any_unit = session.scalar(select(Unit.id).limit(1))
        if any_unit is None:
            return
        card = self._new_card(any_unit)
        if card is not None and not self._cards and self._spare is None:
            self._spare = card

    def card(self, unit_id: uuid.UUID) -> UnitCardDialog | None:
        return self._cards.get(unit_id)

    def cards(self) -> list[UnitCardDialog]:
        return list(self._cards.values())

    def refresh_all(self) -> None:
        for card in list(self._cards.values()):
            card.refresh()

    def close_all(self) -> None:
        for card in list(self._cards.values()):
            card.close()

    def _closed(self, card: UnitCardDialog) -> None:
        if self._cards.get(card.unit_id) is card:
            del self._cards[card.unit_id]
        self._retire(card)

    def _retire(self, card: UnitCardDialog) -> None:
        """Keep a closed card for the next unit, or delete it if one is kept already (or it is busy)."""
        if card is self._spare or not isValid(card):
            return
        if self._spare is None and not card.is_busy() and card not in self._cards.values():
            self._spare = card
        else:
            card.deleteLater()
