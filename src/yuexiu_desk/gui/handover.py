"""入住交接 and 退出交接 dialogs, generated from the form definitions (forms/checkin.toml, forms/moveout.toml).

Every meter, key and checklist item on screen comes from the definition, so an item added to the TOML shows
up here with no code change. The rules (all answered, a note for anything not in the first state, lower
readings only with 已换表, the settlement) are the service's; the screen only hints. Photos chosen for an
item (its 照片 button) or for the whole handover wait in a strip and are attached in the same job that saves
the handover; one that then fails is reported and the handover stays saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.money import format_yuan
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.formdefs import Field, FormDefinition, Item, Section, SectionType, load_form
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.formprinting import print_lease_form
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.photodialogs import (
    HandoverPhotosDialog,
    PhotoPicker,
    PhotoStrip,
    dropped_files,
    failures_text,
    open_handover_photos,
)
from yuexiu_desk.gui.savedialog import SavingDialog, date_edit, from_qdate
from yuexiu_desk.services.handover import (
    CHECKIN,
    MOVEOUT,
    HandoverInput,
    MoveOutInput,
    Settlement,
    handover_values,
    record_checkin,
    record_moveout,
)
from yuexiu_desk.services.leases import LeaseSummary, lease_summary
from yuexiu_desk.services.photos import WHOLE, WHOLE_LABEL, AttachReport, attach_photos, photo_counts
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import HandoverValue

NOTE_NEEDED = "必填：写明部位和程度"

W = TypeVar("W", bound=QWidget)  # the editor of one reading or count


@dataclass
class ItemRow:
    """The widgets of one checklist item: a radio button per allowed result and a note."""

    item: Item
    group: QButtonGroup
    buttons: list[QRadioButton]
    note: QLineEdit

    def result(self) -> str | None:
        checked = self.group.checkedButton()
        return checked.text() if checked is not None else None

    def choose(self, result: str) -> None:
        self.buttons[self.item.results.index(result)].setChecked(True)


@dataclass(frozen=True)
class SavedHandover:
    """What the save job hands back: the service's result and how the photos chosen with it fared."""

    result: Any  # the handover id (check-in) or the Settlement (move-out)
    photos: AttachReport | None


@dataclass
class DamageRow:
    description: QLineEdit
    amount: QLineEdit
    remove: QPushButton


def _reading_text(value: HandoverValue | None) -> str:
    if value is None or value.reading_hundredths is None:
        return "—"
    return f"{value.reading_hundredths / 100:.2f}"


def _count_text(value: HandoverValue | None) -> str:
    return str(value.count) if value is not None and value.count is not None else "—"


def _reading_edit(_field: Field) -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText("0.00")
    edit.setMaximumWidth(160)
    return edit


def _count_spin(_field: Field) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, 99)
    return spin


