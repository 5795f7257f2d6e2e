"""Start-up check run before the desk app is built: can Qt load here at all? (one sentence instead of a trace)"""

from __future__ import annotations


def qt_problem() -> str | None:
    try:
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        return (
            f"图形界面库无法加载（{exc}）。Debian/Ubuntu 上请安装 libegl1 libgl1 libxkbcommon0 libfontconfig1 "
            "libdbus-1-3 libglib2.0-0（README 的第一条命令会自动安装）。"
        )
    return None
