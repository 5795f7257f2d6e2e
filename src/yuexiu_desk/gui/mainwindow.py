"""The main window: navigation between pages, the menu and toolbar actions, the lookup box, the status
bar, and the ways a unit is reached (scanner, typed code, image file, clipboard, drag and drop).

Slots stay thin: they call services (reads directly, writes through the op runner) and open windows.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QPaintEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.access import Operator
from yuexiu_desk.domain.units import hundredths_to_area
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.dialogs import LabelPrintDialog
from yuexiu_desk.gui.login import DeskLock, IdleLock, ScreenLockWatch, sign_in_at_desk
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.firstrun import FirstRunPage
from yuexiu_desk.gui.pages.register import RegisterPage
from yuexiu_desk.gui.scanner import ScannerFilter
from yuexiu_desk.gui.unitcard import CardManager, UnitCardDialog
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services.station import StationInfo, install_demo, station_info
from yuexiu_desk.services.users import idle_lock_minutes
from yuexiu_desk.storage.db import Store

if TYPE_CHECKING:
    # Imported where first used: start-up pays only for what the first window shows.
    from yuexiu_desk.gui.pages.arrears import ArrearsPage
    from yuexiu_desk.gui.pages.collection import CollectionPage
    from yuexiu_desk.gui.pages.complaints import ComplaintsPage
    from yuexiu_desk.gui.pages.funds import FundsPage
    from yuexiu_desk.gui.pages.households import HouseholdsPage
    from yuexiu_desk.gui.pages.housemap import HouseMapPage
    from yuexiu_desk.gui.pages.leases import LeasesPage
    from yuexiu_desk.gui.pages.repairs import RepairsPage
    from yuexiu_desk.gui.pages.safety import SafetyPage
    from yuexiu_desk.gui.pages.statistics import StatisticsPage
    from yuexiu_desk.services.scan import ScanOutcome

log = logging.getLogger(__name__)

APP_TITLE = "服务站桌面 yuexiu-desk"
PAGE_NAMES = (
    "房源台账",
    "房态图",
    "异动统计",
    "住户档案",
    "租赁合同",
    "收费",
    "欠费催缴",
    "资金对账",
    "安全巡查",
    "维修台账",
    "投诉建议",
)
SCAN_BLOCKED = "请先完成当前对话框，再扫描。"
WARM_UP_AFTER_MS = 300
LISTEN_AT_LATEST_MS = 200  # after the window is shown (normally it is right after its first paint)

_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def window_title(estate_name: str | None) -> str:
    """The window title, e.g. 悦秀苑 · 服务站桌面 yuexiu-desk; the estate comes from the station row."""
    estate = (estate_name or "").strip()
    return f"{estate} · {APP_TITLE}" if estate else APP_TITLE


def default_labels_dir(paths: StationPaths, estate_name: str | None = None) -> Path:
    """Documents/<estate>标签 where the clerk finds it again, else the data folder's labels/."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        estate = _UNSAFE_IN_NAMES.sub("_", (estate_name or "").strip()).strip(" .")
        return Path(documents) / f"{estate or '房源'}标签"
    return paths.root / "labels"


