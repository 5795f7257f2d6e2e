"""Billing arithmetic without storage, as properties: billing months, allocation of money to bills, a month's
rent across lease versions (R1) and the arrears ladder (L7)."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuexiu_desk.domain.billing import (
    DEFAULT_BILLING,
    DunningStage,
    OpenItem,
    Period,
    RentVersion,
    allocate,
    rent_for_period,
)
from yuexiu_desk.domain.leases import ProrateMethod
from yuexiu_desk.errors import UserError

periods = st.builds(
    Period, st.integers(min_value=2000, max_value=2200), st.integers(min_value=1, max_value=12)
)
monthly_rents = st.integers(min_value=1, max_value=2_000_000)  # up to 20,000.00 元 a month


# ---- billing months ----------------------------------------------------------------------------------------


@given(periods, st.integers(min_value=-1200, max_value=1200))
def test_shifting_a_period_and_counting_the_months_back_round_trip(period: Period, months: int) -> None:
    later = period.shifted(months)
    assert period.months_until(later) == months
    assert later.months_until(period) == -months
    assert later.shifted(-months) == period
    assert 1 <= later.month <= 12
    assert (later > period) == (months > 0) and (later == period) == (months == 0)


@given(periods)
def test_a_period_prints_and_parses_back_and_spans_its_calendar_month(period: Period) -> None:
    assert Period.parse(str(period)) == period
    assert Period.of(period.first_day) == Period.of(period.last_day) == period
    assert (period.last_day - period.first_day).days + 1 == period.days
    assert period.last_day + timedelta(days=1) == period.shifted(1).first_day
    assert period.shifted(-1).last_day + timedelta(days=1) == period.first_day


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "1999-12", "2026/10", "202610", ""])
def test_a_period_that_is_not_a_month_is_refused(text: str) -> None:
    with pytest.raises(UserError):
        Period.parse(text)


# ---- allocation of a payment to open bills -----------------------------------------------------------------


open_item_lists = st.lists(
    st.builds(
        OpenItem,
        key=st.uuids(),
        order=st.tuples(
            periods.map(str),
            st.integers(min_value=1, max_value=5).map(lambda p: f"{p:03d}"),
            st.integers(min_value=1, max_value=3),
        ),
        open_fen=st.integers(min_value=-5_000, max_value=200_000),
    ),
    max_size=12,
    unique_by=lambda item: item.key,
)


@given(st.integers(min_value=0, max_value=1_000_000), open_item_lists)
def test_allocation_never_over_allocates_and_money_in_equals_applied_plus_credit(
    amount: int, items: list[OpenItem]
) -> None:
    before = {item.key: item.open_fen for item in items}
    applied, left = allocate(amount, items)
    assert sum(fen for _key, fen in applied) + left == amount
    assert left >= 0
    keys = [key for key, _fen in applied]
    assert len(keys) == len(set(keys))  # no bill is paid twice by one allocation
    for key, fen in applied:
        assert (
            0 < fen <= before[key]
        )  # never more than the bill still owes; nothing to a bill that owes nothing
    owed = sum(max(fen, 0) for fen in before.values())
    assert left == max(amount - owed, 0)  # credit only once every open bill is paid in full
    assert {item.key: item.open_fen for item in items} == before  # the caller's items are left as they were


@given(st.integers(min_value=0, max_value=1_000_000), open_item_lists)
def test_allocation_pays_the_oldest_bills_first(amount: int, items: list[OpenItem]) -> None:
    applied = dict(allocate(amount, items)[0])
    ordered = sorted((item for item in items if item.open_fen > 0), key=lambda item: item.order)
    # Walking oldest first, the bills are paid in full up to one (perhaps) part-paid, then nothing.
    reached_unpaid = False
    for item in ordered:
        paid = applied.get(item.key, 0)
        if reached_unpaid:
            assert paid == 0
        elif paid < item.open_fen:
            reached_unpaid = True


def test_allocation_refuses_a_negative_amount() -> None:
    with pytest.raises(ValueError):
        allocate(-1, [])


# ---- R1: the rent of a month across lease versions ---------------------------------------------------------


@given(
    periods,
    monthly_rents,
    st.integers(min_value=0, max_value=3000),
    st.sampled_from(list(ProrateMethod)),
    st.booleans(),
)
def test_r1_a_whole_month_under_one_version_is_the_monthly_rent(
    period: Period, monthly: int, days_before: int, method: ProrateMethod, still_living_there: bool
) -> None:
    start = period.first_day - timedelta(days=days_before)
    last_day = None if still_living_there else period.last_day + timedelta(days=days_before)
    billed = rent_for_period([RentVersion(start, monthly)], start, last_day, period, method)
    assert billed == (monthly, period.first_day, period.last_day, "")


@st.composite
def split_months(draw: st.DrawFn) -> tuple[Period, list[RentVersion], date, date | None]:
    """A month, lease versions that change inside it (and perhaps before it), and an occupancy."""
    period = draw(periods)
    days = period.days
    change_days = sorted(draw(st.sets(st.integers(min_value=2, max_value=days), max_size=4)))
    starts = [period.first_day - timedelta(days=draw(st.integers(min_value=0, max_value=400)))]
    starts += [period.first_day + timedelta(days=d - 1) for d in change_days]
    versions = [RentVersion(s, draw(monthly_rents)) for s in starts]
    # 0 (drawn about half the time, so whole months are common): moved in before the month
    first = draw(st.just(0) | st.integers(min_value=1, max_value=days))
    moved_in = starts[0] if first == 0 else max(starts[0], period.first_day + timedelta(days=first - 1))
    last = draw(st.just(0) | st.integers(min_value=1, max_value=days))  # 0: still there after the month
    moved_out = None if last == 0 else period.first_day + timedelta(days=last - 1)
    return period, versions, moved_in, moved_out


def _segments(
    period: Period, versions: list[RentVersion], moved_in: date, moved_out: date | None
) -> list[tuple[int, int]]:
    """(monthly rent, days billed at it) for each version's part of the occupied days of the month."""
    start = max(moved_in, period.first_day)
    end = period.last_day if moved_out is None else min(moved_out, period.last_day)
    result = []
    day = start
    while day <= end:
        in_force = max((v for v in versions if v.effective_from <= day), key=lambda v: v.effective_from)
        if result and result[-1][0] is in_force:
            result[-1] = (in_force, result[-1][1] + 1)
        else:
            result.append((in_force, 1))
        day += timedelta(days=1)
    return [(version.monthly_rent_fen, count) for version, count in result]


