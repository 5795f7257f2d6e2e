"""The command line of the audit log: `audit verify` walks the hash chain, `audit list` shows the newest entries.

Registered by cli.build_parser; runs on the open store (dispatch). Qt-free like all of the CLI.
Exit codes of verify: 0 intact (the entry count and the head are printed), 1 broken (the first bad entry named).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

COMMANDS = ("audit",)


def add_parsers(
    sub: Any, parser_class: type[argparse.ArgumentParser], date_type: Callable[[str], Any]
) -> None:
    audit = sub.add_parser("audit", help="审计日志：校验哈希链、查看最近的记录")
    audit_sub = audit.add_subparsers(dest="audit_command", parser_class=parser_class, required=True)
    audit_sub.add_parser("verify", help="逐条校验审计日志的哈希链，指出第一条有问题的记录")
    listing = audit_sub.add_parser("list", help="列出最近的审计记录（新的在前）")
    listing.add_argument("--limit", type=int, default=50, help="最多列出多少条（默认 50）")
    listing.add_argument("--format", choices=["table", "json"], default="table")


def dispatch(store: Any, args: argparse.Namespace) -> int:
    handler: Callable[[Any, argparse.Namespace], int] = {
        "verify": _cmd_verify,
        "list": _cmd_list,
    }[args.audit_command]
    return handler(store, args)


def _cmd_verify(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.audit import verify_as_reader

    with store.read() as session:
        result = verify_as_reader(session)
    if result.ok:
        print(f"审计日志完好：共 {result.count} 条。")
        if result.count:
            # Written down or sent elsewhere, the head lets a later check see a chain rewritten from scratch.
            print(f"链头：第 {result.head_seq} 条，哈希 {result.head_hash}")
        return 0
    print(f"审计日志已被改动：第 {result.first_bad_seq} 条起不可信。{result.reason}。")
    print(f"（此前的 {result.count} 条校验无误。）")
    return 1


def _cmd_list(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.audit import latest

    with store.read() as session:
        entries = latest(session, args.limit)
    if args.format == "json":
        print(json.dumps([e.as_json() for e in entries], ensure_ascii=False, indent=1))
        return 0
    for e in entries:
        detail = json.dumps(e.detail, ensure_ascii=False, separators=(",", ":")) if e.detail else ""
        print(
            f"{e.seq:>7}  {e.at[:19].replace('T', ' ')}  {e.operator}  {e.action_label}  {e.subject}  {detail}".rstrip()
        )
    print(f"共列出 {len(entries)} 条（时间为 UTC）。")
    return 0
