"""Signing in at the desk: the first run's station manager account, the sign-in dialog (prefilled with the
demo manager on the demo station), the idle lock, and copying a full ID number that the clipboard forgets.

The lock screen shows the station and the login only: no personal data is on screen while it is up.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from yuexiu_desk.domain.access import Operator, system_operator
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import users
from yuexiu_desk.services.station import station_info
from yuexiu_desk.storage.db import Store

# How long a copied full ID number stays on the clipboard.
CLIPBOARD_SECONDS = 10
# Input that counts as the clerk being there (anything else — timers, repaints — does not).
_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


def _error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("error")
    label.setWordWrap(True)
    label.setStyleSheet("color: #b00020;")
    label.hide()
    return label


def _password_edit() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class FirstRunDialog(QDialog):
    """A new station's first step: the station manager's account (who then adds everyone else)."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.operator: Operator | None = None
        self.setWindowTitle("创建站长账户")
        self.setMinimumWidth(440)
        intro = QLabel(
            "这是本站第一次使用。请先创建站长账户：站长登录后再为前台、财务、档案和安全岗位添加账户。"
            f"密码至少 {users.MIN_PASSWORD_LENGTH} 个字符，请牢记。"
        )
        intro.setWordWrap(True)
        self.login_edit = QLineEdit()
        self.login_edit.setPlaceholderText("例如 zhanzhang")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("站长姓名")
        self.password_edit = _password_edit()
        self.repeat_edit = _password_edit()
        form = QFormLayout()
        form.addRow("登录名", self.login_edit)
        form.addRow("姓名", self.name_edit)
        form.addRow("密码", self.password_edit)
        form.addRow("再输一次", self.repeat_edit)
        self.error_label = _error_label()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("创建并登录")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("退出")
        buttons.accepted.connect(self.create_account)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def create_account(self) -> None:
        if self.password_edit.text() != self.repeat_edit.text():
            self._fail("两次输入的密码不一致，请重新输入。")
            return
        login, name, password = (
            self.login_edit.text().strip(),
            self.name_edit.text(),
            self.password_edit.text(),
        )
        try:
            with self.store.unit_of_work(system_operator("首次设置")) as session:
                first = users.create_first_manager(session, login, name, password)
        except UserError as exc:
            self._fail(exc.message)
            return
        self.operator = first.operator
        self.store.set_keys(first.keys)
        # The recovery key exists only now, in memory: it is shown and printed before the desk opens.
        RecoveryKeyDialog(self.store, first.recovery_code, self).exec()
        self.accept()

    def _fail(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.password_edit.clear()
        self.repeat_edit.clear()
        self.password_edit.setFocus()


class RecoveryKeyDialog(QDialog):
    """The station's recovery key, shown once when the data key is made: print the sheet, lock it away.

    It cannot be closed until the clerk confirms the sheet is printed and kept: the key is nowhere else.
    """

    def __init__(self, store: Store, recovery_code: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.recovery_code = recovery_code
        with store.read() as session:
            info = station_info(session)
        self.station_name = info.name if info is not None else "本服务站"
        self.setWindowTitle("个人信息恢复密钥")
        self.setMinimumWidth(520)
        intro = QLabel(
            "住户的身份证号、电话、收入和残疾等信息已加密保存。下面是本站的<b>恢复密钥</b>："
            "全部站长都忘记密码时，只有它能打开这些数据。本系统不保存它，请现在打印并锁入保险柜。"
        )
        intro.setWordWrap(True)
        groups = recovery_code.split("-")
        self.code_label = QLabel("  ".join(groups[:4]) + "\n" + "  ".join(groups[4:]))
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(16)
        font.setBold(True)
        self.code_label.setFont(font)
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.print_button = QPushButton("打印恢复密钥单…")
        self.print_button.clicked.connect(self.print_sheet)
        self.printed_label = QLabel()
        self.printed_label.setWordWrap(True)
        self.kept_box = QCheckBox("我已打印恢复密钥单，并已锁入保险柜")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.done_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.done_button.setText("完成")
        self.done_button.setEnabled(False)
        self.kept_box.toggled.connect(self.done_button.setEnabled)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.code_label)
        layout.addWidget(self.print_button)
        layout.addWidget(self.printed_label)
        layout.addWidget(self.kept_box)
        layout.addWidget(buttons)

    def print_sheet(self) -> Path | None:
        from yuexiu_desk.printing.recovery_sheet import write_recovery_sheet

        suggested = Path.home() / "恢复密钥单.pdf"
        chosen, _filter = QFileDialog.getSaveFileName(self, "保存恢复密钥单", str(suggested), "PDF (*.pdf)")
        if not chosen:
            return None
        out = Path(chosen) if chosen.lower().endswith(".pdf") else Path(chosen + ".pdf")
        try:
            write_recovery_sheet(out, self.station_name, self.recovery_code, self.store.clock.now())
        except UserError as exc:
            self.printed_label.setText(exc.message)
            return None
        self.printed_label.setText(f"已生成 {out}，请打印后删除该文件（不要留在电脑或 U 盘里）。")
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(out)))
        return out

    def reject(self) -> None:
        # Escape or the window's close button: only once the sheet is kept (the key is shown only now).
        if self.kept_box.isChecked():
            super().reject()


