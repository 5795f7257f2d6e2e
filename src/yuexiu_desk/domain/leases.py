"""Lease arithmetic and deadlines: rent from area and standard (R1), term (L1), renewal (L2), filing (L3).

Thresholds marked [U] in domain-rules.md are fields of LeaseRules with those defaults, never constants.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from yuexiu_desk.domain.choices import parse_choice
from yuexiu_desk.domain.money import round_half_up_div
from yuexiu_desk.errors import UserError


class ProrateMethod(StrEnum):
    DAYS_IN_MONTH = "days_in_month"  # monthly rent ÷ days in that month × days used
    THIRTY_DAYS = "thirty_days"  # monthly rent ÷ 30 × days used


@dataclass(frozen=True)
class LeaseRules:
    max_term_years: int = 5  # L1: "一般不超过5年"; above it needs a stated reason
    renewal_application_months: int = 3  # L2: apply ≥ 3 months before the end
    renewal_reminder_months: int = 4  # L2: remind a month before that
    filing_days: int = 30  # L3: file with the bureau within 30 days of signing
    filing_alert_day: int = 25  # L3: alert from day 25
    prorate_method: ProrateMethod = ProrateMethod.DAYS_IN_MONTH  # R1 [U]
    relocation_days: int = 90  # L9: the "合理的搬迁期" after a termination, at the contract rent [U]


DEFAULT_RULES = LeaseRules()


def monthly_rent_fen(gross_area_hundredths: int, rate_fen_per_m2: int) -> int:
    """R1: rent = gross area × rent standard, rounded half up to the fen. 54.94 m² × 11.00 元 = 604.34 元."""
    if gross_area_hundredths <= 0 or rate_fen_per_m2 <= 0:
        raise UserError("面积和租金标准都必须大于零。")
    return round_half_up_div(gross_area_hundredths * rate_fen_per_m2, 100)


def add_months(day: date, months: int) -> date:
    """The same day n months later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def lease_end(start: date, term_months: int) -> date:
    """The last day of a term that starts on start: 2026-01-01 for 36 months ends 2028-12-31."""
    if term_months < 1:
        raise UserError("租期至少 1 个月。")
    return add_months(start, term_months) - timedelta(days=1)


def check_term(start: date, end: date, rules: LeaseRules, override_reason: str = "") -> list[str]:
    """Refuses an end before the start; returns warnings (L1) that need an override reason to proceed."""
    if end < start:
        raise UserError(f"合同结束日期 {end} 早于开始日期 {start}，请核对。")
    warnings = []
    if end >= add_months(start, rules.max_term_years * 12):
        warning = f"租期超过 {rules.max_term_years} 年（公租房租期一般不超过 5 年）"
        if not override_reason.strip():
            raise UserError(f"{warning}，如确需签订请填写理由。")
        warnings.append(f"{warning}：{override_reason.strip()}")
    return warnings


@dataclass(frozen=True)
class LeaseDeadlines:
    renewal_reminder: date  # L2: remind the household
    renewal_application_due: date  # L2: last day to apply for renewal
    filing_due: date  # L3: last day to file with the bureau
    filing_alert: date  # L3: from this day the filing shows as urgent


def lease_deadlines(signed: date, end: date, rules: LeaseRules) -> LeaseDeadlines:
    return LeaseDeadlines(
        renewal_reminder=add_months(end, -rules.renewal_reminder_months),
        renewal_application_due=add_months(end, -rules.renewal_application_months),
        filing_due=signed + timedelta(days=rules.filing_days),
        filing_alert=signed + timedelta(days=rules.filing_alert_day),
    )


def _basis_day(day: date, days_in_month: int, method: ProrateMethod) -> int:
    """How many billing days of its month have passed at the end of day.

    Under the 30-day method every month has 30 billing days: day 31 adds none, and the last day of February
    completes the 30. So a month lived in whole is one month's rent however its days are split.
    """
    if method is ProrateMethod.DAYS_IN_MONTH:
        return day.day
    return 30 if day.day == days_in_month else min(day.day, 30)


