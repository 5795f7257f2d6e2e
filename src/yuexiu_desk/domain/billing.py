"""Billing arithmetic without storage: billing months, rent of a month across lease versions (R1), payment
channels, allocation of money to bills, and the arrears ladder (L7).

Thresholds marked [U] in domain-rules.md are fields of BillingRules with those defaults, never constants.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property

from yuexiu_desk.domain.choices import parse_choice
from yuexiu_desk.domain.leases import ProrateMethod, prorated_rent_fen
from yuexiu_desk.errors import UserError

_PERIOD = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True, order=True)
class Period:
    """A billing month (账期), written YYYY-MM."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(text)
        if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
            raise UserError(f"“{text}”不是账期，请写成 YYYY-MM，例如 2026-10。")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    # Cached: a bill run asks each of these once per lease (50,000 times at bureau scale).
    @cached_property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @cached_property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    @cached_property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def shifted(self, months: int) -> Period:
        index = self.year * 12 + self.month - 1 + months
        return Period(index // 12, index % 12 + 1)

    def months_until(self, other: Period) -> int:
        """How many months from self to other (other − self)."""
        return (other.year - self.year) * 12 + other.month - self.month

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"


class Channel(StrEnum):
    """How money reached the station (缴费方式)."""

    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    BANK_WITHHOLDING = "bank_withholding"
    DEPOSIT = "deposit"  # the deposit applied to the last bills at move-out

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self]

    @property
    def via_bank(self) -> bool:
        """Money that shows on the station's bank statement, so reconciliation must find it there."""
        return self not in (Channel.CASH, Channel.DEPOSIT)


CHANNEL_LABELS = {
    Channel.CASH: "现金",
    Channel.BANK_TRANSFER: "银行转账",
    Channel.WECHAT: "微信",
    Channel.ALIPAY: "支付宝",
    Channel.BANK_WITHHOLDING: "银行代扣",
    Channel.DEPOSIT: "押金抵扣",
}
# The channels a clerk picks at the desk (the deposit is applied by the move-out settlement).
DESK_CHANNELS = (
    Channel.CASH,
    Channel.WECHAT,
    Channel.ALIPAY,
    Channel.BANK_TRANSFER,
    Channel.BANK_WITHHOLDING,
)


def parse_channel(text: str) -> Channel:
    return parse_choice(Channel, text, "缴费方式")


class ChargeMethod(StrEnum):
    LEASE_RENT = "lease_rent"  # the lease's monthly rent, across its versions
    PER_AREA = "per_area"  # the charge kind's rate × the unit's gross area
    MANUAL = "manual"  # entered bill by bill (metered water and electricity)


class DunningStage(StrEnum):
    """The arrears ladder (催缴阶梯) from the operator's bid; thresholds are BillingRules.ladder."""

    NONE = "none"
    REMINDER = "reminder"  # friendly reminder
    NOTICE = "notice"  # written reminder notice and home visit
    TERMINATION = "termination"  # L7: termination notice and legal referral

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    DunningStage.NONE: "未欠费",
    DunningStage.REMINDER: "友情提醒",
    DunningStage.NOTICE: "书面催缴并上门",
    DunningStage.TERMINATION: "解除合同并移交法务",
}


class DunningMethod(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    NOTICE = "notice"
    VISIT = "visit"
    LEGAL = "legal"

    @property
    def label(self) -> str:
        return {
            DunningMethod.PHONE: "电话",
            DunningMethod.SMS: "短信",
            DunningMethod.NOTICE: "书面通知",
            DunningMethod.VISIT: "上门",
            DunningMethod.LEGAL: "法律程序",
        }[self]


def parse_dunning_method(text: str) -> DunningMethod:
    return parse_choice(DunningMethod, text, "催缴方式")


@dataclass(frozen=True)
class BillingRules:
    # How a partial month is pro-rated is LeaseRules.prorate_method (R1), shared with the move-out settlement.
    due_days: int = 10  # a month's bill is due this many days after the month ends [U]
    # (months overdue, stage) from the lowest step up: 1 → reminder, 3 → notice and visit, 6 → L7.
    ladder: tuple[tuple[int, DunningStage], ...] = field(
        default=(
            (1, DunningStage.REMINDER),
            (3, DunningStage.NOTICE),
            (6, DunningStage.TERMINATION),
        )
    )
    # Age bands of the fund report, by months overdue (upper bounds; the last is open).
    age_bands: tuple[int, ...] = (1, 3, 6)

    def stage_for(self, months_overdue: int) -> DunningStage:
        stage = DunningStage.NONE
        for threshold, step in self.ladder:
            if months_overdue >= threshold:
                stage = step
        return stage

    def due_on(self, period: Period) -> date:
        return period.last_day + timedelta(days=self.due_days)


DEFAULT_BILLING = BillingRules()


@dataclass(frozen=True)
class RentVersion:
    """The terms of one lease version: from effective_from its monthly rent applies."""

    effective_from: date
    monthly_rent_fen: int


def rent_for_period(
    versions: Sequence[RentVersion],
    first_day: date,
    last_day: date | None,
    period: Period,
    method: ProrateMethod,
) -> tuple[int, date, date, str] | None:
    """The rent of one month for a lease occupied from first_day to last_day (None: still occupied).

    Each version's rent applies from its effective_from until the next version's; days outside the
    occupancy are not billed (pro rata, R1). Returns (fen, first day billed, last day billed, detail) or
    None when the lease does not cover any day of the month.
    """
    start = max(first_day, period.first_day)
    end = period.last_day if last_day is None else min(last_day, period.last_day)
    if end < start or not versions:
        return None
    whole_month = start == period.first_day and end == period.last_day
    if whole_month and len(versions) == 1 and versions[0].effective_from <= start:
        return versions[0].monthly_rent_fen, start, end, ""  # the usual case: one set of terms all month
    ordered = sorted(versions, key=lambda v: v.effective_from)
    total = 0
    parts = []
    for index, version in enumerate(ordered):
        seg_start = max(start, version.effective_from)
        following = ordered[index + 1].effective_from if index + 1 < len(ordered) else None
        seg_end = end if following is None else min(end, following - timedelta(days=1))
        if seg_end < seg_start:
            continue
        amount = prorated_rent_fen(version.monthly_rent_fen, period.first_day, seg_start, seg_end, method)
        total += amount
        days = (seg_end - seg_start).days + 1
        if days != period.days:
            parts.append(f"{seg_start:%m-%d}至{seg_end:%m-%d} {days} 天")
    if not parts and total == 0:
        return None
    detail = "按日计租：" + "；".join(parts) if parts else ""
    return total, start, end, detail


@dataclass
class OpenItem:
    """A bill with money still owed, as allocation sees it."""

    key: object
    order: tuple[str, str, int]  # (period, position of its charge kind as text, issue): oldest first
    open_fen: int


def allocate(amount_fen: int, open_items: Sequence[OpenItem]) -> tuple[list[tuple[object, int]], int]:
    """Apply amount to the open items oldest first; returns [(key, fen)] and what is left over (credit)."""
    if amount_fen < 0:
        raise ValueError("cannot allocate a negative amount")
    left = amount_fen
    applied: list[tuple[object, int]] = []
    for item in sorted(open_items, key=lambda i: i.order):
        if left == 0:
            break
        if item.open_fen <= 0:
            continue
        take = min(left, item.open_fen)
        applied.append((item.key, take))
        left -= take
    return applied, left
