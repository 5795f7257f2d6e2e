"""Arrears (欠费) and dunning (催缴): who owes what and for how many months, where each household stands on the
arrears ladder (L7), the dated record of every step taken (催缴台账), and numbered reminder notices.

Months overdue count billing months with money still open after their due day, cumulatively (L7 counts
"累计", not consecutive months). Current figures come from the account cache kept by services.billing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.billing import (
    DEFAULT_BILLING,
    BillingRules,
    DunningMethod,
    DunningStage,
    Period,
)
from yuexiu_desk.domain.leases import LeaseStatus
from yuexiu_desk.domain.money import fen_to_decimal
from yuexiu_desk.errors import UserError
from yuexiu_desk.services.access import require
from yuexiu_desk.services.billing import next_number
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.billing_models import DunningAction
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import Lease


@dataclass(frozen=True)
class ArrearsRow:
    household_id: uuid.UUID
    unit_code: str
    leaseholder: str
    lease_no: str
    lease_status: LeaseStatus
    months_overdue: int
    amount_due_fen: int  # open on bills past their due day
    balance_fen: int  # everything owed, due or not (< 0: credit)
    overdue_periods: tuple[tuple[str, int], ...]  # (YYYY-MM, open fen), oldest first
    stage: DunningStage
    last_action_on: date | None
    last_action: str  # e.g. "电话：答应月底前缴清"

    @property
    def needs_manager(self) -> bool:
        """L7: cumulative arrears at the last step of the ladder go to the station manager."""
        return self.stage is DunningStage.TERMINATION

    def as_json(self) -> dict[str, Any]:
        return {
            "unit_code": self.unit_code,
            "leaseholder": self.leaseholder,
            "lease_no": self.lease_no,
            "months_overdue": self.months_overdue,
            "amount_due": f"{fen_to_decimal(self.amount_due_fen):.2f}",
            "balance": f"{fen_to_decimal(self.balance_fen):.2f}",
            "stage": self.stage.value,
            "stage_label": self.stage.label,
            "oldest_period": self.overdue_periods[0][0] if self.overdue_periods else "",
            "last_action_on": self.last_action_on.isoformat() if self.last_action_on else "",
            "needs_manager": self.needs_manager,
        }


def overdue_periods(open_periods: dict[str, int], today: date, rules: BillingRules) -> list[tuple[str, int]]:
    return [
        (period, fen)
        for period, fen in sorted(open_periods.items())
        if fen > 0 and rules.due_on(Period.parse(period)) < today
    ]


def _chunks(ids: Sequence[uuid.UUID], size: int = 500) -> list[Sequence[uuid.UUID]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def arrears(
    session: Session,
    today: date | None = None,
    rules: BillingRules = DEFAULT_BILLING,
    stage: DunningStage | None = None,
    household_ids: Sequence[uuid.UUID] | None = None,
) -> list[ArrearsRow]:
    """Households with overdue money, most months first (then the larger amount).

    Read with plain SQL joined to the owing accounts: at bureau scale thousands of households owe, and ORM
    rows would cost several times the query.
    """
    today = today or local_date(session.info["clock"].now())
    session.flush()
    connection = session.connection()
    where = "account.open_fen > 0"
    params: tuple[Any, ...] = ()
    if household_ids is not None:
        where += f" AND account.household_id IN ({', '.join('?' * len(household_ids))})"
        params = tuple(h.hex for h in household_ids)
    due_by_period: dict[str, bool] = {}

    def overdue_now(period: str) -> bool:
        if period not in due_by_period:
            due_by_period[period] = rules.due_on(Period.parse(period)) < today
        return due_by_period[period]

    # One pass over the owing accounts with each household's leases (newest wins), unit and leaseholder.
    owing: dict[str, tuple[int, list[tuple[str, int]]]] = {}
    leases: dict[str, tuple[str, str, str, str]] = {}
    names: dict[str, str] = {}
    parsed: dict[str, list[tuple[str, int]] | None] = {}
    for household_id, balance, periods, lease_no, status, start, code, name in connection.exec_driver_sql(
        "SELECT account.household_id, account.balance_fen, account.open_periods, lease.lease_no, "
        "lease.status, lease.start_date, unit.code, member.name FROM account "
        # CROSS JOIN keeps SQLite from starting at the lease table: the few owing accounts come first.
        "CROSS JOIN lease ON lease.household_id = account.household_id AND lease.status != 'superseded' "
        "JOIN unit ON unit.id = lease.unit_id "
        "LEFT JOIN household_member AS member "
        "ON member.household_id = account.household_id AND member.is_leaseholder "
        f"WHERE {where}",
        params,
    ).all():
        if household_id not in parsed:
            overdue = [
                (p, fen) for p, fen in sorted(json.loads(periods).items()) if fen > 0 and overdue_now(p)
            ]
            parsed[household_id] = overdue or None
            if overdue:
                owing[household_id] = (balance, overdue)
        if parsed[household_id] is None:
            continue
        known = leases.get(household_id)
        if known is None or start > known[3]:
            leases[household_id] = (lease_no, status, code, start)
        if name:
            names[household_id] = name
    actions: dict[str, tuple[str, str, str, str]] = {}
    for household_id, done_on, method, notice_no, outcome in connection.exec_driver_sql(
        "SELECT d.household_id, d.done_on, d.method, d.notice_no, d.outcome FROM dunning_action AS d "
        f"JOIN account ON account.household_id = d.household_id WHERE {where} "
        "ORDER BY d.done_on, d.created_at",
        params,
    ).all():
        actions[household_id] = (done_on, method, notice_no, outcome)
    rows = []
    for household_id, (balance, overdue) in owing.items():
        lease_no, status, code, _start = leases.get(household_id, ("", LeaseStatus.ENDED.value, "", ""))
        months = len(overdue)
        row_stage = rules.stage_for(months)
        if stage is not None and row_stage is not stage:
            continue
        last = actions.get(household_id)
        rows.append(
            ArrearsRow(
                household_id=uuid.UUID(hex=household_id),
                unit_code=code,
                leaseholder=names.get(household_id, ""),
                lease_no=lease_no,
                lease_status=LeaseStatus(status),
                months_overdue=months,
                amount_due_fen=sum(fen for _p, fen in overdue),
                balance_fen=balance,
                overdue_periods=tuple(overdue),
                stage=row_stage,
                last_action_on=date.fromisoformat(last[0]) if last else None,
                last_action=_describe(*last[1:]) if last else "",
            )
        )
    rows.sort(key=lambda r: (-r.months_overdue, -r.amount_due_fen, r.unit_code))
    return rows


def _describe(method: str, notice_no: str, outcome: str) -> str:
    text = DunningMethod(method).label
    if notice_no:
        text += f" {notice_no}"
    if outcome:
        text += f"：{outcome}"
    return text


def arrears_of_unit(session: Session, unit_code: str, rules: BillingRules = DEFAULT_BILLING) -> ArrearsRow:
    household_id = _household_of_unit(session, unit_code)
    rows = arrears(session, rules=rules, household_ids=[household_id])
    if not rows:
        raise UserError(f"房源 {unit_code.strip()} 的住户目前没有逾期欠费，无需催缴。")
    return rows[0]


def _household_of_unit(session: Session, unit_code: str) -> uuid.UUID:
    unit_id = find_unit_id_by_code(session, unit_code)
    household_id = session.scalar(
        select(Lease.household_id)
        .where(Lease.unit_id == unit_id)
        .order_by(Lease.start_date.desc(), Lease.version.desc())
        .limit(1)
    )
    if household_id is None:
        raise UserError(f"房源 {unit_code.strip()} 没有租赁记录。")
    return household_id


@dataclass(frozen=True)
class DunningInput:
    unit_code: str
    method: DunningMethod
    done_on: date | None = None  # default today
    outcome: str = ""
    proof: str = ""  # proof of delivery: who signed, photo or file number, SMS receipt …
    # Given by the arrears list: a debtor who moved out stays the one dunned after the unit is let again.
    household_id: uuid.UUID | None = None


def arrears_of_household(
    session: Session, household_id: uuid.UUID, rules: BillingRules = DEFAULT_BILLING
) -> ArrearsRow:
    rows = arrears(session, rules=rules, household_ids=[household_id])
    if not rows:
        raise UserError("这一户目前没有逾期欠费，无需催缴。")
    return rows[0]


def record_dunning(
    session: Session, data: DunningInput, operator: str, rules: BillingRules = DEFAULT_BILLING
) -> uuid.UUID:
    """One step taken with a household in arrears, dated, with how, the outcome and proof of delivery."""
    require(session, "dunning.record")
    if data.household_id is not None:
        row = arrears_of_household(session, data.household_id, rules)
    else:
        row = arrears_of_unit(session, data.unit_code, rules)
    today = local_date(session.info["clock"].now())
    done_on = data.done_on or today
    if done_on > today:
        raise UserError("催缴日期不能晚于今天。")
    if data.method in (DunningMethod.NOTICE, DunningMethod.VISIT) and not data.proof.strip():
        raise UserError("书面通知和上门催缴要写明送达凭证（签收人、照片或回执编号）。")
    return _add_action(session, row, data.method, done_on, data.outcome, data.proof, "", operator)


def _add_action(
    session: Session,
    row: ArrearsRow,
    method: DunningMethod,
    done_on: date,
    outcome: str,
    proof: str,
    notice_no: str,
    operator: str,
) -> uuid.UUID:
    action = DunningAction(
        household_id=row.household_id,
        lease_no=row.lease_no,
        stage=row.stage.value,
        method=method.value,
        done_on=done_on,
        months_overdue=row.months_overdue,
        amount_due_fen=row.amount_due_fen,
        notice_no=notice_no,
        outcome=outcome.strip(),
        proof=proof.strip(),
        operator=operator,
        created_at=session.info["clock"].now(),
    )
    session.add(action)
    session.flush()
    return action.id


@dataclass(frozen=True)
class IssuedNotice:
    action_id: uuid.UUID
    notice_no: str
    row: ArrearsRow
    issued_on: date


def issue_notices(
    session: Session,
    unit_codes: Sequence[str] = (),
    stage: DunningStage | None = None,
    operator: str = "",
    rules: BillingRules = DEFAULT_BILLING,
    household_ids: Sequence[uuid.UUID] = (),
) -> list[IssuedNotice]:
    """Number and record reminder notices (催缴通知书) for the given households (or units), or for every
    household at a stage.

    Each notice is a dunning step of method "notice" whose proof of delivery is added when the signed slip
    comes back.
    """
    require(session, "dunning.record")
    if household_ids:
        rows = [arrears_of_household(session, household_id, rules) for household_id in household_ids]
    elif unit_codes:
        rows = [arrears_of_unit(session, code, rules) for code in unit_codes]
    else:
        rows = arrears(session, rules=rules, stage=stage)
        rows = [r for r in rows if r.stage is not DunningStage.NONE]
    if not rows:
        raise UserError("没有需要发催缴通知书的住户。")
    today = local_date(session.info["clock"].now())
    station = require_station(session)
    issued = []
    for row in rows:
        number = next_number(session, f"notice-{today.year}")
        notice_no = f"{station.code}-CJ{today.year}-{number:05d}"
        action_id = _add_action(
            session, row, DunningMethod.NOTICE, today, "已开具催缴通知书，待送达", "", notice_no, operator
        )
        issued.append(IssuedNotice(action_id, notice_no, row, today))
    return issued


@dataclass(frozen=True)
class DunningEntry:
    done_on: date
    stage: DunningStage
    method: DunningMethod
    months_overdue: int
    amount_due_fen: int
    notice_no: str
    outcome: str
    proof: str
    operator: str


def dunning_history(session: Session, unit_code: str) -> list[DunningEntry]:
    household_id = _household_of_unit(session, unit_code)
    return [
        DunningEntry(
            a.done_on,
            DunningStage(a.stage),
            DunningMethod(a.method),
            a.months_overdue,
            a.amount_due_fen,
            a.notice_no,
            a.outcome,
            a.proof,
            a.operator,
        )
        for a in session.scalars(
            select(DunningAction)
            .where(DunningAction.household_id == household_id)
            .order_by(DunningAction.done_on.desc(), DunningAction.created_at.desc())
        )
    ]


def stage_counts(rows: Sequence[ArrearsRow]) -> dict[DunningStage, int]:
    counts = dict.fromkeys(DunningStage, 0)
    for row in rows:
        counts[row.stage] += 1
    return counts
