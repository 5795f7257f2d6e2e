"""Entry point: `yuexiu-desk` opens the desk app; `yuexiu-desk <command>` runs a headless command.

Start-up checks (display, Qt libraries) run before PySide6 is imported so a missing piece gives a
readable sentence instead of a Qt plugin trace.
"""

from __future__ import annotations

import os
import sys


def _display_problem() -> str | None:
    if not sys.platform.startswith("linux"):
        return None
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "没有找到图形界面（DISPLAY 未设置），无法打开桌面窗口。请在服务站电脑的桌面上运行；"
        "在没有显示器的服务器上可用 `xvfb-run yuexiu-desk` 运行，或使用命令行功能（yuexiu-desk --help）。"
    )


def open_desk(data_dir: str | None) -> int:
    problem = _display_problem()
    if problem is None:
        from yuexiu_desk.gui.startup import qt_problem

        problem = qt_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from yuexiu_desk.gui.app import run
    from yuexiu_desk.paths import StationPaths

    return int(run(StationPaths.resolve(data_dir)))


def main(argv: list[str] | None = None) -> int:
    from yuexiu_desk.cli import main as cli_main

    return cli_main(argv, open_desk=open_desk)


if __name__ == "__main__":
    sys.exit(main())