@given(split_months())
def test_r1_a_month_split_across_versions_is_billed_day_by_day_to_within_a_fen_per_segment(
    case: tuple[Period, list[RentVersion], date, date | None],
) -> None:
    period, versions, moved_in, moved_out = case
    billed = rent_for_period(versions, moved_in, moved_out, period, ProrateMethod.DAYS_IN_MONTH)
    segments = _segments(period, versions, moved_in, moved_out)
    if not segments:
        assert billed is None  # moved out before moving in this month: nothing to bill
        return
    assert billed is not None
    total, first, last, _detail = billed
    assert first == max(moved_in, period.first_day)
    assert last == (period.last_day if moved_out is None else min(moved_out, period.last_day))
    exact = sum(Fraction(rent * days, period.days) for rent, days in segments)
    assert abs(total - exact) <= Fraction(len(segments), 2)  # half a fen of rounding per segment at most


@given(split_months(), st.sampled_from(list(ProrateMethod)))
def test_r1_a_version_that_keeps_the_rent_does_not_change_the_month_bill(
    case: tuple[Period, list[RentVersion], date, date | None], method: ProrateMethod
) -> None:
    """A renewal or tier change at the same rent splits the month into segments; the tenant still owes the
    same as if the lease had one version (to within half a fen per segment of rounding)."""
    period, versions, moved_in, moved_out = case
    rent = versions[0].monthly_rent_fen
    same_rent = [RentVersion(v.effective_from, rent) for v in versions]
    split = rent_for_period(same_rent, moved_in, moved_out, period, method)
    whole = rent_for_period(same_rent[:1], moved_in, moved_out, period, method)
    assert (split is None) == (whole is None)
    if split is not None and whole is not None:
        segments = len(_segments(period, same_rent, moved_in, moved_out))
        assert abs(split[0] - whole[0]) <= Fraction(segments, 2)


def test_r1_thirty_day_method_a_july_split_at_the_16th_is_one_month_of_rent() -> None:
    """Minimal case of the property above: 604.34 元 a month, a new version (same rent) from 16 July."""
    versions = [RentVersion(date(2026, 1, 1), 60434), RentVersion(date(2026, 7, 16), 60434)]
    billed = rent_for_period(versions, date(2026, 1, 1), None, Period(2026, 7), ProrateMethod.THIRTY_DAYS)
    assert billed is not None
    assert billed[0] == 60434  # not 15/30 + 16/30 of a month = 624.48 元


def test_r1_no_versions_or_no_day_of_the_month_bills_nothing() -> None:
    version = RentVersion(date(2026, 3, 1), 60434)
    method = ProrateMethod.DAYS_IN_MONTH
    assert rent_for_period([], date(2026, 3, 1), None, Period(2026, 3), method) is None
    assert rent_for_period([version], date(2026, 4, 1), None, Period(2026, 3), method) is None
    assert rent_for_period([version], date(2026, 1, 1), date(2026, 2, 28), Period(2026, 3), method) is None


# ---- the arrears ladder (L7) -------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=120), st.integers(min_value=0, max_value=120))
def test_l7_the_ladder_only_climbs_with_more_months_overdue(fewer: int, more: int) -> None:
    fewer, more = sorted((fewer, more))
    order = list(DunningStage)
    assert order.index(DEFAULT_BILLING.stage_for(fewer)) <= order.index(DEFAULT_BILLING.stage_for(more))


@given(st.integers(min_value=0, max_value=120))
def test_l7_six_months_cumulative_is_termination_and_none_overdue_is_nothing(months: int) -> None:
    stage = DEFAULT_BILLING.stage_for(months)
    assert (stage is DunningStage.TERMINATION) == (months >= 6)
    assert (stage is DunningStage.NONE) == (months == 0)
    if 1 <= months < 3:
        assert stage is DunningStage.REMINDER
    elif 3 <= months < 6:
        assert stage is DunningStage.NOTICE