class SignInDialog(QDialog):
    """登录 (or, locked, 解锁 for the same login). On the demo station the demo manager is prefilled."""

    def __init__(
        self, store: Store, parent: QWidget | None = None, *, locked_login: str | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.operator: Operator | None = None
        with store.read() as session:
            info = station_info(session)
        station = info.name if info is not None else "服务站"
        self.setWindowTitle("已锁定 · 解锁" if locked_login else f"登录 · {station}")
        self.setMinimumWidth(440)
        head = QLabel(
            f"<b>{station}</b><br>"
            + ("屏幕已锁定。请输入密码解锁。" if locked_login else "请输入您的登录名和密码。")
        )
        head.setWordWrap(True)
        self.login_edit = QLineEdit()
        self.password_edit = _password_edit()
        form = QFormLayout()
        form.addRow("登录名", self.login_edit)
        form.addRow("密码", self.password_edit)
        self.error_label = _error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(form)
        if locked_login:
            self.login_edit.setText(locked_login)
            self.login_edit.setReadOnly(True)
            self.password_edit.setFocus()
        elif info is not None and info.is_demo:
            # The README's first command opens straight into a usable demo: its manager login is documented.
            self.login_edit.setText(users.DEMO_LOGIN)
            self.password_edit.setText(users.DEMO_PASSWORD)
            accounts = [f"{login}（{name}）" for login, name, _role in users.DEMO_ACCOUNTS]
            hint = QLabel(
                f"演示站账户，密码均为 {users.DEMO_PASSWORD}：<br>"
                + "、".join(accounts[:3])
                + "、<br>"
                + "、".join(accounts[3:])
            )
            hint.setObjectName("hint")
            layout.addWidget(hint)
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("解锁" if locked_login else "登录")
        self.ok_button.setDefault(True)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("退出程序")
        buttons.accepted.connect(self.sign_in)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def sign_in(self) -> None:
        try:
            self.operator = users.sign_in(self.store, self.login_edit.text(), self.password_edit.text())
        except UserError as exc:
            self.error_label.setText(exc.message)
            self.error_label.show()
            self.adjustSize()
            self.password_edit.clear()
            self.password_edit.setFocus()
            return
        self.accept()


def sign_in_at_desk(store: Store, parent: QWidget | None = None) -> Operator | None:
    """Whoever will use the desk: the first manager on a new station, else a sign-in; None if cancelled."""
    with store.read() as session:
        first = not users.has_accounts(session)
    dialog: FirstRunDialog | SignInDialog = (
        FirstRunDialog(store, parent) if first else SignInDialog(store, parent)
    )
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    store.operator = dialog.operator
    if store.new_recovery_code is not None:
        # An upgraded station's first manager sign-in made its data key: its recovery key is shown once.
        RecoveryKeyDialog(store, store.new_recovery_code, parent).exec()
        store.new_recovery_code = None
    return dialog.operator


class IdleLock(QObject):
    """Locks the desk after minutes without keyboard or mouse input (a setting, 5 by default)."""

    idle = Signal()

    def __init__(self, minutes: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(1, minutes) * 60_000)
        self.timer.timeout.connect(self.idle)
        self.paused = False

    def start(self) -> None:
        QApplication.instance().installEventFilter(self)  # type: ignore[union-attr]
        self.timer.start()

    def stop(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.paused and event.type() in _ACTIVITY:
            self.timer.start()
        return False


class ScreenLockWatch(QObject):
    """Emits locked when the desktop's screen saver or screen lock comes on (freedesktop and GNOME D-Bus
    signals, where a session bus exists; elsewhere only the idle timer and 锁定 lock the desk)."""

    locked = Signal()
    _SOURCES = (
        ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"),
        ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.listening = False
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:
            return
        bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            return
        for service, path, interface in self._SOURCES:
            if bus.connect(service, path, interface, "ActiveChanged", self, b"1active_changed(bool)"):
                self.listening = True

    @Slot(bool)
    def active_changed(self, active: bool) -> None:
        if active:
            self.locked.emit()


class DeskLock:
    """Hides every window of the desk and asks the signed-in user's password before showing them again."""

    def __init__(self, store: Store, on_quit: Callable[[], None]) -> None:
        self.store = store
        self.on_quit = on_quit
        self.dialog: SignInDialog | None = None
        self._hidden: list[QWidget] = []

    @property
    def locked(self) -> bool:
        return self.dialog is not None

    def lock(self) -> SignInDialog | None:
        if self.locked or self.store.operator is None:
            return self.dialog
        self._hidden = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        for window in self._hidden:
            window.hide()
        # While locked the data key leaves memory; unlocking signs in again and reopens it.
        self.store.forget_keys()
        self.dialog = SignInDialog(self.store, locked_login=self.store.operator.login)
        self.dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.dialog.finished.connect(self._finished)
        self.dialog.show()
        return self.dialog

    def _finished(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if result != QDialog.DialogCode.Accepted or dialog is None or dialog.operator is None:
            self.on_quit()
            return
        for window in self._hidden:
            window.show()
        self._hidden = []


def copy_briefly(text: str, seconds: int = CLIPBOARD_SECONDS) -> None:
    """Put text on the clipboard and take it off again after a few seconds (unless something else replaced
    it meanwhile): a full ID number must not linger where any later paste finds it."""
    clipboard = QGuiApplication.clipboard()
    clipboard.setText(text)

    def forget() -> None:
        if clipboard.text() == text:
            clipboard.clear()

    QTimer.singleShot(seconds * 1000, forget)
