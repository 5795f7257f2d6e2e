"""The command line: the station IT helper's and scripts' way to the same services the desk app uses.

Never imports PySide6 (a test proves it). Bad input → one Chinese sentence on stderr and exit 2;
an environment problem → exit 1; nothing is half-written in either case.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from yuexiu_desk import __version__
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.logs import LOG_NAME, configure_logging
from yuexiu_desk.paths import StationPaths

log = logging.getLogger("yuexiu_desk")

# Exit codes: 0 done, 1 environment problem, 2 bad input, 3 a bug (details in the log file).
BUG_EXIT_CODE = 3


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}”不是日期，请写成 YYYY-MM-DD，例如 2026-01-31。") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        # argparse's own wording is English; keep it but say how to get help, and use exit 2 like any bad input.
        self.print_usage(sys.stderr)
        print(f"参数有误：{message.rstrip('。')}。运行 {self.prog} --help 查看用法。", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="yuexiu-desk", description="悦秀苑公租房服务站桌面系统。不带命令时打开桌面程序。")
    parser.add_argument("--version", action="version", version=f"yuexiu-desk {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="服务站数据目录（默认：系统的用户数据目录；也可用环境变量 YUEXIU_DATA_DIR）",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    demo = sub.add_parser("demo", help="创建演示站（悦秀苑，194 套房源）")
    demo.add_argument("--force", action="store_true", help="即使目录里有正式数据也覆盖（会先自动备份）")

    units = sub.add_parser("units", help="房源台账")
    units_sub = units.add_subparsers(dest="units_command", parser_class=_Parser, required=True)
    ul = units_sub.add_parser("list", help="列出房源")
    ul.add_argument("--format", choices=["table", "csv", "json"], default="table")
    ul.add_argument("--search", default="", help="按房号开头、户型或房态筛选")
    ul.add_argument("--building", type=int)
    ul.add_argument("--status", help="房态：vacant/reserved/occupied/under_repair/withheld 或中文")
    us = units_sub.add_parser("set-status", help="变更房态（记录异动）")
    us.add_argument("code", help="房号，例如 1-2-1603")
    us.add_argument("status", help="目标房态：vacant/reserved/occupied/under_repair/withheld 或中文")
    us.add_argument("--reason", required=True, help="异动原因")

    changes = sub.add_parser("changes", help="异动统计")
    changes.add_argument("--from", dest="start", type=_date, help="开始日期 YYYY-MM-DD（默认今年 1 月 1 日）")
    changes.add_argument("--to", dest="end", type=_date, help="结束日期 YYYY-MM-DD（默认今天）")
    changes.add_argument("--format", choices=["table", "json"], default="table")

    labels = sub.add_parser("labels", help="打印房源二维码标签（A4 PDF）")
    labels.add_argument("--out", required=True, type=Path, help="输出的 PDF 文件")
    labels.add_argument(
        "--unit", action="append", default=[], metavar="CODE", help="只打印这些房号（可重复）"
    )
    labels.add_argument("--columns", type=int, default=3, help="每行标签数（默认 3）")
    labels.add_argument("--rows", type=int, default=8, help="每页行数（默认 8）")

    households = sub.add_parser("households", help="住户档案")
    households_sub = households.add_subparsers(dest="households_command", parser_class=_Parser, required=True)
    hl = households_sub.add_parser("list", help="列出住户（身份证号、电话已打码）")
    hl.add_argument("--format", choices=["table", "csv", "json"], default="table")
    hl.add_argument("--id-number", metavar="ID", help="只列出有这个身份证号的成员（含已迁出的）所在的住户")

    leases = sub.add_parser("leases", help="租赁合同")
    leases_sub = leases.add_subparsers(dest="leases_command", parser_class=_Parser, required=True)
    ll = leases_sub.add_parser("list", help="列出合同")
    ll.add_argument("--active", action="store_true", help="只列生效合同")
    ll.add_argument("--format", choices=["table", "csv", "json"], default="table")
    ld = leases_sub.add_parser("due", help="待办：备案（签约 30 天内）和续租申请（到期前 3 个月）")
    ld.add_argument("--format", choices=["table", "json"], default="table")

    forms = sub.add_parser("forms", help="打印表单（入住交接单、退出查验及结算单、合同摘要、住户登记表）")
    forms_sub = forms.add_subparsers(dest="forms_command", parser_class=_Parser, required=True)
    fp = forms_sub.add_parser("print", help="打印一张表单为 PDF")
    fp.add_argument("kind", choices=["checkin", "moveout", "lease", "household"])
    fp.add_argument("--out", required=True, type=Path, help="输出的 PDF 文件")
    which = fp.add_mutually_exclusive_group()
    which.add_argument("--lease", metavar="LEASE_NO", help="合同编号，例如 YXY01-2026-0013")
    which.add_argument("--unit", metavar="CODE", help="房号：打印该房源当前生效合同的表单")
    fp.add_argument("--blank", action="store_true", help="空白表（供手写）")

    template = sub.add_parser("template", help="导出 Excel 导入模板")
    template_sub = template.add_subparsers(dest="template_command", parser_class=_Parser, required=True)
    th = template_sub.add_parser("households", help="住户及合同导入模板")
    th.add_argument("--out", required=True, type=Path, help="输出的 .xlsx 文件")

    imports = sub.add_parser("import", help="从 Excel 台账导入")
    imports_sub = imports.add_subparsers(dest="import_command", parser_class=_Parser, required=True)
    ih = imports_sub.add_parser("households", help="导入住户及生效合同（有任何错误则全部不导入）")
    ih.add_argument("file", type=Path)
    ih.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    lookup = sub.add_parser("lookup", help="按扫码内容或房号查房源")
    lookup.add_argument("text")
    lookup.add_argument("--format", choices=["table", "json"], default="table")

    scan = sub.add_parser("scan", help="识别图片中的全部二维码并查出房源")
    scan.add_argument("image", type=Path)
    scan.add_argument("--format", choices=["table", "json"], default="table")

    from yuexiu_desk import cli_admin, cli_audit, cli_inspect, cli_money, cli_repairs, cli_users

    groups = cli_money.add_parsers(sub, _Parser, _date)
    cli_admin.add_parsers(sub, _Parser, _date)
    cli_audit.add_parsers(sub, _Parser, _date)
    cli_users.add_parsers(sub, _Parser, _date)
    cli_inspect.add_parsers(sub, _Parser, _date, groups["report"])
    cli_repairs.add_parsers(sub, _Parser, _date)
    return parser


def main(argv: Sequence[str] | None = None, open_desk: Callable[[str | None], int] | None = None) -> int:
    if open_desk is not None:
        # Opening the desk takes no command: skip building every subcommand's parser (start-up is timed).
        desk_only = argparse.ArgumentParser(add_help=False, exit_on_error=False)
        desk_only.add_argument("--data-dir")
        try:
            known, rest = desk_only.parse_known_args(sys.argv[1:] if argv is None else list(argv))
        except argparse.ArgumentError:
            rest = ["(the full parser explains it)"]
        if not rest:
            return open_desk(known.data_dir)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if open_desk is None:
            parser.print_help()
            return 0
        return open_desk(args.data_dir)
    paths = StationPaths.resolve(args.data_dir)
    configure_logging(paths)
    try:
        return _dispatch(args, paths)
    except UserError as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code
    except EnvironmentProblem as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped early: not an error of ours; keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        from yuexiu_desk.storage.db import environment_problem

        problem = environment_problem(exc)
        if problem is not None:
            log.warning("command %s: %s", args.command, exc)
            print(problem.message, file=sys.stderr)
            return problem.exit_code
        log.exception("command %s failed", args.command)
        print(
            f"程序内部错误，操作未完成，已记录到日志 {paths.logs / LOG_NAME}。请把该日志文件交给维护人员。",
            file=sys.stderr,
        )
        return BUG_EXIT_CODE


def _dispatch(args: argparse.Namespace, paths: StationPaths) -> int:
    if args.command not in ("template", "doctor"):
        from yuexiu_desk.services.health import location_problem

        # A live database on a network share or a USB stick is lost to a dropped link or a pulled stick
        # mid-write; doctor still runs there, to say so.
        refused = location_problem(paths)
        if refused is not None:
            raise EnvironmentProblem(refused)
    if args.command == "demo":
        return _cmd_demo(paths, args.force)
    if args.command == "template":
        from yuexiu_desk.export.household_template import write_household_template

        print(f"已生成导入模板：{write_household_template(args.out)}")
        return 0
    from yuexiu_desk import cli_admin

    if args.command in cli_admin.STORELESS_COMMANDS:
        # Restore swaps the database file: it must not be open here (it may not even exist yet).
        return cli_admin.restore_command(paths, args)
    from yuexiu_desk.storage.db import Store, require_station

    if not paths.database.exists():
        # A mistyped --data-dir must not quietly become a new, empty station.
        raise UserError(
            f"{paths.root} 里没有服务站数据。请检查 --data-dir 是否写对，或先运行 yuexiu-desk demo 创建演示站。"
        )
    store = Store.open(paths)
    try:
        with store.read() as session:
            require_station(session)
        from yuexiu_desk import cli_inspect, cli_money, cli_users

        store.sign_in_prompt = cli_users.credentials_prompt(store)
        if args.command in cli_users.COMMANDS:
            return cli_users.dispatch(store, args)
        if cli_inspect.handles(args):
            return cli_inspect.dispatch(store, args)
        if args.command in cli_money.COMMANDS:
            return cli_money.dispatch(store, args)
        if args.command in cli_admin.COMMANDS:
            return cli_admin.dispatch(store, args)
        from yuexiu_desk import cli_audit

        if args.command in cli_audit.COMMANDS:
            return cli_audit.dispatch(store, args)
        from yuexiu_desk import cli_repairs

        if args.command in cli_repairs.COMMANDS:
            return cli_repairs.dispatch(store, args)
        handler = {
            "units": _cmd_units,
            "changes": _cmd_changes,
            "households": _cmd_households,
            "leases": _cmd_leases,
            "forms": _cmd_forms,
            "import": _cmd_import,
            "labels": _cmd_labels,
            "lookup": _cmd_lookup,
            "scan": _cmd_scan,
        }[args.command]
        return handler(store, args)
    finally:
        store.close()


def _cmd_demo(paths: StationPaths, force: bool) -> int:
    from yuexiu_desk.domain.units import hundredths_to_area
    from yuexiu_desk.services.station import install_demo

    info = install_demo(paths, force=force)
    print(
        f"已创建演示站“{info.name}”：{info.units} 套房源，建筑面积 {hundredths_to_area(info.gross_area_hundredths):,} m²。"
        f"数据目录：{paths.root}"
    )
    # The demo's accounts and password are public (README); its recovery key is still said once, as at setup.
    print(f"演示站的个人信息恢复密钥：{info.recovery_code}（正式站请打印后锁入保险柜）")
    return 0


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    import unicodedata

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    cells = [[str(c) for c in row] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        print("  ".join(c + " " * (w - width(c)) for c, w in zip(row, widths, strict=True)).rstrip())


def _cmd_units(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.domain.units import parse_status
    from yuexiu_desk.services import units as svc

    if args.units_command == "set-status":
        target = parse_status(args.status)
        with store.unit_of_work() as session:
            unit_id = svc.find_unit_id_by_code(session, args.code)
            event = svc.change_status(session, unit_id, target, args.reason, session.info["operator"])
        print(
            f"{args.code}：{event.from_status.label} → {event.to_status.label}（{event.kind.label}），原因：{event.reason}"
        )
        return 0

    flt = svc.UnitFilter(
        text=args.search,
        building=args.building,
        status=parse_status(args.status) if args.status else None,
    )
    with store.read() as session:
        rows = svc.list_units(session, flt)
    if args.format == "json":
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1))
    elif args.format == "csv":
        _write_csv(
            [
                {**r.as_json(), "gross_area": f"{r.gross_area:.2f}", "inner_area": f"{r.inner_area:.2f}"}
                for r in rows
            ]
        )
    else:
        _print_table(
            ["房号", "户型", "建筑面积", "套内面积", "朝向", "房态"],
            [
                (
                    r.code,
                    r.unit_type,
                    f"{r.gross_area:.2f}",
                    f"{r.inner_area:.2f}",
                    r.orientation,
                    r.status.label,
                )
                for r in rows
            ],
        )
        total = sum((r.gross_area for r in rows), start=Decimal(0))
        print(f"共 {len(rows)} 套，建筑面积合计 {total:,.2f} m²")
    return 0


def _write_csv(rows: Sequence[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["code"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    sys.stdout.write(buffer.getvalue())


def _cmd_households(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.households import households_with_id_number, list_households

    with store.read() as session:
        rows = list_households(session)
        if args.id_number:
            wanted = households_with_id_number(session, args.id_number)
            rows = [r for r in rows if r.id in wanted]
    if args.format == "json":
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1))
    elif args.format == "csv":
        _write_csv(
            [
                {
                    "unit_code": r.unit_code or "",
                    "leaseholder": r.leaseholder,
                    "members": len(r.members),
                    "leaseholder_id_number": next(
                        (m.id_number_masked for m in r.members if m.relation == "本人"), ""
                    ),
                    "flags": " ".join(g.value for g in r.flags),
                }
                for r in rows
            ]
        )
    else:
        _print_table(
            ["房号", "承租人", "人数", "身份证号", "电话", "特殊群体"],
            [
                (
                    r.unit_code or "—",
                    r.leaseholder,
                    len(r.members),
                    next((m.id_number_masked for m in r.members if m.relation == "本人"), ""),
                    next((m.phone_masked for m in r.members if m.relation == "本人"), ""),
                    "、".join(g.label for g in r.flags),
                )
                for r in rows
            ],
        )
        print(f"共 {len(rows)} 户，{sum(len(r.members) for r in rows)} 人")
    return 0


def _cmd_leases(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.clock import local_date
    from yuexiu_desk.services.leases import leases_due, list_leases

    if args.leases_command == "due":
        with store.read() as session:
            items = leases_due(session, local_date(store.clock.now()))
        if args.format == "json":
            print(
                json.dumps(
                    [
                        {
                            "kind": i.kind,
                            "lease_no": i.lease_no,
                            "unit_code": i.unit_code,
                            "leaseholder": i.leaseholder,
                            "due_date": i.due.isoformat(),
                            "overdue": i.overdue,
                        }
                        for i in items
                    ],
                    ensure_ascii=False,
                    indent=1,
                )
            )
        else:
            _print_table(
                ["事项", "截止日期", "房号", "承租人", "合同编号", ""],
                [
                    (i.label, i.due, i.unit_code, i.leaseholder, i.lease_no, "已逾期" if i.overdue else "")
                    for i in items
                ],
            )
        return 0
    with store.read() as session:
        rows = list_leases(session, active_only=args.active)
    if args.format == "json":
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1))
    elif args.format == "csv":
        _write_csv(
            [
                {**r.as_json(), "monthly_rent": f"{r.monthly_rent:.2f}", "deposit": f"{r.deposit:.2f}"}
                for r in rows
            ]
        )
    else:
        _print_table(
            ["合同编号", "房号", "承租人", "起始", "到期", "月租金", "档次", "状态", "备案"],
            [
                (
                    r.lease_no,
                    r.unit_code,
                    r.leaseholder,
                    r.start,
                    r.end,
                    f"{r.monthly_rent:,.2f}",
                    r.rent_tier.label,
                    r.status.label,
                    r.filed_on or "未备案",
                )
                for r in rows
            ],
        )
        print(f"共 {len(rows)} 份合同")
    return 0


def _cmd_import(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.access import require
    from yuexiu_desk.services.backups import make_backup
    from yuexiu_desk.services.household_import import ImportRejected, import_households

    try:
        with store.unit_of_work() as session:
            require(session, "import.households")  # before the backup: a refusal costs nothing
            if not args.dry_run and Path(args.file).is_file():
                # Verified before anything is written; its audit entry commits with the import (one
                # transaction: a crash leaves the station exactly before or after).
                make_backup(store, "before-import", operator=session.info["operator"], session=session)
            report = import_households(session, args.file, session.info["operator"], dry_run=args.dry_run)
    except ImportRejected as exc:
        print(exc.message, file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return exc.exit_code
    for warning in report.warnings:
        print(f"提示：{warning}")
    verb = "检查通过（未写入）" if report.dry_run else "已导入"
    print(f"{verb}：{report.households} 户，{report.members} 人，{report.leases} 份合同。")
    return 0


def _cmd_forms(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.form_print import print_form

    with store.read() as session:
        printed = print_form(
            session,
            args.kind,
            args.out,
            lease_no=args.lease,
            unit_code=args.unit,
            blank=args.blank,
            paths=store.paths,
        )
    what = "空白" if printed.blank else (printed.lease_no or "")
    print(f"已生成{printed.title}（{what}），共 {printed.pages} 页：{printed.path}")
    return 0


def _cmd_changes(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.clock import local_date
    from yuexiu_desk.services.units import change_statistics

    today = local_date(store.clock.now())
    start = args.start or date(today.year, 1, 1)
    end = args.end or today
    with store.read() as session:
        stats = change_statistics(session, start, end)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "from": stats.start.isoformat(),
                    "to": stats.end.isoformat(),
                    "by_kind": {k.value: n for k, n in stats.by_kind.items()},
                    "total": stats.total,
                    "status_now": {s.value: n for s, n in stats.status_now.items()},
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    print(f"异动统计 {stats.start} 至 {stats.end}")
    _print_table(
        ["异动类型", "次数"], [(k.label, n) for k, n in stats.by_kind.items()] + [("合计", stats.total)]
    )
    print()
    _print_table(["当前房态", "套数"], [(s.label, n) for s, n in stats.status_now.items()])
    return 0


def _cmd_labels(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.label_sheet import make_unit_label_sheet

    with store.read() as session:
        result = make_unit_label_sheet(session, args.out, args.unit or None, args.columns, args.rows)
    print(f"已生成 {result.labels} 张标签，共 {result.pages} 页：{result.path}")
    return 0


def _resolved_json(session: Any, resolved: Any) -> dict[str, Any]:
    from yuexiu_desk.services.units import fetch_rows

    row = fetch_rows(session, [resolved.record_id])[resolved.record_id]
    data = {"kind": "unit", "via": resolved.via, **row.as_json()}
    if resolved.work_order_number:
        data["work_order"] = resolved.work_order_number
    return data


def _cmd_lookup(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.lookup import resolve

    with store.read() as session:
        data = _resolved_json(session, resolve(session, args.text))
    if args.format == "json":
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print(
            f"{data['code']}  {data['unit_type']}  {data['gross_area']:.2f} m²  {_status_label(data['status'])}"
        )
    return 0


def _status_label(code: str) -> str:
    from yuexiu_desk.domain.units import UnitStatus

    return UnitStatus(code).label


def _cmd_scan(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.scan import scan_image

    with store.read() as session:
        outcome = scan_image(session, args.image)
        found = [_resolved_json(session, r) for r in outcome.found]
    if args.format == "json":
        rejected = [{"payload": r.text, "ok": False, "error": r.message} for r in outcome.rejected]
        print(json.dumps([{"ok": True, **f} for f in found] + rejected, ensure_ascii=False, indent=1))
    else:
        for f in found:
            print(f"{f['code']}  {f['unit_type']}  {f['gross_area']:.2f} m²  {_status_label(f['status'])}")
        for r in outcome.rejected:
            print(f"无法识别：{r.message}")
    if outcome.rejected:
        print(f"图片中有 {len(outcome.rejected)} 个二维码不是本站的有效标签。", file=sys.stderr)
        return 2
    return 0
