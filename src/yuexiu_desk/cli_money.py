"""The command line of rent billing and collection: bills, payments, arrears and dunning, ledger and fund
report exports, bank reconciliation and month close. Registered by cli.build_parser; Qt-free like all of it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _period(text: str) -> Any:
    from yuexiu_desk.domain.billing import Period
    from yuexiu_desk.errors import UserError

    try:
        return Period.parse(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(exc.message.rstrip("。")) from None


def add_parsers(
    sub: Any, parser_class: type[argparse.ArgumentParser], date_type: Callable[[str], Any]
) -> dict[str, Any]:
    """Add the money commands; returns the sub-command groups other modules add to (report)."""
    bills = sub.add_parser("bills", help="账单：月末出账、手工录入（水电费等）、查看未缴账单")
    bills_sub = bills.add_subparsers(dest="bills_command", parser_class=parser_class, required=True)
    br = bills_sub.add_parser("run", help="为一个月出账（重复运行不会重复出账）")
    br.add_argument("--month", required=True, type=_period, help="账期 YYYY-MM")
    ba = bills_sub.add_parser("add", help="手工录入一笔账单（水费、电费、损坏赔偿等）")
    ba.add_argument("--unit", required=True, metavar="CODE")
    ba.add_argument("--kind", required=True, help="收费项目：water/electricity/damages/property_fee/rent")
    ba.add_argument("--month", required=True, type=_period, help="账期 YYYY-MM")
    ba.add_argument("--amount", required=True, help="金额（元），例如 36.50")
    ba.add_argument("--detail", default="", help="说明，例如抄表读数")
    bl = bills_sub.add_parser("open", help="列出一户未结清的账单")
    bl.add_argument("--unit", required=True, metavar="CODE")
    bl.add_argument("--format", choices=["table", "json"], default="table")

    payments = sub.add_parser("payments", help="缴费：登记收款并出收据、作废、补打收据")
    payments_sub = payments.add_subparsers(dest="payments_command", parser_class=parser_class, required=True)
    pa = payments_sub.add_parser("add", help="登记一笔缴费（先抵最早的欠费，多缴部分转为预存）")
    pa.add_argument("--unit", required=True, metavar="CODE")
    pa.add_argument("--amount", required=True, help="金额（元），例如 604.34")
    pa.add_argument(
        "--channel", required=True, help="cash/wechat/alipay/bank_transfer/bank_withholding 或中文"
    )
    pa.add_argument("--ref", default="", help="交易流水号（银行、微信、支付宝）")
    pa.add_argument("--date", type=date_type, help="缴费日期 YYYY-MM-DD（默认今天）")
    pa.add_argument("--receipt", type=Path, metavar="FILE.pdf", help="同时生成收据 PDF")
    pv = payments_sub.add_parser("void", help="作废一笔缴费（不删除，收据加注作废）")
    pv.add_argument("receipt_no")
    pv.add_argument("--reason", required=True)
    pv.add_argument("--receipt", type=Path, metavar="FILE.pdf", help="同时生成加注作废的收据 PDF")
    pr = payments_sub.add_parser("receipt", help="补打收据")
    pr.add_argument("receipt_no")
    pr.add_argument("--out", required=True, type=Path)

    arrears = sub.add_parser("arrears", help="欠费户及催缴阶段")
    arrears.add_argument("--format", choices=["table", "csv", "json"], default="table")
    arrears.add_argument("--stage", help="只列某一阶段：reminder/notice/termination")

    dunning = sub.add_parser("dunning", help="催缴台账：登记催缴、开具催缴通知书")
    dunning_sub = dunning.add_subparsers(dest="dunning_command", parser_class=parser_class, required=True)
    da = dunning_sub.add_parser("add", help="登记一次催缴")
    da.add_argument("--unit", required=True, metavar="CODE")
    da.add_argument("--method", required=True, help="phone/sms/notice/visit/legal 或中文")
    da.add_argument("--date", type=date_type, help="日期 YYYY-MM-DD（默认今天）")
    da.add_argument("--outcome", default="", help="结果，例如“答应月底前缴清”")
    da.add_argument("--proof", default="", help="送达凭证：签收人、照片或回执编号")
    dn = dunning_sub.add_parser("notices", help="开具并打印催缴通知书（按户或按阶段批量）")
    dn.add_argument("--out", required=True, type=Path)
    dn.add_argument("--unit", action="append", default=[], metavar="CODE", help="房号（可重复）")
    dn.add_argument("--stage", help="该阶段的全部住户：reminder/notice/termination")
    dl = dunning_sub.add_parser("list", help="一户的催缴记录")
    dl.add_argument("--unit", required=True, metavar="CODE")

    ledger = sub.add_parser("ledger", help="台账导出")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", parser_class=parser_class, required=True)
    le = ledger_sub.add_parser("export", help="导出台账为 Excel")
    le.add_argument(
        "kind",
        choices=["rent", "repairs"],
        help="rent：租金台账（--month）；repairs：维修台账（--from --to）",
    )
    le.add_argument("--month", type=_period, help="租金台账的账期 YYYY-MM")
    le.add_argument("--from", dest="start", type=date_type, help="维修台账的开始日期 YYYY-MM-DD")
    le.add_argument("--to", dest="end", type=date_type, help="维修台账的结束日期 YYYY-MM-DD")
    le.add_argument("--out", required=True, type=Path)

    report = sub.add_parser("report", help="报表")
    report_sub = report.add_subparsers(dest="report_command", parser_class=parser_class, required=True)
    rf = report_sub.add_parser("funds", help="资金报表（Excel）")
    rf.add_argument("--month", required=True, type=_period)
    rf.add_argument("--out", required=True, type=Path)

    reconcile = sub.add_parser("reconcile", help="银行对账")
    reconcile_sub = reconcile.add_subparsers(
        dest="reconcile_command", parser_class=parser_class, required=True
    )
    ri = reconcile_sub.add_parser("import", help="导入银行流水（xlsx 或 csv）并自动匹配")
    ri.add_argument("statement", type=Path)
    ri.add_argument("--month", required=True, type=_period)
    ri.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=列名",
        help="指定列：booked_on、amount、reference、counterparty、summary（会记住）",
    )
    rs = reconcile_sub.add_parser("status", help="对账结果")
    rs.add_argument("--month", required=True, type=_period)
    rs.add_argument("--format", choices=["table", "json"], default="table")
    rc = reconcile_sub.add_parser("confirm", help="确认全部自动匹配")
    rc.add_argument("--month", required=True, type=_period)

    month = sub.add_parser("month", help="月结：结账与反结账")
    month_sub = month.add_subparsers(dest="month_command", parser_class=parser_class, required=True)
    mc = month_sub.add_parser("close", help="结账（须已对平）")
    mc.add_argument("--month", required=True, type=_period)
    mr = month_sub.add_parser("reopen", help="反结账（须写明原因）")
    mr.add_argument("--month", required=True, type=_period)
    mr.add_argument("--reason", required=True)
    return {"report": report_sub}


COMMANDS = ("bills", "payments", "arrears", "dunning", "ledger", "report", "reconcile", "month")


def dispatch(store: Any, args: argparse.Namespace) -> int:
    handler: Callable[[Any, argparse.Namespace], int] = {
        "bills": _cmd_bills,
        "payments": _cmd_payments,
        "arrears": _cmd_arrears,
        "dunning": _cmd_dunning,
        "ledger": _cmd_ledger,
        "report": _cmd_report,
        "reconcile": _cmd_reconcile,
        "month": _cmd_month,
    }[args.command]
    return handler(store, args)


def _yuan(fen: int) -> str:
    from yuexiu_desk.domain.money import format_yuan

    return format_yuan(fen)


def _table(headers: list[str], rows: list[tuple[Any, ...]]) -> None:
    from yuexiu_desk.cli import _print_table

    _print_table(headers, rows)


def _cmd_bills(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services import billing

    if args.bills_command == "run":
        with store.unit_of_work() as session:
            created = billing.run_bills(session, args.month, session.info["operator"])
        print(
            f"{args.month} 出账 {created} 张账单。"
            if created
            else f"{args.month} 没有需要新出的账单（0 张）。"
        )
        return 0
    if args.bills_command == "add":
        with store.unit_of_work() as session:
            billing.add_bill(
                session, args.unit, args.kind, args.month, args.amount, args.detail, session.info["operator"]
            )
        print(f"已为 {args.unit} 录入 {args.month} 的账单 {args.amount} 元。")
        return 0
    with store.read() as session:
        lease = billing.current_lease_for_unit(session, args.unit)
        bills = billing.open_bills(session, lease.household_id)
        account = billing.account_of(session, lease.household_id)
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "period": b.period,
                        "charge_kind": b.charge_kind,
                        "amount": _yuan(b.amount_fen).replace(",", ""),
                        "open": _yuan(b.open_fen).replace(",", ""),
                        "due_on": b.due_on.isoformat(),
                    }
                    for b in bills
                ],
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    if bills:
        _table(
            ["账期", "项目", "金额", "未缴", "缴费期限"],
            [(b.period, b.charge_name, _yuan(b.amount_fen), _yuan(b.open_fen), b.due_on) for b in bills],
        )
    print(f"{args.unit}：{billing.describe_fen(account.balance_fen if account else 0)}")
    return 0


def _cmd_payments(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.domain.billing import parse_channel
    from yuexiu_desk.services import billing
    from yuexiu_desk.services.money_print import print_receipt

    if args.payments_command == "add":
        data = billing.PaymentInput(
            unit_code=args.unit,
            amount=args.amount,
            channel=parse_channel(args.channel),
            reference=args.ref,
            paid_on=args.date,
        )
        # The receipt is written inside the same unit of work: a receipt that cannot be written (bad
        # folder, full disk) leaves no payment without its receipt.
        with store.unit_of_work() as session:
            result = billing.record_payment(session, data, session.info["operator"])
            if args.receipt:
                print_receipt(session, result.receipt_no, args.receipt)
        print(
            f"已收款 {_yuan(result.amount_fen)} 元，收据号 {result.receipt_no}；"
            f"{billing.describe_fen(result.balance_fen)}。"
        )
        if args.receipt:
            print(f"收据：{args.receipt}")
        return 0
    if args.payments_command == "void":
        with store.unit_of_work() as session:
            billing.void_payment(session, args.receipt_no, args.reason, session.info["operator"])
            if args.receipt:
                print_receipt(session, args.receipt_no, args.receipt)
        print(f"收据 {args.receipt_no.strip().upper()} 已作废：{args.reason.strip()}")
        return 0
    with store.read() as session:
        print_receipt(session, args.receipt_no, args.out)
    print(f"已生成收据：{args.out}")
    return 0


def _stage(text: str | None) -> Any:
    if not text:
        return None
    from yuexiu_desk.domain.billing import DunningStage
    from yuexiu_desk.domain.choices import parse_choice

    return parse_choice(DunningStage, text, "催缴阶段")


def _cmd_arrears(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.arrears import arrears

    with store.read() as session:
        rows = arrears(session, stage=_stage(args.stage))
    if args.format == "json":
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1))
        return 0
    if args.format == "csv":
        buffer = io.StringIO()
        fields = list(rows[0].as_json()) if rows else ["unit_code"]
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r.as_json() for r in rows)
        sys.stdout.write(buffer.getvalue())
        return 0
    _table(
        ["房号", "承租人", "欠费月数", "逾期金额", "阶段", "最近催缴"],
        [
            (
                r.unit_code,
                r.leaseholder,
                r.months_overdue,
                _yuan(r.amount_due_fen),
                r.stage.label + ("（请站长处理）" if r.needs_manager else ""),
                f"{r.last_action_on} {r.last_action}" if r.last_action_on else "—",
            )
            for r in rows
        ],
    )
    print(f"共 {len(rows)} 户欠费，逾期合计 {_yuan(sum(r.amount_due_fen for r in rows))} 元")
    return 0


def _cmd_dunning(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.domain.billing import parse_dunning_method
    from yuexiu_desk.services import arrears as svc
    from yuexiu_desk.services.money_print import print_notices

    if args.dunning_command == "add":
        data = svc.DunningInput(
            args.unit, parse_dunning_method(args.method), args.date, args.outcome, args.proof
        )
        with store.unit_of_work() as session:
            svc.record_dunning(session, data, session.info["operator"])
        print(f"已登记 {args.unit} 的催缴记录。")
        return 0
    if args.dunning_command == "notices":
        with store.unit_of_work() as session:
            issued = svc.issue_notices(session, args.unit, _stage(args.stage), session.info["operator"])
            pages = print_notices(session, issued, args.out)
        print(f"已开具催缴通知书 {len(issued)} 份（{issued[0].notice_no} 起），共 {pages} 页：{args.out}")
        return 0
    with store.read() as session:
        entries = svc.dunning_history(session, args.unit)
    _table(
        ["日期", "阶段", "方式", "欠费月数", "逾期金额", "通知书编号", "结果", "送达凭证", "经办人"],
        [
            (
                e.done_on,
                e.stage.label,
                e.method.label,
                e.months_overdue,
                _yuan(e.amount_due_fen),
                e.notice_no,
                e.outcome,
                e.proof,
                e.operator,
            )
            for e in entries
        ],
    )
    return 0


def _cmd_ledger(store: Any, args: argparse.Namespace) -> int:
    if args.kind == "repairs":
        from yuexiu_desk import cli_repairs

        return cli_repairs.ledger_export(store, args)
    from yuexiu_desk.errors import UserError
    from yuexiu_desk.services.money_export import export_rent_ledger

    if args.month is None:
        raise UserError("导出租金台账须给出 --month 账期（YYYY-MM），例如 --month 2026-10。")

    with store.unit_of_work() as session:  # the export is recorded in the audit log
        count = export_rent_ledger(session, args.month, args.out)
    print(f"已导出 {args.month} 租金台账 {count} 行：{args.out}")
    return 0


def _cmd_report(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.money_export import export_fund_report

    with store.unit_of_work() as session:  # the export is recorded in the audit log
        figures = export_fund_report(session, args.month, args.out)
    print(
        f"已导出 {args.month} 资金报表：应收 {_yuan(figures.billed_fen)} 元，实收 {_yuan(figures.collected_fen)} 元，"
        f"期末欠费 {_yuan(figures.closing_fen)} 元：{args.out}"
    )
    return 0


def _cmd_reconcile(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.errors import UserError
    from yuexiu_desk.services import reconcile as svc

    if args.reconcile_command == "import":
        mapping = {}
        for item in args.map:
            field, sep, column = item.partition("=")
            if not sep or not column.strip():
                raise UserError(f"--map “{item}”格式不对，请写成 字段=列名，例如 amount=贷方金额。")
            mapping[field.strip()] = column.strip()
        from yuexiu_desk.services.backups import make_backup

        if args.statement.is_file():  # a missing file is explained by the import; no copy needed for that
            make_backup(store, "before-import")
        with store.unit_of_work() as session:
            result = svc.import_statement(
                session, args.statement, args.month, session.info["operator"], mapping or None
            )
            state = svc.reconciliation(session, args.month)
        print(svc.describe_import(result))
        print(svc.describe(state))
        return 0
    if args.reconcile_command == "confirm":
        with store.unit_of_work() as session:
            svc.confirm_matches(session, args.month, None, session.info["operator"])
            state = svc.reconciliation(session, args.month)
        print(svc.describe(state))
        return 0
    with store.read() as session:
        state = svc.reconciliation(session, args.month)
    print(svc.describe(state))
    return 0


def _cmd_month(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services import funds

    if args.month_command == "close":
        with store.unit_of_work() as session:
            figures = funds.close_month(session, args.month, session.info["operator"])
        print(f"{args.month} 已结账：期末欠费 {_yuan(figures.closing_fen)} 元。")
        return 0
    with store.unit_of_work() as session:
        funds.reopen_month(session, args.month, args.reason, session.info["operator"])
    print(f"{args.month} 已反结账，原因已记录。")
    return 0