class HandoverDialog(SavingDialog):
    """One dialog for both kinds; MOVEOUT adds the move-out date, damages, the unit after and 已换表."""

    topic = "units"

    def __init__(
        self,
        store: Store,
        runner: OpRunner,
        lease_no: str,
        kind: str,
        forms_folder: Path,
        parent: QWidget | None = None,
    ) -> None:
        self.kind = kind
        self.definition: FormDefinition = load_form(kind)
        title = "入住交接" if kind == CHECKIN else "退出交接"
        super().__init__(
            runner, f"{title} · {lease_no}", "保存交接" if kind == CHECKIN else "保存并结算", parent
        )
        self.description = f"正在保存{title}…"
        self._forms_folder = forms_folder
        self._store = store
        with store.read() as session:
            self.lease: LeaseSummary = lease_summary(session, lease_no)
            before = handover_values(session, lease_no, CHECKIN) if kind == MOVEOUT else None
            before_photos = photo_counts(session, lease_no, CHECKIN) if kind == MOVEOUT else {}
        self.before: dict[str, HandoverValue] = before or {}
        self.before_photos: dict[str, int] = before_photos
        self.photo_strip = PhotoStrip(f"{title}照片")
        self.photos = PhotoPicker(self, self.photo_strip, title)
        self.checkin_photos_dialog: HandoverPhotosDialog | None = None
        self.setAcceptDrops(True)
        self.settlement: Settlement | None = None
        today = local_date(store.clock.now())
        self.resize(940, 760)

        lease = self.lease
        head = QLabel(
            f"<b>{lease.unit_code}</b>　承租人 {lease.leaseholder}　合同 {lease.lease_no}"
            f"　{lease.start} 至 {lease.end}　月租金 {lease.monthly_rent:.2f} 元　押金 {lease.deposit:.2f} 元"
        )
        head.setWordWrap(True)
        self.checkin_photos_button: QPushButton | None = None
        if kind == MOVEOUT and self.before_photos:
            head_line = QHBoxLayout()
            head_line.addWidget(head, 1)
            self.checkin_photos_button = QPushButton(
                f"入住时的照片（{sum(self.before_photos.values())} 张）…"
            )
            self.checkin_photos_button.clicked.connect(self.show_checkin_photos)
            head_line.addWidget(self.checkin_photos_button, 0, Qt.AlignmentFlag.AlignTop)
            self.body.addLayout(head_line)
        else:
            self.body.addWidget(head)
        if self.definition.note:
            note = QLabel(self.definition.note)
            note.setObjectName("hint")
            note.setWordWrap(True)
            self.body.addWidget(note)

        dates = QFormLayout()
        self.held_on = date_edit(today)
        self.move_out_date = date_edit(today)
        self.unit_after = QComboBox()
        self.meter_replaced = QCheckBox("已换表（读数低于入住时是因为换过表）")
        if kind == CHECKIN:
            dates.addRow("交接日期(&D)", self.held_on)
        else:
            dates.addRow("退出日期(&O)", self.move_out_date)
            dates.addRow("查验日期(&D)", self.held_on)
            for status in (UnitStatus.VACANT, UnitStatus.UNDER_REPAIR):
                self.unit_after.addItem(status.label, status.value)
            dates.addRow("退出后房态(&U)", self.unit_after)
        self.body.addLayout(dates)

        self.readings: dict[str, QLineEdit] = {}
        self.counts: dict[str, QSpinBox] = {}
        self.items: dict[str, ItemRow] = {}
        self.damages: list[DamageRow] = []
        content = QWidget()
        sections = QVBoxLayout(content)
        for section in self.definition.sections:
            if section.type is SectionType.READINGS:
                sections.addWidget(self._readings(section))
            elif section.type is SectionType.COUNTS:
                sections.addWidget(self._counts(section))
            elif section.type is SectionType.CHECKLIST:
                sections.addWidget(self._checklist(section))
            elif section.type is SectionType.TABLE and kind == MOVEOUT and section.id == "damages":
                sections.addWidget(self._damages(section))
        if kind == MOVEOUT:
            sections.addWidget(self.meter_replaced)
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("备注（可选）")
        sections.addWidget(self.notes)
        sections.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        self.body.addWidget(scroll, 1)
        self.body.addWidget(self.photo_strip)

    # --- building -----------------------------------------------------------------------------------
    def _compare_header(self, grid: QGridLayout, row: int, columns: list[str]) -> None:
        for column, text in enumerate(columns):
            label = QLabel(text)
            label.setObjectName("hint")
            grid.addWidget(label, row, column)

    def _field_grid(
        self,
        section: Section,
        make_editor: Callable[[Field], W],
        shown_before: Callable[[HandoverValue | None], str],
        editors: dict[str, W],
    ) -> QGroupBox:
        """A box with a line per field: label, (入住时 value on move-out), the editor, the unit."""
        box = QGroupBox(section.title)
        grid = QGridLayout(box)
        compare = self.kind == MOVEOUT
        if compare:
            self._compare_header(grid, 0, ["", "入住时", "退出时", ""])
        for i, f in enumerate(section.fields, start=1):
            key = f"{section.id}.{f.id}"
            editor = make_editor(f)
            editor.setAccessibleName(f.label)
            editors[key] = editor
            grid.addWidget(QLabel(f.label), i, 0)
            column = 1
            if compare:
                grid.addWidget(QLabel(shown_before(self.before.get(key))), i, column)
                column += 1
            grid.addWidget(editor, i, column)
            grid.addWidget(QLabel(f.unit), i, column + 1)
            grid.addWidget(self.photos.button(key, f.label), i, column + 2)
        grid.setColumnStretch(grid.columnCount(), 1)
        return box

    def _readings(self, section: Section) -> QGroupBox:
        return self._field_grid(section, _reading_edit, _reading_text, self.readings)

    def _counts(self, section: Section) -> QGroupBox:
        return self._field_grid(section, _count_spin, _count_text, self.counts)

    def _checklist(self, section: Section) -> QGroupBox:
        box = QGroupBox(section.title)
        outer = QVBoxLayout(box)
        if section.note:
            note = QLabel(section.note)
            note.setObjectName("hint")
            note.setWordWrap(True)
            outer.addWidget(note)
        all_first = QPushButton("未填的项目全部设为第一项（如“完好”）")
        all_first.clicked.connect(self.fill_unanswered_with_first)
        outer.addWidget(all_first, 0, Qt.AlignmentFlag.AlignLeft)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        outer.addLayout(grid)
        compare = self.kind == MOVEOUT
        row = 0
        note_column = 2 if compare else 1
        for group in section.groups:
            heading = QLabel(f"<b>{group.label}</b>")
            grid.addWidget(heading, row, 0, 1, 4)
            row += 1
            for item in group.items:
                label = QLabel(item.label)
                if item.hint:
                    label.setToolTip(item.hint)
                grid.addWidget(label, row, 0)
                column = 1
                if compare:
                    before = self.before.get(item.id)
                    shown = (
                        before.result + (f"（{before.note}）" if before and before.note else "")
                        if before
                        else "—"
                    )
                    if self.before_photos.get(item.id):
                        shown += f"，照片 {self.before_photos[item.id]} 张"
                    grid.addWidget(QLabel(f"入住时：{shown}"), row, column)
                    column += 1
                radios = QHBoxLayout()
                group_buttons = QButtonGroup(self)
                buttons = []
                for result in item.results:
                    button = QRadioButton(result)
                    group_buttons.addButton(button)
                    radios.addWidget(button)
                    buttons.append(button)
                holder = QWidget()
                holder.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
                holder.setLayout(radios)
                radios.setContentsMargins(0, 0, 0, 0)
                note_edit = QLineEdit()
                note_edit.setMinimumWidth(260)
                note_edit.setPlaceholderText("备注")
                note_edit.setAccessibleName(f"{group.label}{item.label}备注")
                grid.addWidget(holder, row, column)
                grid.addWidget(note_edit, row, column + 1)
                grid.addWidget(self.photos.button(item.id, f"{group.label}·{item.label}"), row, column + 2)
                note_column = column + 1
                entry = ItemRow(item, group_buttons, buttons, note_edit)
                group_buttons.buttonToggled.connect(lambda _b, _on, e=entry: self._hint_note(e))
                self.items[item.id] = entry
                row += 1
        grid.setColumnStretch(note_column, 1)
        return box

    def _damages(self, section: Section) -> QGroupBox:
        box = QGroupBox(section.title)
        outer = QVBoxLayout(box)
        if section.note:
            note = QLabel(section.note)
            note.setObjectName("hint")
            outer.addWidget(note)
        self._damage_grid = QVBoxLayout()
        outer.addLayout(self._damage_grid)
        add = QPushButton("添加损坏项(&A)")
        add.clicked.connect(lambda: self.add_damage())
        outer.addWidget(add, 0, Qt.AlignmentFlag.AlignLeft)
        return box

    def add_damage(self, description: str = "", amount: str = "") -> DamageRow:
        line = QHBoxLayout()
        desc = QLineEdit(description)
        desc.setPlaceholderText("项目、部位及损坏情况")
        money = QLineEdit(amount)
        money.setPlaceholderText("金额（元）")
        money.setMaximumWidth(140)
        remove = QPushButton("删除")
        line.addWidget(desc, 1)
        line.addWidget(money)
        line.addWidget(remove)
        holder = QWidget()
        line.setContentsMargins(0, 0, 0, 0)
        holder.setLayout(line)
        self._damage_grid.addWidget(holder)
        row = DamageRow(desc, money, remove)
        self.damages.append(row)

        def drop() -> None:
            self.damages.remove(row)
            holder.deleteLater()

        remove.clicked.connect(drop)
        return row

    # --- photos -------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        # Dropped anywhere but on an item's 照片 button: a photo of the handover as a whole.
        files = dropped_files(event.mimeData())
        event.acceptProposedAction()
        self.photos.add(WHOLE, WHOLE_LABEL, files)

    def show_checkin_photos(self) -> HandoverPhotosDialog:
        self.checkin_photos_dialog = open_handover_photos(
            self._store, self.runner, self.lease.lease_no, CHECKIN, self
        )
        return self.checkin_photos_dialog

    def _hint_note(self, entry: ItemRow) -> None:
        result = entry.result()
        needs = result is not None and result != entry.item.results[0]
        entry.note.setPlaceholderText(NOTE_NEEDED if needs else "备注")
        entry.note.setStyleSheet("border: 1px solid #c62828;" if needs and not entry.note.text() else "")

    def fill_unanswered_with_first(self) -> None:
        for entry in self.items.values():
            if entry.result() is None:
                entry.choose(entry.item.results[0])

    # --- saving -------------------------------------------------------------------------------------
    def _collected(self) -> dict[str, Any]:
        results = {}
        for key, entry in self.items.items():
            result = entry.result()
            if result is not None:
                results[key] = (result, entry.note.text())
        return {
            "held_on": from_qdate(self.held_on.date()),
            "readings": {key: edit.text() for key, edit in self.readings.items()},
            "counts": {key: str(spin.value()) for key, spin in self.counts.items()},
            "results": results,
            "notes": self.notes.text(),
        }

    def op(self) -> Callable[[Session], Any]:
        lease_no, kind, paths = self.lease.lease_no, self.kind, self._store.paths
        values = self._collected()
        chosen = self.photo_strip.pending()
        record: Callable[[Session], Any]
        if kind == CHECKIN:
            data = HandoverInput(**values)

            def record(session: Session) -> Any:
                return record_checkin(session, lease_no, data, session.info["operator"])

        else:
            moveout = MoveOutInput(
                **values,
                move_out_date=from_qdate(self.move_out_date.date()),
                damages=[(d.description.text(), d.amount.text() or "0") for d in self.damages],
                unit_after=UnitStatus(self.unit_after.currentData()),
                confirm_lower_readings=self.meter_replaced.isChecked(),
            )

            def record(session: Session) -> Any:
                return record_moveout(session, lease_no, moveout, session.info["operator"])

        def work(session: Session) -> SavedHandover:
            result = record(session)
            # Same unit of work: the handover and its photos are committed together; a photo that
            # cannot be attached is left out on its own (attach_photos uses a savepoint per photo).
            report = (
                attach_photos(session, paths, lease_no, kind, chosen, session.info["operator"])
                if chosen
                else None
            )
            return SavedHandover(result, report)

        return work

    def saved(self, result: Any) -> None:
        anchor = self.parentWidget()
        saved: SavedHandover = result
        result = saved.result
        if saved.photos is not None and saved.photos.failed:
            title = "入住交接" if self.kind == CHECKIN else "退出交接"
            messages.warn(
                anchor,
                f"{title}已保存，但{failures_text(saved.photos.failed)}\n\n"
                f"可以稍后在该合同的“交接照片”中重新添加。",
                "部分照片未添加",
            )
        if self.kind == CHECKIN:
            text = f"{self.lease.unit_code} 入住交接已保存。\n\n现在打印填好的入住交接单吗？"
            if messages.ask(anchor, text, "入住交接已保存"):
                print_lease_form(self.runner, CHECKIN, self.lease.lease_no, self._forms_folder, anchor)
            return
        self.settlement = result
        text = settlement_text(result) + "\n\n现在打印填好的退出查验及结算单吗？"
        if messages.ask(anchor, text, "退出结算"):
            print_lease_form(self.runner, MOVEOUT, self.lease.lease_no, self._forms_folder, anchor)


def settlement_text(s: Settlement) -> str:
    balance = s.balance_fen
    outcome = f"应退 {format_yuan(balance)} 元" if balance >= 0 else f"应补 {format_yuan(-balance)} 元"
    return "\n".join(
        [
            f"应缴租金（计至退出当日）：{format_yuan(s.rent_to_day_fen)} 元",
            f"其他欠缴费用：{format_yuan(s.unpaid_bills_fen)} 元（负数为预存）",
            f"损坏赔偿：{format_yuan(s.damages_fen)} 元",
            f"已收押金：{format_yuan(s.deposit_fen)} 元",
            f"结算结果：{outcome}",
        ]
    )


def open_handover(
    store: Store, runner: OpRunner, lease_no: str, kind: str, forms_folder: Path, parent: QWidget | None
) -> HandoverDialog:
    dialog = HandoverDialog(store, runner, lease_no, kind, forms_folder, parent)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog
