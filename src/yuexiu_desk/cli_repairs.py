"""The command line of the repair ledger and of complaints: workorders and complaints, and the repairs
ledger export (`ledger export repairs`, reached through cli_money's ledger command). Registered by
cli.build_parser; Qt-free like all of the CLI.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

COMMANDS = ("workorders", "complaints")


def _moment(text: str) -> datetime:
    """A station wall-clock time as typed: 2026-11-20 14:30 (or just the date)."""
    from yuexiu_desk.clock import STATION_TZ

    cleaned = text.strip().replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(cleaned, pattern).replace(tzinfo=STATION_TZ)
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"“{text}”不是时间，请写成 YYYY-MM-DD HH:MM，例如 2026-11-20 14:30")


def add_parsers(
    sub: Any, parser_class: type[argparse.ArgumentParser], date_type: Callable[[str], Any]
) -> None:
    wo = sub.add_parser("workorders", help="维修台账：报修、派单、完工、回访、返修、派工单")
    wo_sub = wo.add_subparsers(dest="workorders_command", parser_class=parser_class, required=True)
    wl = wo_sub.add_parser("list", help="列出维修单（最新的在前）")
    wl.add_argument("--open", action="store_true", help="只列未完工的（已报修、已派单、维修中）")
    wl.add_argument("--unit", metavar="CODE", help="只列这个房号的")
    wl.add_argument("--breaches", action="store_true", help="只列超过响应或完工时限的")
    wl.add_argument("--format", choices=["table", "json"], default="table")
    wa = wo_sub.add_parser("add", help="登记报修")
    where = wa.add_mutually_exclusive_group(required=True)
    where.add_argument("--unit", metavar="CODE", help="房号，例如 1-2-1603")
    where.add_argument("--location", help="公共区域位置，例如“1栋2单元电梯厅”")
    wa.add_argument(
        "--category",
        required=True,
        help="类别：plumbing/electrical/doors_windows/walls/elevator/public_area/gas/other 或中文",
    )
    wa.add_argument("--description", required=True, help="报修内容")
    wa.add_argument(
        "--urgency", default="normal", help="紧急程度：urgent（紧急）/normal（一般）/planned（计划）"
    )
    wa.add_argument(
        "--channel", default=None, help="渠道：phone/walk_in/wechat/inspection 或中文（默认电话）"
    )
    wa.add_argument("--reporter", default="", help="报修人")
    wa.add_argument("--hazard", default=None, metavar="ID", help="由巡查隐患转来时填隐患编号")
    wa.add_argument("--at", type=_moment, help="报修时间 YYYY-MM-DD HH:MM（默认现在）")
    wa.add_argument(
        "--photo",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="现场照片（可重复；JPEG/PNG/WebP）",
    )
    wd = wo_sub.add_parser("dispatch", help="派单给维修工或外包单位")
    wd.add_argument("number", help="维修单号")
    wd.add_argument("--to", required=True, dest="assignee", help="维修工姓名或外包单位名称")
    wd.add_argument("--contractor", action="store_true", help="派给外包单位（默认维修工）")
    wd.add_argument("--note", default="")
    wd.add_argument("--at", type=_moment, help="派单时间（默认现在）")
    ws = wo_sub.add_parser("start", help="开始维修")
    ws.add_argument("number")
    ws.add_argument("--note", default="")
    ws.add_argument("--at", type=_moment, help="开工时间（默认现在）")
    wc = wo_sub.add_parser("complete", help="完工登记（须填人工、材料、费用和承担方）")
    wc.add_argument("number")
    wc.add_argument("--labour", required=True, help="维修人员及工时，例如“王师傅 2 工时”")
    wc.add_argument("--materials", required=True, help="所用材料或所做工作，例如“更换角阀 1 个”")
    wc.add_argument("--cost", required=True, help="费用（元），没有费用填 0")
    wc.add_argument("--payer", required=True, help="费用承担：station/tenant/contractor/property 或中文")
    wc.add_argument("--note", default="")
    wc.add_argument("--at", type=_moment, help="完工时间（默认现在）")
    wf = wo_sub.add_parser("followup", help="回访（满意度 1-5；未修好则返修）")
    wf.add_argument("number")
    wf.add_argument("--satisfaction", required=True, type=int, help="满意度 1-5（5 为非常满意）")
    wf.add_argument("--comment", default="", help="住户意见")
    wf.add_argument("--not-fixed", action="store_true", help="住户反映未修好：转为返修")
    wf.add_argument("--at", type=_moment, help="回访时间（默认现在）")
    wr = wo_sub.add_parser("reopen", help="返修（住户反映未修好）")
    wr.add_argument("number")
    wr.add_argument("--reason", required=True)
    wp = wo_sub.add_parser("slip", help="打印维修派工单（带二维码）")
    wp.add_argument("number")
    wp.add_argument("--out", required=True, type=Path, help="输出的 PDF 文件")
    wt = wo_sub.add_parser("stats", help="维修统计（类别、月份、楼栋、重复报修、时效、满意度）")
    wt.add_argument("--from", dest="start", type=date_type, required=True, help="开始日期 YYYY-MM-DD")
    wt.add_argument("--to", dest="end", type=date_type, required=True, help="结束日期 YYYY-MM-DD")
    wt.add_argument("--format", choices=["table", "json"], default="table")

    co = sub.add_parser("complaints", help="投诉建议：受理、处理、答复、回访、结果公示")
    co_sub = co.add_subparsers(dest="complaints_command", parser_class=parser_class, required=True)
    ca = co_sub.add_parser("add", help="受理投诉或建议")
    ca.add_argument(
        "--channel", required=True, help="渠道：phone/visit/suggestion_box/letter/wechat/bureau 或中文"
    )
    ca.add_argument(
        "--category",
        required=True,
        help="类别：repair/safety/environment/neighbour/service/charges/suggestion/other 或中文",
    )
    ca.add_argument("--content", required=True, help="内容")
    ca.add_argument("--name", default="", help="反映人姓名（可不填）")
    ca.add_argument("--phone", default="", help="反映人电话（可不填）")
    ca.add_argument("--unit", metavar="CODE", help="相关房号（可不填）")
    ca.add_argument("--handler", default="", help="承办人")
    ca.add_argument("--at", type=_moment, help="受理时间（默认现在）")
    cl = co_sub.add_parser("list", help="列出投诉建议（超期未答复的在前；姓名电话已打码）")
    cl.add_argument("--open", action="store_true", help="只列未办结的")
    cl.add_argument("--format", choices=["table", "json"], default="table")
    cn = co_sub.add_parser("note", help="添加处理记录")
    cn.add_argument("number")
    cn.add_argument("--note", required=True)
    cn.add_argument("--handler", default="", help="承办人")
    cr = co_sub.add_parser("reply", help="答复反映人")
    cr.add_argument("number")
    cr.add_argument("--text", required=True, help="答复内容")
    cr.add_argument("--public", default="", help="公示用的处理结果（不含个人信息）")
    cr.add_argument("--at", type=_moment, help="答复时间（默认现在）")
    cv = co_sub.add_parser("visit", help="回访（满意度 1-5），办结")
    cv.add_argument("number")
    cv.add_argument("--satisfaction", required=True, type=int, help="满意度 1-5")
    cv.add_argument("--comment", default="")
    cv.add_argument("--at", type=_moment, help="回访时间（默认现在）")
    cp = co_sub.add_parser("notice", help="打印处理结果公示（不含姓名、电话、房号）")
    cp.add_argument("--from", dest="start", type=date_type, required=True, help="开始日期 YYYY-MM-DD")
    cp.add_argument("--to", dest="end", type=date_type, required=True, help="结束日期 YYYY-MM-DD")
    cp.add_argument("--out", required=True, type=Path, help="输出的 PDF 文件")


def dispatch(store: Any, args: argparse.Namespace) -> int:
    handler: Callable[[Any, argparse.Namespace], int] = {
        "workorders": _cmd_workorders,
        "complaints": _cmd_complaints,
    }[args.command]
    return handler(store, args)


def _table(headers: list[str], rows: list[tuple[Any, ...]]) -> None:
    from yuexiu_desk.cli import _print_table

    _print_table(headers, rows)


def _local(moment: datetime | None) -> str:
    from yuexiu_desk.clock import local_text

    return "—" if moment is None else local_text(moment)


def _cmd_workorders(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services import workorders as svc

    command = args.workorders_command
    if command == "list":
        with store.read() as session:
            if args.breaches:
                rows = [b.row for b in svc.breaches(session, open_only=args.open)]
            else:
                rows = svc.list_work_orders(session, open_only=args.open, unit_code=args.unit)
            now = session.info["clock"].now()
        if args.format == "json":
            print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1))
            return 0
        _table(
            ["单号", "位置", "类别", "紧急", "状态", "报修时间", "派给", "超时"],
            [
                (
                    r.number,
                    r.place,
                    r.category.label,
                    r.urgency.label,
                    r.status.label,
                    _local(r.reported_at),
                    r.assignee or "—",
                    "、".join(
                        w
                        for w, late in (
                            ("响应", r.response_breached(now)),
                            ("完工", r.completion_breached(now)),
                        )
                        if late
                    )
                    or "",
                )
                for r in rows
            ],
        )
        print(f"共 {len(rows)} 单")
        return 0
    if command == "slip":
        with store.read() as session:
            svc.print_slip(session, args.number, args.out)
        print(f"已生成维修派工单：{args.out}")
        return 0
    if command == "stats":
        return _print_stats(store, args)
    with store.unit_of_work() as session:
        if command == "add":
            from yuexiu_desk.services.photos import keep_photo

            # The files first (kept by content): the order's row then never names a file that is missing.
            photos = [keep_photo(store.paths, "work-orders", source) for source in args.photo]
            row = svc.create_work_order(
                session,
                category=args.category,
                description=args.description,
                unit_code=args.unit,
                location=args.location or "",
                urgency=args.urgency,
                channel=args.channel,
                reporter=args.reporter,
                hazard_id=args.hazard,
                photos=photos,
                operator=session.info["operator"],
                reported_at=args.at,
            )
            message = (
                f"已登记报修 {row.number}（{row.place}，{row.category.label}，{row.urgency.label}）："
                f"{_local(row.response_due_at)} 前响应，{_local(row.completion_due_at)} 前完工。"
            )
            if photos:
                message += f"附照片 {len(photos)} 张。"
        elif command == "dispatch":
            row = svc.dispatch(
                session,
                args.number,
                args.assignee,
                session.info["operator"],
                assignee_kind="contractor" if args.contractor else "worker",
                note=args.note,
                at=args.at,
            )
            message = f"维修单 {row.number} 已派给 {row.assignee}。"
        elif command == "start":
            row = svc.start(session, args.number, session.info["operator"], note=args.note, at=args.at)
            message = f"维修单 {row.number} 已开始维修。"
        elif command == "complete":
            row = svc.complete(
                session,
                args.number,
                labour=args.labour,
                materials=args.materials,
                cost_yuan=args.cost,
                payer=args.payer,
                operator=session.info["operator"],
                note=args.note,
                at=args.at,
            )
            message = f"维修单 {row.number} 已完工，待回访。"
        elif command == "followup":
            row = svc.follow_up(
                session,
                args.number,
                args.satisfaction,
                session.info["operator"],
                comment=args.comment,
                fixed=not args.not_fixed,
                at=args.at,
            )
            message = f"维修单 {row.number} 已回访（满意度 {args.satisfaction}），" + (
                "已关闭。"
                if row.status.value == "closed"
                else f"住户反映未修好，已返修（第 {row.reopen_count} 次）。"
            )
        else:
            row = svc.reopen(session, args.number, args.reason, session.info["operator"])
            message = (
                f"维修单 {row.number} 已返修（第 {row.reopen_count} 次），退回 {row.assignee or '待派单'}。"
            )
    print(message)
    return 0


def _print_stats(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.workorders import repair_statistics

    with store.read() as session:
        stats = repair_statistics(session, args.start, args.end)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "orders": stats.orders,
                    "open": stats.open_orders,
                    "cost_fen": stats.cost_fen,
                    "by_category": {f.category.value: f.orders for f in stats.by_category},
                    "by_month": dict(stats.by_month),
                    "by_season": dict(stats.by_season),
                    "by_building": {p.place: p.orders for p in stats.by_building},
                    "hotspot_floors": {p.place: p.orders for p in stats.hotspot_floors},
                    "repeat_units": {u.unit_code: u.orders for u in stats.repeat_units},
                    "avg_response_hours": stats.avg_response_hours,
                    "avg_completion_hours": stats.avg_completion_hours,
                    "response_breaches": stats.response_breaches,
                    "completion_breaches": stats.completion_breaches,
                    "avg_satisfaction": stats.avg_satisfaction,
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0

    def hours(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f} 小时"

    print(
        f"{stats.start} 至 {stats.end}：报修 {stats.orders} 单，未完成 {stats.open_orders} 单，"
        f"费用 {stats.cost_fen / 100:,.2f} 元；平均响应 {hours(stats.avg_response_hours)}，"
        f"平均完工 {hours(stats.avg_completion_hours)}；响应超时 {stats.response_breaches} 单，"
        f"完工超时 {stats.completion_breaches} 单；平均满意度 "
        + ("—" if stats.avg_satisfaction is None else f"{stats.avg_satisfaction:.2f}")
    )
    _table(["类别", "单数"], [(f.category.label, f.orders) for f in stats.by_category])
    _table(["季节", "单数"], stats.by_season)
    _table(["楼层（最多的）", "单数", "户数"], [(p.place, p.orders, p.units) for p in stats.hotspot_floors])
    _table(
        ["重复报修房号", "单数", "间隔内重复"],
        [(u.unit_code, u.orders, u.repeats) for u in stats.repeat_units],
    )
    return 0


def ledger_export(store: Any, args: argparse.Namespace) -> int:
    """`ledger export repairs --from DATE --to DATE --out FILE.xlsx` (called from cli_money's ledger)."""
    from yuexiu_desk.errors import UserError
    from yuexiu_desk.services.workorders import export_ledger

    if args.start is None or args.end is None:
        raise UserError(
            "导出维修台账须给出 --from 和 --to 日期（YYYY-MM-DD），例如 --from 2026-01-01 --to 2026-12-31。"
        )
    with store.read() as session:
        stats = export_ledger(session, args.start, args.end, args.out)
    print(f"已导出 {args.start} 至 {args.end} 维修台账 {stats.orders} 单：{args.out}")
    return 0


def _cmd_complaints(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services import complaints as svc

    command = args.complaints_command
    if command == "list":
        with store.read() as session:
            rows = svc.list_complaints(session, open_only=args.open)
        if args.format == "json":
            print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1))
            return 0
        _table(
            ["编号", "渠道", "类别", "反映人", "电话", "状态", "受理时间", "时限", "超期"],
            [
                (
                    r.number,
                    r.channel.label,
                    r.category.label,
                    r.complainant or "匿名",
                    r.phone or "—",
                    r.status.label,
                    _local(r.received_at),
                    _local(r.due_at),
                    "超期" if r.overdue else "",
                )
                for r in rows
            ],
        )
        print(f"共 {len(rows)} 件，其中超期 {sum(1 for r in rows if r.overdue)} 件")
        return 0
    if command == "notice":
        with store.read() as session:
            count = svc.print_notice(session, args.start, args.end, args.out)
        print(f"已生成处理结果公示（{count} 件）：{args.out}")
        return 0
    with store.unit_of_work() as session:
        if command == "add":
            row = svc.add_complaint(
                session,
                channel=args.channel,
                category=args.category,
                content=args.content,
                operator=session.info["operator"],
                complainant=args.name,
                phone=args.phone,
                unit_code=args.unit,
                handler=args.handler,
                received_at=args.at,
            )
            message = f"已受理 {row.number}（{row.category.label}），须在 {_local(row.due_at)} 前答复。"
        elif command == "note":
            row = svc.add_note(
                session, args.number, args.note, session.info["operator"], handler=args.handler
            )
            message = f"已记录 {row.number} 的处理情况。"
        elif command == "reply":
            row = svc.reply(
                session,
                args.number,
                args.text,
                session.info["operator"],
                public_result=args.public,
                at=args.at,
            )
            message = f"{row.number} 已答复" + ("（超过时限）。" if row.overdue else "。")
        else:
            row = svc.return_visit(
                session,
                args.number,
                args.satisfaction,
                session.info["operator"],
                comment=args.comment,
                at=args.at,
            )
            message = f"{row.number} 已回访（满意度 {args.satisfaction}），办结。"
    print(message)
    return 0
