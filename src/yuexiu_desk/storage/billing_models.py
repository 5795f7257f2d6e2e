"""ORM models of rent billing and collection: charge kinds, bills, payments, allocations, voids, the dunning
ledger, month closes, bank statement lines, the per-household account cache, settings and number counters.

Kept apart from storage.models so that the desk's start-up, which needs none of them, does not pay for
declaring them; services.billing and the migrations import this module. Money tables are append-only:
triggers in migration 0005 refuse DELETE on all of them and UPDATE on bills, payments, allocations, voids
and month closes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yuexiu_desk.storage.models import Base, UTCDateTime


class ChargeKind(Base):
    """Something the station bills (收费项目): rent, property fee, water, electricity …"""

    __tablename__ = "charge_kind"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    # "lease_rent": the lease's monthly rent; "per_area": rate × gross area; "manual": entered per bill.
    method: Mapped[str] = mapped_column(String(20))
    rate_fen: Mapped[int] = mapped_column(Integer, default=0)  # per m² and month for per_area
    in_bill_run: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Bill(Base):
    """One charge of one lease for one month (账单). Corrections void it and issue the next issue number."""

    __tablename__ = "bill"
    __journaled__ = True
    __table_args__ = (
        UniqueConstraint("lease_no", "period", "charge_kind", "issue"),
        Index("ix_bill_household_period", "household_id", "period"),
        Index("ix_bill_period", "period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household.id"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit.id"), index=True)
    lease_no: Mapped[str] = mapped_column(String(30))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    charge_kind: Mapped[str] = mapped_column(String(30))
    issue: Mapped[int] = mapped_column(Integer, default=1)
    amount_fen: Mapped[int] = mapped_column(Integer)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date] = mapped_column(Date)
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    """Money received from a household (缴费), with its receipt number (收据号)."""

    __tablename__ = "payment"
    __journaled__ = True
    __table_args__ = (
        Index("ix_payment_household", "household_id"),
        Index("ix_payment_paid_on", "paid_on"),
        Index("ix_payment_reference", "reference"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    receipt_no: Mapped[str] = mapped_column(String(30), unique=True)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household.id"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit.id"))
    lease_no: Mapped[str] = mapped_column(String(30))
    amount_fen: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(60), default="")
    payer: Mapped[str] = mapped_column(String(50), default="")
    paid_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    # The household's balance right after this payment (> 0 still owed, < 0 credit): its receipt prints it,
    # also when reprinted later.
    balance_after_fen: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Allocation(Base):
    """Part of a payment applied to a bill. Counts only while neither is voided (then it is credit again)."""

    __tablename__ = "allocation"
    __journaled__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment.id"), index=True)
    bill_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bill.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MoneyVoid(Base):
    """The voiding (作废) of one bill or one payment, with the reason. Nothing in the money tables is deleted."""

    __tablename__ = "money_void"
    __journaled__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    bill_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bill.id"), unique=True, nullable=True)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment.id"), unique=True, nullable=True)
    voided_on: Mapped[date] = mapped_column(Date)  # the accounting day (the month it counts in)
    reason: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DunningAction(Base):
    """One step of the arrears ladder taken with a household (催缴台账): who, how, when, outcome, proof."""

    __tablename__ = "dunning_action"
    __journaled__ = True
    __table_args__ = (Index("ix_dunning_action_household", "household_id", "done_on"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household.id"))
    lease_no: Mapped[str] = mapped_column(String(30))
    stage: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    done_on: Mapped[date] = mapped_column(Date)
    months_overdue: Mapped[int] = mapped_column(Integer)
    amount_due_fen: Mapped[int] = mapped_column(Integer)
    notice_no: Mapped[str] = mapped_column(String(30), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    proof: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MonthClose(Base):
    """A month closed (结账) with its frozen totals, or reopened with a reason. The latest row decides."""

    __tablename__ = "month_close"
    __journaled__ = True
    __table_args__ = (Index("ix_month_close_period", "period"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Order of the closes and reopens (from the "month-close" counter): two in the same instant still
    # have a last one.
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    period: Mapped[str] = mapped_column(String(7))
    action: Mapped[str] = mapped_column(String(10))  # "close" or "reopen"
    totals: Mapped[str] = mapped_column(Text, default="")  # JSON of the fund report's figures at close
    reason: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatementLine(Base):
    """One line of a bank statement imported for reconciliation (对账), and the payment it was matched to."""

    __tablename__ = "statement_line"
    __journaled__ = True
    __table_args__ = (Index("ix_statement_line_period", "period"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    period: Mapped[str] = mapped_column(String(7))
    # Hash of the line's own content, so importing the same statement twice adds nothing.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(200))
    line_no: Mapped[int] = mapped_column(Integer)
    booked_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(60), default="")
    counterparty: Mapped[str] = mapped_column(String(100), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment.id"), nullable=True, index=True)
    matched_by: Mapped[str] = mapped_column(String(20), default="")  # "reference", "amount_date", "manual"
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Setting(Base):
    """A station setting by key (JSON value): remembered statement column mappings, [U] thresholds."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Counter(Base):
    """Number sequences (receipt numbers, reminder-notice numbers) that never hand out a number twice."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Account(Base):
    """Each household's money position, kept up to date by every money write (a cache of the money tables,
    checked against them by tests): what it owes in total and what is open per billing month."""

    __tablename__ = "account"

    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household.id"), primary_key=True)
    balance_fen: Mapped[int] = mapped_column(Integer)  # bills − payments ± voids: > 0 owed, < 0 credit
    open_fen: Mapped[int] = mapped_column(Integer, index=True)  # sum of the open amounts of its bills
    open_periods: Mapped[str] = mapped_column(Text, default="{}")  # JSON {"YYYY-MM": open fen}
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
