"""The recovery key sheet (个人信息恢复密钥单): one A4 page printed when a station's data key is made.

It carries the key in large, spaced groups that a person can copy back by hand, says when it opens the data
(every manager's password forgotten) and how, and asks for it to be locked away: whoever holds it can read
every tenant's personal data, so it never goes into the database, a log or a backup.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from yuexiu_desk.clock import local_text
from yuexiu_desk.files import write_atomically
from yuexiu_desk.printing.fonts import cjk_font

PT_PER_MM = 72 / 25.4


def write_recovery_sheet(out: Path, station_name: str, recovery_code: str, made_at: datetime) -> None:
    """Write the sheet as a PDF (atomically: a failed write leaves no half file)."""

    def render(handle: BinaryIO) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen.canvas import Canvas

        font = cjk_font()
        canvas = Canvas(handle, pagesize=A4)
        canvas.setTitle("个人信息恢复密钥单")
        width, height = A4
        left = 20 * PT_PER_MM
        y = height - 30 * PT_PER_MM
        canvas.setFont(font, 20)
        canvas.drawCentredString(width / 2, y, "个人信息恢复密钥单")
        y -= 12 * PT_PER_MM
        canvas.setFont(font, 11)
        canvas.drawString(left, y, f"服务站：{station_name}")
        y -= 7 * PT_PER_MM
        canvas.drawString(left, y, f"生成时间：{local_text(made_at)}")
        y -= 16 * PT_PER_MM
        groups = recovery_code.split("-")
        canvas.setFont("Courier-Bold", 22)
        for line in (groups[:4], groups[4:]):
            canvas.drawCentredString(width / 2, y, "  ".join(line))
            y -= 12 * PT_PER_MM
        canvas.setLineWidth(0.6)
        canvas.rect(left, y + 4 * PT_PER_MM, width - 2 * left, 32 * PT_PER_MM, stroke=1, fill=0)
        y -= 10 * PT_PER_MM
        canvas.setFont(font, 11)
        for text in (
            "这把密钥能打开本站全部住户的身份证号、电话、收入和残疾等个人信息。",
            "用途：全部站长都忘记密码时，用它重新设置站长密码，数据不会丢失：",
            "    yuexiu-desk users recover 站长登录名",
            "保管：打印后锁入保险柜，不要拍照、不要存在电脑或 U 盘里，不要交给他人。",
            "本系统不保存这把密钥，丢失后无法补打；站长可随时在账户管理中为他人重设密码。",
        ):
            canvas.drawString(left, y, text)
            y -= 8 * PT_PER_MM
        y -= 10 * PT_PER_MM
        canvas.drawString(left, y, "保管人签字：____________________    日期：____________________")
        canvas.showPage()
        canvas.save()

    write_atomically(out, render, "恢复密钥单")