class MainWindow(QMainWindow):
    def __init__(
        self,
        store: Store,
        runner: OpRunner,
        scanner: ScannerFilter,
        labels_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self.scanner = scanner
        self._labels_dir = labels_dir
        self.register: RegisterPage | None = None
        # Built on first visit (or first use): start-up pays only for the register.
        self._housemap: HouseMapPage | None = None
        self._statistics: StatisticsPage | None = None
        self._households: HouseholdsPage | None = None
        self._leases: LeasesPage | None = None
        self._collection: CollectionPage | None = None
        self._arrears: ArrearsPage | None = None
        self._funds: FundsPage | None = None
        self._safety: SafetyPage | None = None
        self._repairs: RepairsPage | None = None
        self._complaints: ComplaintsPage | None = None
        self.first_run: FirstRunPage | None = None
        self.print_dialog: LabelPrintDialog | None = None
        self.info: StationInfo | None = None
        self._shut_down = False
        self.listening = False  # to the scanner: from just after the first paint
        self._listen_soon = False

        self.setWindowTitle(window_title(None))
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.cards = CardManager(store, runner, self.labels_dir, self)
        self.toast = messages.Toast(self)
        # Who signs in once a station exists (replaced in tests); the lock hides every window until the
        # signed-in user's password is given again.
        self.sign_in: Callable[[Store, QWidget | None], Operator | None] = sign_in_at_desk
        self.desk_lock = DeskLock(store, on_quit=lambda: QTimer.singleShot(0, self.close))
        self.idle_lock: IdleLock | None = None
        self.screen_watch: ScreenLockWatch | None = None

        self._root = QStackedWidget()
        self.setCentralWidget(self._root)
        self._build_actions()
        self._build_status_bar()

        runner.changed.connect(self._on_changed)
        runner.busy.connect(self._on_busy)
        scanner.scanned.connect(self.open_scanned)
        self.load_station()

    # --- construction -------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._listen_soon and not self._shut_down:
            # The scanner's filter sees every event of the application; the first event of one of Qt's
            # private helper objects (animation timer, gesture manager) costs PySide some 20 ms of type
            # look-ups, once. Start listening once the window is on screen, not while it is being built.
            self._listen_soon = True
            QTimer.singleShot(0, self, self._listen_to_scanner)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.listening:  # should no paint of the window itself come, listen anyway
            QTimer.singleShot(LISTEN_AT_LATEST_MS, self, self._listen_to_scanner)

    def _listen_to_scanner(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication) and not self._shut_down and not self.listening:
            self.scanner.install(app)
            self.listening = True
            # Once the window is idle, prepare a unit card so the first scan is as fast as the later ones.
            QTimer.singleShot(WARM_UP_AFTER_MS, self, self.cards.warm_up)

    def _action(self, text: str, shortcut: QKeySequence | str | None, slot, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(
                f"{tip}（{action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)}）"
            )
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.act_print = self._action(
            "打印标签…", "Ctrl+P", self.open_print_dialog, "打印房源二维码标签（A4 PDF）"
        )
        self.act_image = self._action(
            "识别标签图片…", "Ctrl+O", self.recognise_image_file, "从标签照片识别二维码"
        )
        self.act_paste = self._action(
            "从剪贴板识别", "Ctrl+Shift+V", self.recognise_clipboard, "识别剪贴板中的图片或文字"
        )
        self.act_template = self._action(
            "导出导入模板…", None, self.export_household_template, "保存住户及合同的 Excel 导入模板"
        )
        self.act_import = self._action(
            "从 Excel 导入住户…", None, self.import_households, "导入服务站现有的住户和合同台账"
        )
        self.act_backup = self._action(
            "立即备份", None, lambda: self.backup(None), "把数据库完整备份到数据目录的 backups 文件夹"
        )
        self.act_restore = self._action(
            "从备份恢复…",
            None,
            lambda: self.restore_backup(),
            "用一份备份替换当前数据库（站长；当前数据先另存）",
        )
        self.act_backup_to = self._action(
            "备份到U盘或其他文件夹…", None, self.choose_backup_folder, "把数据库完整备份到选择的文件夹"
        )
        self.act_lookup = self._action("查找/扫码", "Ctrl+L", self.focus_lookup, "输入房号或扫描标签")
        self.act_refresh = self._action("刷新", "F5", self.refresh_all, "重新读取数据")
        self.act_lock = self._action("锁定", "Ctrl+Shift+L", self.lock, "离开时锁定：重新输入密码才能继续")
        self.act_switch_user = self._action("切换用户…", None, self.switch_user, "换一个账户登录")
        self.act_accounts = self._action("账户管理…", None, self.open_accounts, "账户和岗位（站长管理）")
        self.act_quit = self._action("退出", "Ctrl+Q", self.close)
        self.act_about = self._action("关于", None, self.show_about)
        self.act_pages = [
            self._action(name, f"Ctrl+{(i + 1) % 10}" if i < 10 else None, lambda i=i: self.show_page(i))
            for i, name in enumerate(PAGE_NAMES)
        ]

        menu = self.menuBar()
        file_menu = menu.addMenu("文件(&F)")
        file_menu.addAction(self.act_print)
        file_menu.addSeparator()
        file_menu.addAction(self.act_image)
        file_menu.addAction(self.act_paste)
        file_menu.addSeparator()
        file_menu.addAction(self.act_template)
        file_menu.addAction(self.act_import)
        file_menu.addSeparator()
        file_menu.addAction(self.act_backup)
        file_menu.addAction(self.act_backup_to)
        file_menu.addAction(self.act_restore)
        file_menu.addSeparator()
        file_menu.addAction(self.act_lock)
        file_menu.addAction(self.act_switch_user)
        file_menu.addAction(self.act_accounts)
        file_menu.addAction(self.act_quit)
        find_menu = menu.addMenu("查找(&S)")
        find_menu.addAction(self.act_lookup)
        view_menu = menu.addMenu("视图(&V)")
        for action in self.act_pages:
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.act_refresh)
        help_menu = menu.addMenu("帮助(&H)")
        help_menu.addAction(self.act_about)

        toolbar = QToolBar("工具栏")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        caption = QLabel("查找/扫码")
        self.lookup_edit = QLineEdit()
        self.lookup_edit.setPlaceholderText("输入房号（如 1-2-1603）或扫描标签，按 Enter 打开")
        self.lookup_edit.setClearButtonEnabled(True)
        self.lookup_edit.setMinimumWidth(340)
        self.lookup_edit.setMaximumWidth(480)
        self.lookup_edit.setAccessibleName("查找/扫码")
        caption.setBuddy(self.lookup_edit)
        self.lookup_edit.returnPressed.connect(self._lookup_entered)
        toolbar.addWidget(caption)
        toolbar.addWidget(self.lookup_edit)
        toolbar.addSeparator()
        toolbar.addAction(self.act_print)
        toolbar.addAction(self.act_image)
        toolbar.addAction(self.act_paste)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.toolbar = toolbar

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy_label = QLabel()
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setTextVisible(False)
        self.station_label = QLabel()
        self.totals_label = QLabel()
        self.operator_label = QLabel()
        self.show_operator()
        for widget in (self.busy_label, self.busy_bar):
            widget.hide()
            bar.addPermanentWidget(widget)
        for widget in (self.station_label, self.totals_label, self.operator_label):
            bar.addPermanentWidget(widget)

    def _build_workspace(self) -> QWidget:
        self.register = RegisterPage(self.store)
        self.register.unit_activated.connect(self.open_unit)

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(150)
        self.nav.addItems(list(PAGE_NAMES))
        self.pages = QStackedWidget()
        self.pages.addWidget(self.register)
        for _name in PAGE_NAMES[1:]:
            self.pages.addWidget(QWidget())  # a placeholder until the page is first needed
        self.nav.currentRowChanged.connect(self._nav_changed)
        self.nav.setCurrentRow(0)

        workspace = QWidget()
        layout = QHBoxLayout(workspace)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.pages, 1)
        return workspace

    @property
    def housemap(self) -> HouseMapPage | None:
        """The 房态图 page, built now if this is its first use (None before a station exists)."""
        if self._housemap is None and self.register is not None:
            from yuexiu_desk.gui.pages.housemap import HouseMapPage

            page = HouseMapPage(self.store)
            page.unit_activated.connect(self.open_unit)
            self._install_page(PAGE_NAMES.index("房态图"), page)
            self._housemap = page
        return self._housemap

    @property
    def statistics(self) -> StatisticsPage | None:
        """The 异动统计 page, built now if this is its first use (None before a station exists)."""
        if self._statistics is None and self.register is not None:
            from yuexiu_desk.gui.pages.statistics import StatisticsPage

            page = StatisticsPage(self.store)
            self._install_page(PAGE_NAMES.index("异动统计"), page)
            self._statistics = page
        return self._statistics

    @property
    def households(self) -> HouseholdsPage | None:
        """The 住户档案 page, built now if this is its first use (None before a station exists)."""
        if self._households is None and self.register is not None:
            from yuexiu_desk.gui.pages.households import HouseholdsPage

            page = HouseholdsPage(self.store, self.runner)
            self._install_page(PAGE_NAMES.index("住户档案"), page)
            self._households = page
        return self._households

    @property
    def leases(self) -> LeasesPage | None:
        """The 租赁合同 page, built now if this is its first use (None before a station exists)."""
        if self._leases is None and self.register is not None:
            from yuexiu_desk.gui.pages.leases import LeasesPage

            page = LeasesPage(self.store, self.runner)
            page.unit_activated.connect(self.open_unit)
            self._install_page(PAGE_NAMES.index("租赁合同"), page)
            self._leases = page
        return self._leases

    @property
    def collection(self) -> CollectionPage | None:
        """The 收费 page, built now if this is its first use (None before a station exists)."""
        if self._collection is None and self.register is not None:
            from yuexiu_desk.gui.pages.collection import CollectionPage

            page = CollectionPage(self.store, self.runner)
            page.unit_activated.connect(self.open_unit)
            self._install_page(PAGE_NAMES.index("收费"), page)
            self._collection = page
        return self._collection

    @property
    def arrears(self) -> ArrearsPage | None:
        """The 欠费催缴 page, built now if this is its first use (None before a station exists)."""
        if self._arrears is None and self.register is not None:
            from yuexiu_desk.gui.pages.arrears import ArrearsPage

            page = ArrearsPage(self.store, self.runner)
            page.unit_activated.connect(self.open_unit)
            page.collect_requested.connect(self.collect_for)
            self._install_page(PAGE_NAMES.index("欠费催缴"), page)
            self._arrears = page
        return self._arrears

    @property
    def funds(self) -> FundsPage | None:
        """The 资金对账 page, built now if this is its first use (None before a station exists)."""
        if self._funds is None and self.register is not None:
            from yuexiu_desk.gui.pages.funds import FundsPage

            page = FundsPage(self.store, self.runner)
            self._install_page(PAGE_NAMES.index("资金对账"), page)
            self._funds = page
        return self._funds

    @property
    def safety(self) -> SafetyPage | None:
        """The 安全巡查 page, built now if this is its first use (None before a station exists)."""
        if self._safety is None and self.register is not None:
            from yuexiu_desk.gui.pages.safety import SafetyPage

            page = SafetyPage(self.store, self.runner)
            self._install_page(PAGE_NAMES.index("安全巡查"), page)
            self._safety = page
        return self._safety

    @property
    def repairs(self) -> RepairsPage | None:
        """The 维修台账 page, built now if this is its first use (None before a station exists)."""
        if self._repairs is None and self.register is not None:
            from yuexiu_desk.gui.pages.repairs import RepairsPage

            page = RepairsPage(self.store, self.runner)
            self._install_page(PAGE_NAMES.index("维修台账"), page)
            self._repairs = page
        return self._repairs

    @property
    def complaints(self) -> ComplaintsPage | None:
        """The 投诉建议 page, built now if this is its first use (None before a station exists)."""
        if self._complaints is None and self.register is not None:
            from yuexiu_desk.gui.pages.complaints import ComplaintsPage

            page = ComplaintsPage(self.store, self.runner)
            self._install_page(PAGE_NAMES.index("投诉建议"), page)
            self._complaints = page
        return self._complaints

    def collect_for(self, unit_code: str) -> None:
        """From the arrears list to the cash desk with that household's open bills."""
        self.show_page(PAGE_NAMES.index("收费"))
        if self.collection is not None:
            self.collection.load_text(unit_code)

    def page(self, index: int) -> QWidget | None:
        """The page at a navigation index (see PAGE_NAMES), built now if needed."""
        if self.register is None or not 0 <= index < len(PAGE_NAMES):
            return None
        builders = (
            lambda: self.register,
            lambda: self.housemap,
            lambda: self.statistics,
            lambda: self.households,
            lambda: self.leases,
            lambda: self.collection,
            lambda: self.arrears,
            lambda: self.funds,
            lambda: self.safety,
            lambda: self.repairs,
            lambda: self.complaints,
        )
        return builders[index]()

    def _install_page(self, index: int, page: QWidget) -> None:
        placeholder = self.pages.widget(index)
        current = self.pages.currentIndex()
        self.pages.insertWidget(index, page)
        if placeholder is not None:
            self.pages.removeWidget(placeholder)
            placeholder.deleteLater()
        self.pages.setCurrentIndex(current)

    # --- station ------------------------------------------------------------------------------------
    def load_station(self) -> None:
        """Show the workspace if the store has a station, else the first-run page."""
        self.store.forget_station()
        with self.store.read() as session:
            self.info = station_info(session)
        self.setWindowTitle(window_title(self.info.estate_name if self.info else None))
        has_station = self.info is not None
        for action in (
            self.act_print,
            self.act_image,
            self.act_paste,
            self.act_lookup,
            self.act_template,
            self.act_import,
            *self.act_pages,
        ):
            action.setEnabled(has_station)
        self.lookup_edit.setEnabled(has_station)
        if not has_station:
            if self.first_run is None:
                self.first_run = FirstRunPage(str(self.store.paths.root))
                self.first_run.create_demo_requested.connect(self.create_demo)
                self._root.addWidget(self.first_run)
            self._root.setCurrentWidget(self.first_run)
            self.first_run.setFocus()
        else:
            if self.store.operator is None and self.sign_in(self.store, self) is None:
                # A station made here (the demo) has accounts now: nobody signed in, nobody works.
                QTimer.singleShot(0, self.close)
                return
            self.show_operator()
            if self.register is None:
                self._workspace = self._build_workspace()
                self._root.addWidget(self._workspace)
            else:
                self.refresh_pages()
            self._root.setCurrentWidget(self._workspace)
        self.update_totals()

    def show_operator(self) -> None:
        operator = self.store.operator
        self.operator_label.setText(f"经办人：{operator.label if operator else self.runner.operator}")

    def start_idle_lock(self, minutes: int | None = None) -> IdleLock:
        """Lock after minutes without input (the station's setting when not given)."""
        if minutes is None:
            with self.store.read() as session:
                minutes = idle_lock_minutes(session)
        if self.idle_lock is not None:
            self.idle_lock.stop()
        self.idle_lock = IdleLock(minutes, self)
        self.idle_lock.idle.connect(self.lock)
        self.idle_lock.start()
        if self.screen_watch is None:
            # The desktop's own screen lock locks the desk too (where the desktop says so over D-Bus).
            self.screen_watch = ScreenLockWatch(self)
            self.screen_watch.locked.connect(self.lock)
        return self.idle_lock

    def lock(self) -> None:
        self.desk_lock.lock()

    def open_accounts(self) -> QWidget:
        from yuexiu_desk.gui.accounts import AccountsDialog

        dialog = AccountsDialog(self.runner, self)
        dialog.show()
        return dialog

    def switch_user(self) -> None:
        if self.runner.is_busy:
            messages.warn(self, "还有操作在进行，请等它完成后再切换用户。")
            return
        previous = self.store.operator
        self.store.operator = None
        if self.sign_in(self.store, self) is None:
            self.store.operator = previous
            return
        self.show_operator()
        self.refresh_all()

    def create_demo(self) -> None:
        paths, clock = self.store.paths, self.store.clock
        first_run = self.first_run
        self.runner.run_task(
            lambda: install_demo(paths, clock=clock),
            description="正在创建演示站…",
            topic="station",
            on_failure=lambda _exc: first_run.set_busy(False) if first_run else None,
            parent=self,
            owner=first_run,
        )

    def update_totals(self) -> None:
        info = self.info
        if info is None:
            self.station_label.setText("尚未创建服务站")
            self.totals_label.setText("")
            return
        area = hundredths_to_area(info.gross_area_hundredths)
        self.station_label.setText(info.name)
        self.totals_label.setText(f"{info.units} 套 · {area:,.2f} m²")

    # --- refresh ------------------------------------------------------------------------------------
    def _on_changed(self, topic: str) -> None:
        if topic == "station":
            self.load_station()
            return
        self.refresh_all()

    def refresh_all(self) -> None:
        with self.store.read() as session:
            self.info = station_info(session)
        self.setWindowTitle(window_title(self.info.estate_name if self.info else None))
        self.update_totals()
        self.refresh_pages()
        self.cards.refresh_all()

    def refresh_pages(self) -> None:
        if self.register is not None:
            self.register.refresh()
        # Pages not built yet read fresh data when they are; built ones reload when on screen.
        for page in (
            self._housemap,
            self._statistics,
            self._households,
            self._leases,
            self._collection,
            self._arrears,
            self._funds,
            self._safety,
            self._repairs,
            self._complaints,
        ):
            if page is not None:
                page.data_changed()

    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setText(self.runner.current_description() if busy else "")
        self.busy_label.setVisible(busy)
        self.busy_bar.setVisible(busy)

    # --- navigation ---------------------------------------------------------------------------------
    def show_page(self, index: int) -> None:
        if self.register is not None:
            self.nav.setCurrentRow(index)

    def _nav_changed(self, row: int) -> None:
        self.page(row)  # built on first visit
        self.pages.setCurrentIndex(row)
        page = self.pages.currentWidget()
        if page is not None:
            page.setFocus()

    def current_page(self) -> QWidget | None:
        return self.pages.currentWidget() if self.register is not None else None

    def focus_lookup(self) -> None:
        self.lookup_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.lookup_edit.selectAll()

    # --- reaching a unit ----------------------------------------------------------------------------
    def notify(self, text: str, error: bool = False) -> None:
        """A non-blocking message: the status bar, and for problems a toast and a beep."""
        self.statusBar().showMessage(text, 10_000)
        if error:
            self.toast.show_message(text, error=True)
            QApplication.beep()

    def open_unit(self, unit_id: uuid.UUID) -> UnitCardDialog | None:
        card = self.cards.open(unit_id)
        if card is not None:
            self.statusBar().showMessage(f"已打开房源 {card.code}", 5000)
        return card

    def open_text(self, text: str) -> UnitCardDialog | None:
        """A typed unit code or a scanned payload → that unit's card; a clear message otherwise."""
        from yuexiu_desk.services.lookup import resolve

        try:
            with self.store.read() as session:
                resolved = resolve(session, text)
        except (UserError, EnvironmentProblem) as exc:
            self.notify(exc.message, error=True)
            return None
        unit_id = resolved.record_id
        card = self.cards.open(unit_id)
        if card is None:
            return None
        code = card.code

        def catch_up() -> None:
            self.statusBar().showMessage(f"已打开房源 {code}", 5000)
            if self.register is not None:
                self.register.select_unit(unit_id)

        # The card first, that is what the clerk waits for: the main window (status bar, the register row,
        # whose scroll and repaint cost more than the card) catches up once the card is painted.
        card.after_paint(catch_up)
        return card

    def open_scanned(self, text: str) -> None:
        """A scan from any window. With a modal dialog open (a status change, printing, a message) the card
        would open behind it, or pull the clerk away from a half-filled form: say so instead."""
        log.info("scanner burst of %d characters", len(text))
        modal = QApplication.activeModalWidget()
        if modal is not None:
            log.info("scan ignored: modal dialog %r is open", modal.windowTitle())
            self.notify(SCAN_BLOCKED, error=True)
            return
        # A window that takes scans itself (an inspection round jumps to the unit's items) gets them.
        accept_scan = getattr(QApplication.activeWindow(), "accept_scan", None)
        if accept_scan is not None:
            accept_scan(text)
            return
        # At the cash desk a scan brings up the household's open bills, not the unit card.
        if self._collection is not None and self.current_page() is self._collection:
            self._collection.load_text(text)
            return
        self.open_text(text)

    def _lookup_entered(self) -> None:
        if self.open_text(self.lookup_edit.text()) is not None:
            self.lookup_edit.clear()
        else:
            self.lookup_edit.selectAll()

    def recognise_image_file(self) -> None:
        from yuexiu_desk.gui.imageinput import IMAGE_FILTER

        start = str(Path.home())
        chosen, _filter = QFileDialog.getOpenFileName(self, "识别标签图片", start, IMAGE_FILTER)
        if chosen:
            self.recognise(Path(chosen))

    def recognise_clipboard(self) -> None:
        from yuexiu_desk.gui.imageinput import source_from_mime

        source = source_from_mime(QGuiApplication.clipboard().mimeData())
        if source is None:
            self.notify("剪贴板里没有图片，也没有房号或标签内容。请先复制标签的照片或截图。", error=True)
        elif isinstance(source, str):
            self.open_text(source)
        else:
            self.recognise(source)

    def recognise(self, source: Path | bytes) -> int:
        """Decode the QR codes in an image in the background, then open the first unit found."""
        from yuexiu_desk.services.scan import scan_image

        self.statusBar().showMessage("正在识别二维码…")
        return self.runner.run(
            lambda session: scan_image(session, source),
            description="正在识别二维码…",
            topic=None,
            write=False,
            quiet=True,
            on_success=self._recognised,
            on_failure=self._recognise_failed,
            parent=self,
            owner=self,
        )

    def _recognised(self, outcome: ScanOutcome) -> None:
        first = outcome.first
        card = self.open_unit(first.record_id)
        parts = []
        if len(outcome.found) > 1:
            parts.append(f"图片中识别到 {len(outcome.found)} 个房源标签，已打开第一个（{first.code}）")
        else:
            parts.append(f"已识别标签并打开房源 {first.code}")
        if outcome.rejected:
            parts.append(f"另有 {len(outcome.rejected)} 个二维码不是本站标签")
        self.notify("；".join(parts) + "。", error=False)
        if len(outcome.found) > 1 or outcome.rejected:
            self.toast.show_message("；".join(parts) + "。")
        if card is not None:
            card.raise_()

    def _recognise_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserError | EnvironmentProblem):
            self.notify(exc.message, error=True)
        else:
            self.statusBar().clearMessage()
            messages.show_problem(self, exc)

    # --- drag and drop ------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        from yuexiu_desk.gui.imageinput import accepts

        if self.info is not None and accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        from yuexiu_desk.gui.imageinput import source_from_mime

        source = source_from_mime(event.mimeData())
        if isinstance(source, Path | bytes):
            event.acceptProposedAction()
            self.recognise(source)
        else:
            event.ignore()

    # --- printing -----------------------------------------------------------------------------------
    def labels_dir(self) -> Path:
        estate = self.info.estate_name if self.info is not None else None
        return self._labels_dir or default_labels_dir(self.store.paths, estate)

    def open_print_dialog(self) -> LabelPrintDialog | None:
        if self.info is None:
            self.notify("还没有服务站数据，无法打印标签。", error=True)
            return None
        today = local_date(self.store.clock.now())
        default = self.labels_dir() / f"房源标签-{today:%Y%m%d}.pdf"
        selected = self.register.selected_codes() if self.register is not None else []
        dialog = LabelPrintDialog(self.runner, self.info.units, selected, default, self)
        dialog.finished.connect(dialog.deleteLater)
        self.print_dialog = dialog
        dialog.open()
        return dialog

    # --- household ledgers -------------------------------------------------------------------------
    def export_household_template(self) -> int | None:
        page = self.households
        return page.export_template() if page is not None else None

    def import_households(self) -> int | None:
        """From the 文件 menu: on the 住户档案 page, where the imported households then appear."""
        page = self.households
        if page is None:
            return None
        self.show_page(PAGE_NAMES.index("住户档案"))
        return page.import_households()

    # --- about and shutdown -------------------------------------------------------------------------
    def choose_backup_folder(self) -> int | None:
        from PySide6.QtWidgets import QFileDialog

        chosen = QFileDialog.getExistingDirectory(self, "选择备份到的文件夹（例如U盘）")
        return self.backup(Path(chosen)) if chosen else None

    def backup(self, folder: Path | None) -> int:
        """A verified copy of the database, into backups/ or the chosen folder (a USB stick)."""
        from yuexiu_desk.services.backups import make_backup

        store = self.store
        return self.runner.run_task(
            lambda: make_backup(store, "manual", to_dir=folder, operator=self.runner.operator),
            description="正在备份…",
            on_success=lambda path: messages.inform(self, f"已备份并校验：\n{path}", "备份完成"),
            parent=self,
            owner=self,
        )

    def restore_backup(self, chosen: Path | None = None) -> bool:
        """从备份恢复 (station manager): check the right and the file, keep the current database aside, swap the
        backup in, then close the desk — it reopens on the restored data. False when nothing was restored."""
        from PySide6.QtWidgets import QFileDialog

        from yuexiu_desk.errors import EnvironmentProblem, UserError
        from yuexiu_desk.services.access import require
        from yuexiu_desk.services.backups import restore

        try:
            with self.store.read() as session:
                operator = require(session, "backup.restore")
        except UserError as exc:
            messages.warn(self, exc.message)
            return False
        if chosen is None:
            picked, _filter = QFileDialog.getOpenFileName(
                self, "选择要恢复的备份", str(self.store.paths.backups), "数据库备份 (*.sqlite3)"
            )
            if not picked:
                return False
            chosen = Path(picked)
        if not messages.ask(
            self,
            f"用备份 {chosen.name} 替换当前数据？\n当前数据库会先另存到 backups 文件夹；恢复后程序关闭，请重新打开。",
            "从备份恢复",
        ):
            return False
        if self.runner.is_busy:
            messages.warn(self, "还有操作在进行，请等它完成后再恢复。")
            return False
        paths, clock = self.store.paths, self.store.clock
        self.shutdown()
        self.store.close()
        try:
            result = restore(paths, chosen, clock, operator=operator.login)
        except (UserError, EnvironmentProblem) as exc:
            messages.warn(self, f"{exc.message}\n程序将关闭，请重新打开（当前数据未改动）。")
            self.close()
            return False
        kept = f"\n恢复前的数据库已另存为：{result.previous_kept}" if result.previous_kept else ""
        if result.files_restored:
            kept += f"\n另找回了 {result.files_restored} 个照片、收据等文件。"
        messages.inform(
            self, f"已从 {result.restored_from.name} 恢复。{kept}\n程序将关闭，请重新打开。", "恢复完成"
        )
        self.close()
        return True

    def show_about(self) -> None:
        messages.inform(
            self,
            "悦秀苑公租房服务站桌面系统 yuexiu-desk\n\n"
            "扫码：在任何界面用扫码枪扫描房源标签即可打开房源卡片。\n"
            "查找：Ctrl+L 输入房号（如 1-2-1603）后按 Enter。\n"
            f"数据目录：{self.store.paths.root}",
            "关于",
        )

    def shutdown(self) -> None:
        """Stop listening to the scanner, wait for every queued and running job (the status bar says which),
        then close the cards. Safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.idle_lock is not None:
            self.idle_lock.stop()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.scanner.uninstall(app)
        self.runner.shutdown(on_wait=self._show_waiting)
        self.cards.close_all()

    def _show_waiting(self, description: str) -> None:
        """Closing must wait for a job: show what it is waiting for, painted now (the wait blocks input)."""
        text = f"{description.rstrip('…。. ')}，完成后关闭窗口…"
        self.busy_label.setText(description)
        self.busy_label.show()
        self.busy_bar.show()
        self.statusBar().showMessage(text)
        self.statusBar().repaint()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
