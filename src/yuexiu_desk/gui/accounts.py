"""账户管理 (文件 menu): the station's accounts and roles; the station manager adds accounts, changes roles,
stops and restores accounts and sets a new password for someone who forgot theirs. Everything goes through
services.users, which refuses any other role with one sentence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_text
from yuexiu_desk.domain.access import permission_table
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel, rows_table, selected_row
from yuexiu_desk.services import users
from yuexiu_desk.services.users import AccountRow


def _role_combo(current: str | None = None) -> QComboBox:
    combo = QComboBox()
    for code, label in permission_table().roles.items():
        combo.addItem(label, code)
    if current is not None:
        combo.setCurrentIndex(combo.findData(current))
    return combo


class NewAccountDialog(QDialog):
    """添加账户: login, name, role and a first password (typed twice)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("添加账户")
        self.login_edit = QLineEdit()
        self.name_edit = QLineEdit()
        self.role_combo = _role_combo("house_manager")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_edit = QLineEdit()
        self.repeat_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout(self)
        form.addRow("登录名", self.login_edit)
        form.addRow("姓名", self.name_edit)
        form.addRow("岗位", self.role_combo)
        form.addRow("初始密码", self.password_edit)
        form.addRow("再输一次", self.repeat_edit)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()
        form.addRow(self.error_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("添加")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _check(self) -> None:
        if self.password_edit.text() != self.repeat_edit.text():
            self.error_label.setText("两次输入的密码不一致，请重新输入。")
            self.error_label.show()
            return
        self.accept()


class AccountsDialog(QDialog):
    def __init__(self, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setWindowTitle("账户管理")
        self.resize(620, 380)
        self.model: RowsModel[AccountRow] = RowsModel(
            [
                RowColumn("登录名", lambda a: a.login, 110),
                RowColumn("姓名", lambda a: a.name, 90),
                RowColumn("岗位", lambda a: a.role_label, 120),
                RowColumn("状态", lambda a: "已停用" if a.disabled else "正常", 70),
                RowColumn("上次登录", lambda a: local_text(a.last_login_at) if a.last_login_at else "—", 150),
            ]
        )
        self.table = rows_table(self.model)
        self.add_button = QPushButton("添加账户…")
        self.role_combo = _role_combo()
        self.role_button = QPushButton("改为此岗位")
        self.toggle_button = QPushButton("停用/恢复")
        self.reset_button = QPushButton("重设密码…")
        self.add_button.clicked.connect(self.add_account)
        self.role_button.clicked.connect(self.change_role)
        self.toggle_button.clicked.connect(self.toggle_disabled)
        self.reset_button.clicked.connect(self.reset_password)
        note = QLabel("只有站长可以添加账户、变更岗位、停用账户和重设密码；每次变更都记入审计日志。")
        note.setObjectName("hint")
        row = QHBoxLayout()
        for widget in (
            self.add_button,
            self.role_combo,
            self.role_button,
            self.toggle_button,
            self.reset_button,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(note)
        self.refresh()

    def refresh(self) -> None:
        with self.runner.store.read() as session:
            self.model.set_rows(users.list_accounts(session))

    def selected(self) -> AccountRow | None:
        return selected_row(self.table, self.model)

    def _run(self, op: Callable[[Session], Any], description: str) -> int:
        return self.runner.run(
            op,
            description=description,
            topic=None,
            on_success=lambda _r: self.refresh(),
            parent=self,
            owner=self,
        )

    def add_account(self, filled: NewAccountDialog | None = None) -> int | None:
        """Ask for the new account (or take a dialog already filled in and accepted) and add it."""
        dialog = filled
        if dialog is None:
            dialog = NewAccountDialog(self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        elif dialog.result() != QDialog.DialogCode.Accepted:
            return None
        login, name = dialog.login_edit.text().strip(), dialog.name_edit.text()
        role, password = dialog.role_combo.currentData(), dialog.password_edit.text()
        return self._run(lambda s: users.add_user(s, login, name, role, password), "正在添加账户…")

    def change_role(self) -> int | None:
        account, role = self.selected(), self.role_combo.currentData()
        if account is None:
            return None
        return self._run(lambda s: users.set_role(s, account.login, role), "正在变更岗位…")

    def toggle_disabled(self) -> int | None:
        account = self.selected()
        if account is None:
            return None
        return self._run(lambda s: users.set_disabled(s, account.login, not account.disabled), "正在保存…")

    def reset_password(self, password: str | None = None) -> int | None:
        account = self.selected()
        if account is None:
            return None
        if password is None:
            from PySide6.QtWidgets import QInputDialog

            password, ok = QInputDialog.getText(
                self,
                "重设密码",
                f"为 {account.login}（{account.name}）设一个新密码：",
                QLineEdit.EchoMode.Password,
            )
            if not ok:
                return None
        new = password
        return self._run(lambda s: users.reset_password(s, account.login, new), "正在重设密码…")
