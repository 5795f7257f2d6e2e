"""Rent and lease deadlines: R1, L1, L2, L3 of domain-rules.md, and money in fen."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuexiu_desk.domain.leases import (
    LeaseRules,
    ProrateMethod,
    add_months,
    check_term,
    lease_deadlines,
    lease_end,
    monthly_rent_fen,
    prorated_rent_fen,
)
from yuexiu_desk.domain.money import format_yuan, yuan_to_fen
from yuexiu_desk.errors import UserError


def test_r1_rent_is_gross_area_times_standard_to_the_fen() -> None:
    assert monthly_rent_fen(5494, 1100) == 60434  # 54.94 m² × 11.00 元 = 604.34 元
    assert monthly_rent_fen(4200, 250) == 10500
    assert monthly_rent_fen(5805, 1234) == 71634  # 716.337 → 716.34 (half up)


def test_money_parses_what_a_clerk_types_and_prints_it_back() -> None:
    assert yuan_to_fen("604.34") == 60434
    assert yuan_to_fen("1,234.5") == 123450
    assert format_yuan(123456789) == "1,234,567.89"
    for bad in ["604.345", "abc", "NaN", "inf"]:
        with pytest.raises(UserError):
            yuan_to_fen(bad)


@given(st.integers(min_value=0, max_value=10**9))
def test_money_round_trips_through_text(fen: int) -> None:
    assert yuan_to_fen(format_yuan(fen)) == fen


def test_term_end_and_month_arithmetic() -> None:
    assert lease_end(date(2026, 1, 1), 36) == date(2028, 12, 31)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_l1_terms_over_five_years_need_a_reason() -> None:
    rules = LeaseRules()
    assert check_term(date(2026, 1, 1), date(2030, 12, 31), rules) == []
    with pytest.raises(UserError, match="理由"):
        check_term(date(2026, 1, 1), date(2031, 1, 1), rules)
    assert check_term(date(2026, 1, 1), date(2031, 6, 30), rules, "特困户安置，经房管局批准")
    with pytest.raises(UserError, match="早于"):
        check_term(date(2026, 1, 1), date(2025, 12, 31), rules)


def test_l2_l3_deadlines_follow_the_rules_settings() -> None:
    deadlines = lease_deadlines(date(2026, 1, 5), date(2028, 12, 31), LeaseRules())
    assert deadlines.renewal_application_due == date(2028, 9, 30)
    assert deadlines.renewal_reminder == date(2028, 8, 31)
    assert deadlines.filing_due == date(2026, 2, 4)
    assert deadlines.filing_alert == date(2026, 1, 30)
    local = lease_deadlines(date(2026, 1, 5), date(2028, 12, 31), LeaseRules(renewal_application_months=1))
    assert local.renewal_application_due == date(2028, 11, 30)


def test_prorata_by_days_in_month_or_thirty() -> None:
    june = date(2026, 6, 1)
    assert prorated_rent_fen(60434, june, june, date(2026, 6, 30), ProrateMethod.DAYS_IN_MONTH) == 60434
    assert prorated_rent_fen(60434, june, june, date(2026, 6, 15), ProrateMethod.DAYS_IN_MONTH) == 30217
    july = date(2026, 7, 1)
    assert prorated_rent_fen(60000, july, july, date(2026, 7, 10), ProrateMethod.THIRTY_DAYS) == 20000
    assert prorated_rent_fen(60000, july, july, date(2026, 7, 10), ProrateMethod.DAYS_IN_MONTH) == 19355
