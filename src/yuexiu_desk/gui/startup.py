"""Start-up checks run before the desk app is built: can Qt load here at all? (one sentence instead of a
trace); then opening the station: a data folder on a network or removable drive is refused, a damaged
database opens read-only with the offer to restore the newest good backup.

Qt is imported inside the functions: qt_problem() runs before anyone knows whether Qt loads.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yuexiu_desk.clock import Clock
    from yuexiu_desk.paths import StationPaths
    from yuexiu_desk.services.backups import BackupInfo
    from yuexiu_desk.services.health import DeskOpening

log = logging.getLogger(__name__)

RESTORE = "恢复"
READ_ONLY = "只读打开"


def qt_problem() -> str | None:
    try:
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        return (
            f"图形界面库无法加载（{exc}）。Debian/Ubuntu 上请安装 libegl1 libgl1 libxkbcommon0 libfontconfig1 "
            "libdbus-1-3 libglib2.0-0（README 的第一条命令会自动安装）。"
        )
    return None


def offer_restore(text: str, can_read: bool) -> bool:
    """Ask whether to restore the newest good backup now; True for 恢复 (tests replace this function)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Warning, "数据库已损坏", text)
    restore = box.addButton(RESTORE, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(READ_ONLY if can_read else "退出", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.exec()
    return box.clickedButton() is restore


def _restore(paths: StationPaths, backup: BackupInfo, clock: Clock | None) -> bool:
    """Restore backup over the (closed) station database; False (after saying why) when it cannot."""
    from yuexiu_desk.errors import EnvironmentProblem, UserError
    from yuexiu_desk.gui import messages
    from yuexiu_desk.services.backups import restore

    try:
        result = restore(paths, backup.path, clock)
    except (UserError, EnvironmentProblem) as exc:
        messages.warn(None, exc.message, "恢复未完成")
        return False
    kept = f"损坏的数据库已另存为 {result.previous_kept}。" if result.previous_kept else ""
    messages.inform(None, f"已从备份 {backup.path.name} 恢复。{kept}", "已恢复")
    return True


def open_station(paths: StationPaths, clock: Clock | None = None) -> DeskOpening | None:
    """The store the desk works on (maybe read-only), or None after telling the clerk why it cannot open."""
    from PySide6.QtWidgets import QMessageBox

    from yuexiu_desk.errors import EnvironmentProblem, UserError
    from yuexiu_desk.services.health import DamagedBeyondReading, open_for_desk

    try:
        opening = open_for_desk(paths, clock)
    except DamagedBeyondReading as exc:
        backup = exc.newest_good_backup
        if (
            backup is not None
            and offer_restore(exc.message, can_read=False)
            and _restore(paths, backup, clock)
        ):
            return open_station(paths, clock)
        QMessageBox.critical(None, "无法打开服务站数据", exc.message)
        return None
    except (EnvironmentProblem, UserError) as exc:
        log.error("cannot open the store in %s: %s", paths.root, exc.message)
        QMessageBox.critical(None, "无法打开服务站数据", exc.message)
        return None
    if opening.read_only:
        reason = opening.store.read_only_reason or ""
        backup = opening.newest_good_backup
        if backup is None:
            QMessageBox.warning(None, "数据库已损坏", reason)
        elif offer_restore(reason, can_read=True):
            opening.store.close()
            if _restore(paths, backup, clock):
                return open_station(paths, clock)
            return open_station_read_only(paths, clock)
    return opening


def open_station_read_only(paths: StationPaths, clock: Clock | None) -> DeskOpening | None:
    """After a failed restore: open what is there again (read-only if still damaged), without asking again."""
    from PySide6.QtWidgets import QMessageBox

    from yuexiu_desk.errors import EnvironmentProblem
    from yuexiu_desk.services.health import open_for_desk

    try:
        return open_for_desk(paths, clock)
    except EnvironmentProblem as exc:
        QMessageBox.critical(None, "无法打开服务站数据", exc.message)
        return None
