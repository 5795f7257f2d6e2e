"""The member-change dialogs of the 住户档案 page: 新增成员, 成员迁出 and 修改就业/收入/特殊群体, each with an
effective date and a reason, saving through services.members (the dialog stays open when it says no)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QWidget
from sqlalchemy.orm import Session

from yuexiu_desk.domain.households import LEASEHOLDER_RELATION, RELATIONS, SpecialGroup
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.savedialog import SavingDialog, date_edit, from_qdate
from yuexiu_desk.services.households import MemberInput
from yuexiu_desk.services.members import (
    LEASEHOLDER_CANNOT_LEAVE,
    MemberView,
    add_member,
    change_member,
    remove_member,
)

MEMBERS_TOPIC = "households"


@dataclass(frozen=True)
class HouseholdRef:
    """Which household a dialog changes, and how to name it in the title."""

    id: uuid.UUID
    unit_code: str | None
    leaseholder: str

    @property
    def title(self) -> str:
        return f"{self.unit_code or '未签约'} · {self.leaseholder}"


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def _group_boxes() -> tuple[QWidget, dict[SpecialGroup, QCheckBox]]:
    boxes = {g: QCheckBox(g.label) for g in SpecialGroup}
    holder = QWidget()
    line = QHBoxLayout(holder)
    line.setContentsMargins(0, 0, 0, 0)
    for box in boxes.values():
        line.addWidget(box)
    line.addStretch(1)
    return holder, boxes


def _member_label(member: MemberView) -> str:
    return f"{member.name}（{member.relation}，{member.id_number_masked}）"


class _MemberChangeDialog(SavingDialog):
    """The effective date and the reason every member change needs, below the dialog's own fields."""

    topic = MEMBERS_TOPIC
    date_caption = "生效日期(&D)"
    reason_examples = ""

    def __init__(
        self,
        runner: OpRunner,
        household: HouseholdRef,
        today: date,
        title: str,
        ok_text: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(runner, f"{title} · {household.title}", ok_text, parent)
        self.setMinimumWidth(520)
        self.household = household
        self.form = QFormLayout()
        self.body.addLayout(self.form)
        self.date_edit = date_edit(today)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText(f"例如：{self.reason_examples}")

    def add_date_and_reason(self) -> None:
        self.form.addRow(self.date_caption, self.date_edit)
        self.form.addRow("变更原因(&R)", self.reason_edit)

    @property
    def effective_on(self) -> date:
        return from_qdate(self.date_edit.date())


class AddMemberDialog(_MemberChangeDialog):
    """新增成员: the same fields as one member row of registration, joining from the chosen day."""

    description = "正在新增家庭成员…"
    date_caption = "迁入日期(&D)"
    reason_examples = "新生儿落户、婚入、投靠子女"

    def __init__(
        self, runner: OpRunner, household: HouseholdRef, today: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(runner, household, today, "新增家庭成员", "新增", parent)
        self.name_edit = QLineEdit()
        self.relation_combo = QComboBox()
        self.relation_combo.addItems([r for r in RELATIONS if r != LEASEHOLDER_RELATION])
        self.relation_combo.setCurrentText("子女")
        self.id_edit = QLineEdit()
        self.id_edit.setPlaceholderText("18 位身份证号（旧版 15 位也可）")
        self.phone_edit = QLineEdit()
        self.phone_edit.setPlaceholderText("可不填")
        self.employer_edit = QLineEdit()
        self.income_edit = QLineEdit()
        self.income_edit.setPlaceholderText("元，未申报可不填")
        groups, self.group_boxes = _group_boxes()
        self.form.addRow("姓名(&N)", self.name_edit)
        self.form.addRow("与承租人关系(&L)", self.relation_combo)
        self.form.addRow("身份证号(&I)", self.id_edit)
        self.form.addRow("电话(&P)", self.phone_edit)
        self.form.addRow("工作单位(&E)", self.employer_edit)
        self.form.addRow("年收入（元）(&Y)", self.income_edit)
        self.form.addRow("特殊群体", groups)
        self.add_date_and_reason()
        self.body.addWidget(
            _hint("身份证号按国家标准校验；同一人不能同时属于两户。更换承租人须变更租赁合同，不在此办理。")
        )
        self.name_edit.setFocus()

    def op(self) -> Callable[[Session], Any]:
        data = MemberInput(
            name=self.name_edit.text(),
            relation=self.relation_combo.currentText(),
            id_number=self.id_edit.text(),
            phone=self.phone_edit.text(),
            employer=self.employer_edit.text(),
            annual_income=self.income_edit.text(),
            groups=frozenset(g for g, box in self.group_boxes.items() if box.isChecked()),
        )
        household_id, on, reason = self.household.id, self.effective_on, self.reason_edit.text()
        return lambda session: add_member(session, household_id, data, on, reason, session.info["operator"])


class _ChooseMemberDialog(_MemberChangeDialog):
    """A change of one existing member, chosen in a list (preselected from the page)."""

    def __init__(
        self,
        runner: OpRunner,
        household: HouseholdRef,
        members: Sequence[MemberView],
        selected: uuid.UUID | None,
        today: date,
        title: str,
        ok_text: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(runner, household, today, title, ok_text, parent)
        self.members = list(members)
        self.member_combo = QComboBox()
        for member in self.members:
            self.member_combo.addItem(_member_label(member), str(member.id))
        found = self.member_combo.findData(str(selected)) if selected is not None else -1
        self.member_combo.setCurrentIndex(max(found, 0))
        self.form.addRow("成员(&M)", self.member_combo)

    @property
    def member(self) -> MemberView:
        return self.members[self.member_combo.currentIndex()]

    def select_member(self, member_id: uuid.UUID) -> None:
        self.member_combo.setCurrentIndex(self.member_combo.findData(str(member_id)))


class RemoveMemberDialog(_ChooseMemberDialog):
    """成员迁出: the member's last day in the household and why they leave (never the leaseholder)."""

    description = "正在办理成员迁出…"
    date_caption = "迁出日期(&D)"
    reason_examples = "子女婚后迁出、另购住房、死亡注销"

    def __init__(
        self,
        runner: OpRunner,
        household: HouseholdRef,
        members: Sequence[MemberView],
        selected: uuid.UUID | None,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, household, members, selected, today, "成员迁出", "迁出", parent)
        self.add_date_and_reason()
        self.body.addWidget(_hint("迁出日期填写该成员在本户的最后一天。" + LEASEHOLDER_CANNOT_LEAVE))

    def op(self) -> Callable[[Session], Any]:
        member_id, on, reason = self.member.id, self.effective_on, self.reason_edit.text()
        return lambda session: remove_member(session, member_id, on, reason, session.info["operator"])


class ChangeMemberDialog(_ChooseMemberDialog):
    """修改就业/收入/特殊群体: the member's current values to edit; only what differs is recorded."""

    description = "正在保存成员变更…"
    reason_examples = "年度复核、更换工作单位、办理残疾证"

    def __init__(
        self,
        runner: OpRunner,
        household: HouseholdRef,
        members: Sequence[MemberView],
        selected: uuid.UUID | None,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            runner, household, members, selected, today, "修改就业/收入/特殊群体", "保存", parent
        )
        self.employer_edit = QLineEdit()
        self.income_edit = QLineEdit()
        self.income_edit.setPlaceholderText("元；清空表示未申报")
        groups, self.group_boxes = _group_boxes()
        self.form.addRow("工作单位(&E)", self.employer_edit)
        self.form.addRow("年收入（元）(&Y)", self.income_edit)
        self.form.addRow("特殊群体", groups)
        self.add_date_and_reason()
        self.body.addWidget(
            _hint(
                "只保存有变化的项目，每项变化单独记入变更记录。"
                "年收入和残疾、行动不便属于敏感个人信息，仅用于资格审核和关怀服务。"
            )
        )
        self.member_combo.currentIndexChanged.connect(lambda _i: self._fill())
        self._fill()

    def _fill(self) -> None:
        """Start from the chosen member's values, so the clerk only touches what changed."""
        member = self.member
        self.employer_edit.setText(member.employer)
        self.income_edit.setText(member.income_text)
        for group, box in self.group_boxes.items():
            box.setChecked(group in member.groups)

    def op(self) -> Callable[[Session], Any]:
        member_id, on, reason = self.member.id, self.effective_on, self.reason_edit.text()
        employer, income = self.employer_edit.text(), self.income_edit.text()
        flags = frozenset(g for g, box in self.group_boxes.items() if box.isChecked())
        return lambda session: change_member(
            session,
            member_id,
            on,
            reason,
            session.info["operator"],
            employer=employer,
            annual_income=income,
            flags=flags,
        )
