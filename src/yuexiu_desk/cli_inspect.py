"""The command line of inspections and safety checks: what is due, rounds (start, record, close, print),
hazards to closure, elevator certificates and the quarterly report. Registered by cli.build_parser;
Qt-free like all of it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMANDS = ("inspections", "hazards")


def add_parsers(
    sub: Any, parser_class: type[argparse.ArgumentParser], date_type: Callable[[str], Any], report_sub: Any
) -> None:
    ins = sub.add_parser("inspections", help="房屋巡查与安全检查：待检、检查轮次、打印记录表")
    ins_sub = ins.add_subparsers(dest="inspections_command", parser_class=parser_class, required=True)
    d = ins_sub.add_parser("due", help="各检查表、各范围的下次检查日期及是否逾期")
    d.add_argument("--format", choices=["table", "json"], default="table")
    pb = ins_sub.add_parser("print-blank", help="打印空白检查记录表（没有进行中的轮次时开始一轮）")
    pb.add_argument("template", help="检查表，例如 quarterly_inspection（见 inspections due）")
    pb.add_argument("--scope", required=True, help="范围，例如 building:1、entrance:1-2")
    pb.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")
    st = ins_sub.add_parser("start", help="开始一轮检查")
    st.add_argument("template")
    st.add_argument("--scope", required=True)
    st.add_argument("--inspector", default="", help="检查人")
    st.add_argument("--inspected-party", default="", help="被检查单位（例如物业服务企业）")
    st.add_argument("--date", type=date_type, help="检查日期 YYYY-MM-DD（默认今天）")
    ls = ins_sub.add_parser("list", help="列出检查轮次")
    ls.add_argument("--open", action="store_true", help="只列进行中的")
    ls.add_argument("--format", choices=["table", "json"], default="table")
    sh = ins_sub.add_parser("show", help="一轮检查的清单及结果（可只看一个位置）")
    sh.add_argument("round", help="轮次编号（XC2026-0001）或扫描记录表上的二维码")
    sh.add_argument("--location", help="位置，例如 unit:1-2-1603 或 1-2-1603")
    sh.add_argument("--unanswered", action="store_true", help="只列未填写的")
    sh.add_argument("--format", choices=["table", "json"], default="table")
    sc = ins_sub.add_parser("scan", help="巡查中扫描房源标签（或输入房号），列出该处的检查项")
    sc.add_argument("round")
    sc.add_argument("text", help="扫码内容或房号")
    rc = ins_sub.add_parser("record", help="填写一项检查结果（或 --rest-ok 把其余各项记为正常）")
    rc.add_argument("round")
    rc.add_argument("--item", help="检查项 id，例如 structure.foundation（见 inspections show）")
    rc.add_argument("--location", help="位置，例如 building:1、entrance:1-2、1-2-1603")
    rc.add_argument("--result", help="ok/defect/na 或 正常/有隐患/不适用")
    rc.add_argument("--severity", default="", help="有隐患时：minor/major/critical 或 一般/较大/重大")
    rc.add_argument("--grade", default="", help="结构安全项有隐患时的危险等级 A/B/C/D（S1）")
    rc.add_argument("--note", default="", help="部位和情况")
    rc.add_argument("--photo", default="", help="照片文件")
    rc.add_argument("--rest-ok", action="store_true", help="其余未填写的项记为正常（可配合 --location）")
    ad = ins_sub.add_parser("add-scope", help="把范围外的位置（扫描到的房屋）加入本轮")
    ad.add_argument("round")
    ad.add_argument("place", help="例如 2-1-0301 或 unit:2-1-301")
    cl = ins_sub.add_parser("close", help="结束一轮检查（须全部填写）")
    cl.add_argument("round")
    cl.add_argument("--date", type=date_type, help="结束日期（默认今天）")
    pr = ins_sub.add_parser("print", help="打印一轮检查的记录表（已填写的结果）")
    pr.add_argument("round")
    pr.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")
    ce = ins_sub.add_parser("certificates", help="电梯使用标志（检验合格证）及到期提醒（S5，提前 30 天）")
    ce.add_argument("--format", choices=["table", "json"], default="table")
    ca = ins_sub.add_parser("certificate-add", help="登记电梯检验合格证")
    ca.add_argument("--location", required=True, help="电梯所在单元，例如 entrance:1-2")
    ca.add_argument("--number", required=True, help="证书编号")
    ca.add_argument("--expires", required=True, type=date_type, help="有效期至 YYYY-MM-DD")
    ca.add_argument("--elevator", default="", help="电梯名称（默认“1栋2单元电梯”）")

    hz = sub.add_parser("hazards", help="隐患：整改、复查验收、关闭、上报站长的警示")
    hz_sub = hz.add_subparsers(dest="hazards_command", parser_class=parser_class, required=True)
    hl = hz_sub.add_parser("list", help="列出隐患（逾期、严重的在前）")
    hl.add_argument("--open", action="store_true", help="只列未关闭的")
    hl.add_argument("--format", choices=["table", "json"], default="table")
    hr = hz_sub.add_parser("rectify", help="登记整改情况")
    hr.add_argument("hazard", help="隐患编号，例如 YH2026-0001")
    hr.add_argument("--note", required=True)
    hi = hz_sub.add_parser("reinspect", help="复查验收（合格后才能关闭）")
    hi.add_argument("hazard")
    fixed = hi.add_mutually_exclusive_group(required=True)
    fixed.add_argument("--fixed", action="store_true", help="复查合格")
    fixed.add_argument("--not-fixed", action="store_true", help="复查不合格")
    hi.add_argument("--note", default="")
    hi.add_argument("--date", type=date_type, help="复查日期（默认今天）")
    hc = hz_sub.add_parser("close", help="关闭隐患（须复查验收合格）")
    hc.add_argument("hazard")
    hz_sub.add_parser("alerts", help="上报站长的危险等级 C、D 级隐患（S1），未确认的")
    hk = hz_sub.add_parser("ack", help="站长确认已知悉一条警示")
    hk.add_argument("hazard")
    hw = hz_sub.add_parser("work-order", help="隐患转维修：开一张维修工单（记在隐患上）")
    hw.add_argument("hazard")

    ri = report_sub.add_parser("inspections", help="季度巡查报告（PDF 含图表，或 .xlsx）")
    ri.add_argument("--quarter", required=True, help="季度 YYYY-Qn，例如 2026-Q3")
    ri.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")


def handles(args: argparse.Namespace) -> bool:
    return args.command in COMMANDS or (
        args.command == "report" and getattr(args, "report_command", None) == "inspections"
    )


def dispatch(store: Any, args: argparse.Namespace) -> int:
    if args.command == "report":
        return _cmd_report(store, args)
    if args.command == "hazards":
        return _cmd_hazards(store, args)
    return _cmd_inspections(store, args)


def _table(headers: list[str], rows: list[tuple[Any, ...]]) -> None:
    from yuexiu_desk.cli import _print_table

    _print_table(headers, rows)


def _dump(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=str))


def _round_no(session: Any, text: str) -> str:
    from yuexiu_desk.services.lookup import round_no_of

    return round_no_of(session, text)


def _cmd_inspections(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services import inspection_print
    from yuexiu_desk.services import inspections as svc

    command = args.inspections_command
    if command == "due":
        with store.read() as session:
            rows = svc.due(session)
        if args.format == "json":
            _dump([r.as_json() for r in rows])
            return 0
        _table(
            ["检查表", "template", "scope", "范围", "周期", "上次完成", "应检日期", "状态"],
            [
                (
                    r.title,
                    r.template,
                    r.scope,
                    r.scope_label,
                    r.cadence,
                    r.last_done or "—",
                    r.due_date,
                    "逾期" if r.overdue else (f"进行中 {r.open_round}" if r.open_round else ""),
                )
                for r in rows
            ],
        )
        print(f"共 {len(rows)} 项，逾期 {sum(r.overdue for r in rows)} 项。")
        return 0
    if command == "print-blank":
        with store.unit_of_work() as session:
            round_no, pages, started = inspection_print.print_blank(
                session, args.template, args.scope, args.out, session.info["operator"]
            )
        print(
            f"{'已开始检查轮次' if started else '进行中的检查轮次'} {round_no}；空白记录表 {pages} 页：{args.out}"
        )
        return 0
    if command == "start":
        with store.unit_of_work() as session:
            info = svc.start_round(
                session,
                args.template,
                args.scope,
                session.info["operator"],
                args.inspector,
                args.inspected_party,
                args.date,
            )
        print(f"已开始检查轮次 {info.round_no}：{info.scope_label} {info.title}，共 {info.expected} 项。")
        return 0
    if command == "list":
        with store.read() as session:
            rounds = svc.list_rounds(session, args.open)
        if args.format == "json":
            _dump(
                [
                    {
                        "round_no": r.round_no,
                        "template": r.template,
                        "scope": r.scope,
                        "started_on": r.started_on.isoformat(),
                        "closed_on": r.closed_on.isoformat() if r.closed_on else None,
                        "status": r.status,
                        "expected": r.expected,
                        "answered": r.answered,
                        "defects": r.defects,
                    }
                    for r in rounds
                ]
            )
            return 0
        _table(
            ["轮次", "检查表", "范围", "开始", "结束", "已填/应填", "隐患"],
            [
                (
                    r.round_no,
                    r.title,
                    r.scope_label,
                    r.started_on,
                    r.closed_on or "进行中",
                    f"{r.answered}/{r.expected}",
                    r.defects,
                )
                for r in rounds
            ],
        )
        return 0
    if command in ("show", "scan"):
        with store.read() as session:
            round_no = _round_no(session, args.round)
            if command == "scan":
                place, items = svc.scan(session, round_no, args.text)
                print(f"{place.label}：")
            else:
                items = svc.round_items(session, round_no, args.location)
        if command == "show" and args.unanswered:
            items = [i for i in items if i.result is None]
        if command == "show" and args.format == "json":
            _dump(
                [
                    {
                        "item": i.item_id,
                        "label": i.label,
                        "location": i.location,
                        "result": i.result.value if i.result else None,
                        "severity": i.severity.value if i.severity else None,
                        "danger_grade": i.danger_grade.value if i.danger_grade else None,
                        "note": i.note,
                    }
                    for i in items
                ]
            )
            return 0
        _table(
            ["位置", "item", "检查项", "看什么", "结果"],
            [
                (
                    i.location_label,
                    i.item_id,
                    i.label,
                    i.look,
                    i.result.label + (f"（{i.severity.label}）" if i.severity else "")
                    if i.result
                    else "未填",
                )
                for i in items
            ],
        )
        return 0
    if command == "record":
        with store.unit_of_work() as session:
            round_no = _round_no(session, args.round)
            if args.rest_ok:
                count = svc.record_rest_ok(session, round_no, session.info["operator"], args.location)
                info = svc.round_info(session, svc.find_round(session, round_no))
                print(f"已将 {count} 项记为正常；本轮已填 {info.answered}/{info.expected} 项。")
                return 0
            from yuexiu_desk.errors import UserError

            if not (args.item and args.location and args.result):
                raise UserError(
                    "请写明 --item、--location 和 --result（或用 --rest-ok 把其余各项记为正常）。"
                )
            hazard = svc.record_result(
                session,
                round_no,
                svc.Answer(
                    args.item, args.location, args.result, args.severity, args.grade, args.note, args.photo
                ),
                session.info["operator"],
            )
            if hazard is not None:
                alert = "；危险等级 C/D，已上报站长" if hazard.escalated_at is not None else ""
                print(f"已记录隐患 {hazard.hazard_no}，整改期限 {hazard.deadline}{alert}。")
            else:
                print("已记录。")
        return 0
    if command == "add-scope":
        with store.unit_of_work() as session:
            info = svc.add_to_scope(
                session, _round_no(session, args.round), args.place, session.info["operator"]
            )
        print(f"已加入检查轮次 {info.round_no}；现共 {info.expected} 项。")
        return 0
    if command == "close":
        with store.unit_of_work() as session:
            info = svc.close_round(
                session, _round_no(session, args.round), session.info["operator"], args.date
            )
        print(f"检查轮次 {info.round_no} 已结束：{info.expected} 项，发现隐患 {info.defects} 项。")
        return 0
    if command == "print":
        with store.read() as session:
            pages = inspection_print.print_round(session, _round_no(session, args.round), args.out)
        print(f"已生成检查记录表 {pages} 页：{args.out}")
        return 0
    if command == "certificate-add":
        with store.unit_of_work() as session:
            svc.record_certificate(
                session, args.location, args.number, args.expires, session.info["operator"], args.elevator
            )
        print(f"已登记电梯检验合格证 {args.number.strip()}，有效期至 {args.expires}。")
        return 0
    with store.read() as session:
        certs = svc.certificates(session)
    if args.format == "json":
        _dump(
            [
                {
                    "elevator": c.elevator,
                    "location": c.location,
                    "certificate_no": c.certificate_no,
                    "expires_on": c.expires_on.isoformat(),
                    "days_left": c.days_left,
                    "alert": c.alert,
                }
                for c in certs
            ]
        )
        return 0
    _table(
        ["电梯", "证书编号", "有效期至", "剩余天数", "提醒"],
        [
            (
                c.elevator,
                c.certificate_no,
                c.expires_on,
                c.days_left,
                "已过期" if c.days_left < 0 else ("即将到期" if c.alert else ""),
            )
            for c in certs
        ],
    )
    return 0


def _cmd_hazards(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.inspection_templates import RESPONSIBLE
    from yuexiu_desk.services import hazards as svc

    command = args.hazards_command
    if command in ("list", "alerts"):
        with store.read() as session:
            rows = svc.list_hazards(session, args.open) if command == "list" else svc.manager_alerts(session)
        if command == "list" and args.format == "json":
            _dump([r.as_json() for r in rows])
            return 0
        _table(
            ["编号", "位置", "类别", "情况", "程度", "等级", "责任方", "期限", "状态"],
            [
                (
                    r.hazard_no,
                    r.location_label,
                    svc.kind_label(r.kind),
                    r.description,
                    r.severity.label,
                    r.danger_grade or "",
                    RESPONSIBLE.get(r.responsible, r.responsible),
                    r.deadline,
                    r.status.label + ("（逾期）" if r.overdue else ""),
                )
                for r in rows
            ],
        )
        print(f"共 {len(rows)} 条。")
        return 0
    with store.unit_of_work() as session:
        if command == "rectify":
            row = svc.record_rectification(session, args.hazard, args.note, session.info["operator"])
            print(f"已登记隐患 {row.hazard_no} 的整改情况；请复查验收后关闭。")
        elif command == "reinspect":
            row = svc.reinspect(
                session, args.hazard, args.fixed, args.note, session.info["operator"], args.date
            )
            print(f"隐患 {row.hazard_no} 复查{'合格，可以关闭' if args.fixed else '不合格，仍待整改'}。")
        elif command == "close":
            row = svc.close_hazard(session, args.hazard, session.info["operator"])
            print(f"隐患 {row.hazard_no} 已关闭。")
        elif command == "work-order":
            number = svc.raise_repair(session, args.hazard, session.info["operator"])
            print(f"已为隐患 {args.hazard} 开维修工单 {number}；整改完成后仍须复查验收再关闭隐患。")
        else:
            svc.acknowledge_alert(session, args.hazard, session.info["operator"])
            print("已确认。")
    return 0


def _cmd_report(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.inspection_print import export_quarter_report

    with store.read() as session:
        report = export_quarter_report(session, args.quarter, args.out)
    print(
        f"已导出{report.quarter}巡查报告：已检 {report.rounds_done}/{report.rounds_due} 轮，"
        f"检查 {report.items_checked} 项次，新增隐患 {report.hazards_opened} 条：{args.out}"
    )
    return 0
