"""The CJK font every printed PDF uses: the shipped WenQuanYi Micro Hei, registered with reportlab once.

It is embedded (as a subset) in each PDF, so Chinese prints and copies correctly on machines with no
CJK fonts at all; reportlab's built-in CID fonts (STSong-Light) are not embedded and show as boxes there.
"""

from __future__ import annotations

import threading

from yuexiu_desk.errors import EnvironmentProblem
from yuexiu_desk.paths import font_path

CJK_FONT = "WenQuanYiMicroHei"

# Printing may run on a worker thread while the GUI thread prints something else; registering twice
# would parse the 5 MB font file twice.
_lock = threading.Lock()


def cjk_font() -> str:
    """Register the CJK font with reportlab (once per process) and return its name for setFont()."""
    # reportlab costs ~150 ms to import; headless commands that never print must not pay for it.
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    with _lock:
        if CJK_FONT in pdfmetrics.getRegisteredFontNames():
            return CJK_FONT
        path = font_path()
        if not path.is_file():
            raise EnvironmentProblem(
                f"找不到打印用的中文字体文件 {path}，程序安装不完整，请重新安装 yuexiu-desk。"
            )
        try:
            font = TTFont(CJK_FONT, str(path), subfontIndex=0)
        except (OSError, TTFError) as exc:
            raise EnvironmentProblem(
                f"打印用的中文字体文件 {path} 无法读取（{exc}），可能已损坏，请重新安装 yuexiu-desk。"
            ) from exc
        pdfmetrics.registerFont(font)
        return CJK_FONT
