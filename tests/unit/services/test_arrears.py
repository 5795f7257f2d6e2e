"""Arrears ageing, the arrears ladder (L7) and the dunning ledger (催缴台账) on the demo's year of history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.billing import DEFAULT_BILLING, BillingRules, DunningMethod, DunningStage, Period
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import arrears as svc
from yuexiu_desk.services import billing
from yuexiu_desk.storage.billing_models import DunningAction
from yuexiu_desk.storage.db import Store

TODAY = date(2026, 11, 20)


def test_demo_has_households_at_every_step_of_the_ladder(demo_store: Store) -> None:
    """The arrears ladder: 1 month → reminder, 3 → notice and visit, 6 cumulative → L7 termination."""
    with demo_store.read() as session:
        rows = svc.arrears(session)
    counts = svc.stage_counts(rows)
    assert counts[DunningStage.REMINDER] >= 2
    assert counts[DunningStage.NOTICE] >= 2
    assert counts[DunningStage.TERMINATION] >= 1
    for row in rows:
        assert row.stage is DEFAULT_BILLING.stage_for(row.months_overdue)
        assert row.months_overdue == len(row.overdue_periods)
        assert row.amount_due_fen == sum(fen for _p, fen in row.overdue_periods)
        assert row.unit_code and row.leaseholder


def test_l7_household_is_flagged_for_the_manager(demo_store: Store) -> None:
    """L7: cumulative arrears of 6 months or more → termination notice and legal referral, manager decides."""
    with demo_store.read() as session:
        rows = svc.arrears(session, stage=DunningStage.TERMINATION)
    assert rows
    assert all(r.months_overdue >= 6 and r.needs_manager for r in rows)
    assert rows[0].as_json()["needs_manager"] is True


def test_months_overdue_count_only_bills_past_their_due_day(demo_store: Store) -> None:
    """A month's bill falls due 10 days after the month ends ([U] setting); before that it is not arrears."""
    with demo_store.read() as session:
        rows = svc.arrears(session)
    for row in rows:
        for period, _fen in row.overdue_periods:
            assert DEFAULT_BILLING.due_on(Period.parse(period)) < TODAY
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.run_bills(session, Period(2026, 11), "财务")
        after = {r.household_id: r.months_overdue for r in svc.arrears(session)}
    assert after == {r.household_id: r.months_overdue for r in rows}


def test_ladder_thresholds_are_settings(demo_store: Store) -> None:
    """Local rules vary (徐州 terminates at 3 months): the ladder is data, not code."""
    strict = BillingRules(
        ladder=((1, DunningStage.REMINDER), (2, DunningStage.NOTICE), (3, DunningStage.TERMINATION))
    )
    with demo_store.read() as session:
        default = svc.arrears(session)
        rows = svc.arrears(session, rules=strict)
    assert sum(r.stage is DunningStage.TERMINATION for r in rows) > sum(
        r.stage is DunningStage.TERMINATION for r in default
    )


def test_ageing_is_cumulative_not_consecutive(demo_store: Store) -> None:
    """L7 counts months unpaid in total: paying a month in between does not reset the count."""
    with demo_store.read() as session:
        row = svc.arrears(session, stage=DunningStage.TERMINATION)[0]
        bills = billing.open_bills(session, row.household_id)
    middle = bills[len(bills) // 2]
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.record_payment(
            session,
            billing.PaymentInput(
                row.unit_code, _yuan(middle.open_fen), billing.Channel.CASH, bill_ids=(middle.bill_id,)
            ),
            "财务",
        )
        after = svc.arrears_of_unit(session, row.unit_code)
    periods = [p for p, _fen in after.overdue_periods]
    assert middle.period not in periods
    assert periods[0] < middle.period < periods[-1]  # the open months are no longer consecutive
    assert after.months_overdue == row.months_overdue - 1


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def test_dunning_steps_are_dated_records_with_proof(demo_store: Store) -> None:
    with demo_store.read() as session:
        row = svc.arrears(session, stage=DunningStage.REMINDER)[0]
    with pytest.raises(UserError, match="送达凭证"), demo_store.unit_of_work() as session:
        svc.record_dunning(session, svc.DunningInput(row.unit_code, DunningMethod.VISIT), "王芳")
    with pytest.raises(UserError, match="不能晚于今天"), demo_store.unit_of_work() as session:
        svc.record_dunning(
            session, svc.DunningInput(row.unit_code, DunningMethod.PHONE, TODAY + timedelta(days=1)), "王芳"
        )
    with demo_store.unit_of_work(system_operator("王芳")) as session:
        svc.record_dunning(
            session,
            svc.DunningInput(row.unit_code, DunningMethod.PHONE, TODAY, "答应周五前缴清", "通话记录 14:05"),
            "王芳",
        )
        history = svc.dunning_history(session, row.unit_code)
        refreshed = svc.arrears_of_unit(session, row.unit_code)
    latest = history[0]
    assert (latest.done_on, latest.method, latest.outcome, latest.operator) == (
        TODAY,
        DunningMethod.PHONE,
        "答应周五前缴清",
        "王芳",
    )
    assert latest.stage is row.stage and latest.months_overdue == row.months_overdue
    assert refreshed.last_action_on == TODAY and "答应周五前缴清" in refreshed.last_action


def test_dunning_a_household_that_owes_nothing_is_refused(demo_store: Store) -> None:
    with demo_store.read() as session:
        owing = {r.unit_code for r in svc.arrears(session)}
        code = next(
            c
            for c in ("1-1-101", "1-1-102", "1-1-103", "1-1-201", "1-1-202", "1-1-203")
            if c not in owing and _has_lease(session, c)
        )
    with pytest.raises(UserError, match="没有逾期欠费"), demo_store.unit_of_work() as session:
        svc.record_dunning(session, svc.DunningInput(code, DunningMethod.PHONE), "王芳")


def _has_lease(session, code: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        billing.current_lease_for_unit(session, code)
    except UserError:
        return False
    return True


def test_notices_are_numbered_and_recorded_per_household(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator("王芳")) as session:
        issued = svc.issue_notices(session, stage=DunningStage.NOTICE, operator="王芳")
        more = svc.issue_notices(session, unit_codes=[issued[0].row.unit_code], operator="王芳")
        recorded = session.scalar(
            select(func.count()).select_from(DunningAction).where(DunningAction.notice_no != "")
        )
    numbers = [n.notice_no for n in issued + more]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("YXY01-CJ2026-") for n in numbers)
    tails = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert tails == sorted(tails) and tails[-1] - tails[0] == len(tails) - 1
    assert all(n.row.stage is DunningStage.NOTICE for n in issued)
    assert recorded == len(numbers)