def prorated_rent_fen(
    monthly_fen: int, month_start: date, first_day: date, last_day: date, method: ProrateMethod
) -> int:
    """Rent for the days first_day..last_day (inclusive) within the month starting month_start (R1)."""
    days_in_month = calendar.monthrange(month_start.year, month_start.month)[1]
    if not (month_start <= first_day <= last_day) or last_day.month != month_start.month:
        raise ValueError("the days must lie within one month")
    divisor = days_in_month if method is ProrateMethod.DAYS_IN_MONTH else 30
    before = 0 if first_day.day == 1 else _basis_day(first_day - timedelta(days=1), days_in_month, method)
    used = _basis_day(last_day, days_in_month, method) - before
    if used >= divisor:
        return monthly_fen
    return min(monthly_fen, round_half_up_div(monthly_fen * used, divisor))


class RentTier(StrEnum):
    """Rent tiers (L6): the standard rate, or the reduced rate for low-income households."""

    STANDARD = "standard"
    LOW_INCOME = "low_income"

    @property
    def label(self) -> str:
        return {RentTier.STANDARD: "标准租金", RentTier.LOW_INCOME: "低收入减免"}[self]


def parse_tier(text: str) -> RentTier:
    return parse_choice(RentTier, text, "租金档次")


class LeaseStatus(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"  # ended by notice or decision; the household has not moved out yet
    SUPERSEDED = "superseded"  # an older version of a lease that was changed or renewed (its terms still
    # applied from its effective_from until the next version's)
    ENDED = "ended"  # moved out and settled

    @property
    def label(self) -> str:
        return {
            LeaseStatus.ACTIVE: "生效",
            LeaseStatus.TERMINATED: "已解除待退出",
            LeaseStatus.SUPERSEDED: "已变更",
            LeaseStatus.ENDED: "已终止",
        }[self]


# The version of a lease that currently binds the household to its unit.
CURRENT_STATUSES = (LeaseStatus.ACTIVE.value, LeaseStatus.TERMINATED.value)


class TerminationKind(StrEnum):
    """Why a lease ends early or is not continued (L7, L8, L9, and the ordinary cases)."""

    EXPIRY = "expiry"
    TENANT_REQUEST = "tenant_request"
    ARREARS = "arrears"  # L7: cumulative arrears of 6 months or more
    SUBLET = "sublet"  # L8(1): 转借、转租、擅自调换
    CHANGE_OF_USE = "change_of_use"  # L8(2)
    DAMAGE = "damage"  # L8(3): damage or unauthorised renovation not restored
    ILLEGAL_ACTIVITY = "illegal_activity"  # L8(4)
    IDLE = "idle"  # L8(5): idle 6 consecutive months without good reason
    REVIEW_FAILED = "review_failed"  # L9: the renewal or eligibility review fails
    OTHER_HOME = "other_home"  # L9: the household obtained or rents other housing

    @property
    def label(self) -> str:
        return TERMINATION_LABELS[self]

    @property
    def is_violation(self) -> bool:
        """L8 acts: recorded in the file, with evidence, and barring re-application (L10)."""
        return self in {
            TerminationKind.SUBLET,
            TerminationKind.CHANGE_OF_USE,
            TerminationKind.DAMAGE,
            TerminationKind.ILLEGAL_ACTIVITY,
            TerminationKind.IDLE,
        }


TERMINATION_LABELS = {
    TerminationKind.EXPIRY: "合同期满不再续租",
    TerminationKind.TENANT_REQUEST: "承租人申请退租",
    TerminationKind.ARREARS: "累计欠租 6 个月以上",
    TerminationKind.SUBLET: "转借、转租或擅自调换",
    TerminationKind.CHANGE_OF_USE: "改变房屋用途",
    TerminationKind.DAMAGE: "破坏或擅自装修拒不恢复",
    TerminationKind.ILLEGAL_ACTIVITY: "在房屋内从事违法活动",
    TerminationKind.IDLE: "无正当理由连续 6 个月以上闲置",
    TerminationKind.REVIEW_FAILED: "资格复核不再符合条件",
    TerminationKind.OTHER_HOME: "已另有住房",
}


def parse_termination_kind(text: str) -> TerminationKind:
    return parse_choice(TerminationKind, text, "解除原因")
