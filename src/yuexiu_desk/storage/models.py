"""ORM models of the station store.

Tables the bureau will one day receive (marked journaled) have UUID keys, and every insert, update or
delete of them appends a row to change_journal in the same transaction (see storage.journal).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import ClassVar

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC; returns them aware in UTC (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Set True on models whose writes the bureau exchange must see.
    __journaled__: ClassVar[bool] = False


class Station(Base):
    """The service station this database belongs to (exactly one row)."""

    __tablename__ = "station"
    __journaled__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Short code printed in QR payloads so a label from another estate is recognised as foreign.
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    estate_name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100), default="")
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Building(Base):
    __tablename__ = "building"
    __journaled__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(50))
    floors: Mapped[int] = mapped_column(Integer)
    entrances: Mapped[int] = mapped_column(Integer)
    elevators: Mapped[int] = mapped_column(Integer, default=0)
    is_demo: Mapped[bool] = mapped_column(default=False)

    units: Mapped[list[Unit]] = relationship(back_populates="building")


class Unit(Base):
    """One dwelling (房源)."""

    __tablename__ = "unit"
    __journaled__ = True
    __table_args__ = (
        UniqueConstraint("building_no", "entrance", "floor", "room"),
        Index("ix_unit_status", "status"),
        Index("ix_unit_unit_type", "unit_type"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("building.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    # Denormalised from code so the register filters and sorts in SQL.
    building_no: Mapped[int] = mapped_column(Integer)
    entrance: Mapped[int] = mapped_column(Integer)
    floor: Mapped[int] = mapped_column(Integer)
    room: Mapped[int] = mapped_column(Integer)
    unit_type: Mapped[str] = mapped_column(String(20))
    gross_area_hundredths: Mapped[int] = mapped_column(Integer)
    inner_area_hundredths: Mapped[int] = mapped_column(Integer)
    orientation: Mapped[str] = mapped_column(String(10), default="")
    accessible: Mapped[bool] = mapped_column(default=False)
    fittings: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    is_demo: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    building: Mapped[Building] = relationship(back_populates="units")


class ChangeEvent(Base):
    """An 异动: a unit's status change with who, when and why."""

    __tablename__ = "change_event"
    __journaled__ = True
    __table_args__ = (Index("ix_change_event_occurred_at", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(50))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeJournal(Base):
    """Append-only record of writes to journaled tables, read by the bureau exchange.

    seq is AUTOINCREMENT so it never goes back, even after the newest rows are removed.
    """

    __tablename__ = "change_journal"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012  (SQLAlchemy reads it as declared)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(50))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    operation: Mapped[str] = mapped_column(String(10))
    station_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    operator: Mapped[str] = mapped_column(String(50))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RentStandard(Base):
    """An approved rent standard (租金标准, L5) for one tier, in force from a date until the next one."""

    __tablename__ = "rent_standard"
    __journaled__ = True
    __table_args__ = (UniqueConstraint("tier", "effective_from"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tier: Mapped[str] = mapped_column(String(20))
    rate_fen_per_m2: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    approval_doc: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Household(Base):
    """A household (一户一档): the leaseholder and the people living with them."""

    __tablename__ = "household"
    __journaled__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    rent_tier: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    members: Mapped[list[HouseholdMember]] = relationship(
        back_populates="household", order_by="HouseholdMember.position"
    )


class HouseholdMember(Base):
    """One person of a household. The ID number, phone, income and special-group flags are personal data, kept
    only sealed (storage.fieldcrypt): services.people is their only accessor."""

    __tablename__ = "household_member"
    __journaled__ = True
    __table_args__ = (Index("ix_household_member_id_number_index", "id_number_index"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))
    relation: Mapped[str] = mapped_column(String(20))
    is_leaseholder: Mapped[bool] = mapped_column(default=False)
    sex: Mapped[str] = mapped_column(String(10))
    birth_date: Mapped[date] = mapped_column(Date)
    id_kind: Mapped[str] = mapped_column(String(30))
    id_number_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # The keyed hash of the ID number: duplicate checks and the search by ID number look it up.
    id_number_index: Mapped[bytes] = mapped_column(LargeBinary)
    phone_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    employer: Mapped[str] = mapped_column(String(100), default="")
    # Annual income and the special-group flags (elderly living alone, disabled, mobility impaired), sealed
    # together: one value to open for a list row instead of four.
    profile_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    household: Mapped[Household] = relationship(back_populates="members")


class Lease(Base):
    """One version of a lease (租赁合同). Changes add a version and mark the old one superseded; nothing is overwritten."""

    __tablename__ = "lease"
    __journaled__ = True
    __table_args__ = (
        UniqueConstraint("lease_no", "version"),
        Index("ix_lease_unit_status", "unit_id", "status"),
        Index("ix_lease_household_status", "household_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    lease_no: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, default=1)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household.id"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit.id"))
    status: Mapped[str] = mapped_column(String(20))
    signed_on: Mapped[date] = mapped_column(Date)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    # From this day the terms of this version apply (its start for a new or renewed lease, the day of a change).
    effective_from: Mapped[date] = mapped_column(Date)
    # L9: the day the household must have moved out after a termination (the relocation period's end).
    vacate_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    rent_tier: Mapped[str] = mapped_column(String(20))
    rate_fen_per_m2: Mapped[int] = mapped_column(Integer)
    gross_area_hundredths: Mapped[int] = mapped_column(Integer)
    monthly_rent_fen: Mapped[int] = mapped_column(Integer)
    deposit_fen: Mapped[int] = mapped_column(Integer, default=0)
    term_override_reason: Mapped[str] = mapped_column(Text, default="")
    filed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    filing_ref: Mapped[str] = mapped_column(String(50), default="")
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_kind: Mapped[str] = mapped_column(String(30), default="")
    end_reason: Mapped[str] = mapped_column(Text, default="")
    change_note: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    household: Mapped[Household] = relationship()


class RevealLog(Base):
    """Each time someone showed a person's full ID number or phone: who, whose, which field, why, when (PIPL)."""

    __tablename__ = "reveal_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household_member.id"), index=True)
    field: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(50))
    revealed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Handover(Base):
    """A check-in (入住交接) or move-out inspection (退出查验) of a lease's unit, with the settlement at move-out."""

    __tablename__ = "handover"
    __journaled__ = True
    __table_args__ = (UniqueConstraint("lease_id", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    lease_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lease.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "checkin" or "moveout"
    held_on: Mapped[date] = mapped_column(Date)
    move_out_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # the household's last day
    notes: Mapped[str] = mapped_column(Text, default="")
    # Move-out settlement (fen); zero for a check-in. balance > 0 is refunded, < 0 is owed by the household.
    rent_to_day_fen: Mapped[int] = mapped_column(Integer, default=0)
    damages_fen: Mapped[int] = mapped_column(Integer, default=0)
    unpaid_bills_fen: Mapped[int] = mapped_column(Integer, default=0)
    deposit_fen: Mapped[int] = mapped_column(Integer, default=0)
    balance_fen: Mapped[int] = mapped_column(Integer, default=0)
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    values: Mapped[list[HandoverValue]] = relationship(
        back_populates="handover", order_by="HandoverValue.key"
    )
    damages: Mapped[list[HandoverDamage]] = relationship(
        back_populates="handover", order_by="HandoverDamage.position"
    )


class HandoverValue(Base):
    """One answer of a handover, keyed by the form definition's id: a meter reading, a count or a checklist result."""

    __tablename__ = "handover_value"
    __journaled__ = True
    __table_args__ = (UniqueConstraint("handover_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    handover_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("handover.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))  # e.g. "meters.water_meter", "rooms.kitchen.gas_stove"
    reading_hundredths: Mapped[int | None] = mapped_column(Integer, nullable=True)
    count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    handover: Mapped[Handover] = relationship(back_populates="values")


class HandoverDamage(Base):
    """A damage found at move-out and what it costs the household."""

    __tablename__ = "handover_damage"
    __journaled__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    handover_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("handover.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int] = mapped_column(Integer)

    handover: Mapped[Handover] = relationship(back_populates="damages")


class MemberChange(Base):
    """A change to a household's members with the day it takes effect (L6 and the 一户一档 history): someone
    joins or leaves, or their employer, income or special-group flags change. The member row holds the
    current state; these rows keep how it got there."""

    __tablename__ = "member_change"
    __journaled__ = True
    __table_args__ = (Index("ix_member_change_household", "household_id", "effective_on"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household_member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "joined", "left", "employer", "income", "flags"
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    # For an income or flags change the old and new values are personal data: they are sealed here (as a
    # pair) and old_value/new_value stay empty.
    values_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HandoverPhoto(Base):
    """A photo attached to a handover (the whole of it, or one checklist item by its form key). The file is
    kept in the station folder under photos/, named by its content hash."""

    __tablename__ = "handover_photo"
    __journaled__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    handover_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("handover.id"), index=True)
    item_key: Mapped[str] = mapped_column(String(80), default="")  # "" for the handover as a whole
    file_name: Mapped[str] = mapped_column(String(200))  # relative to the station folder
    sha256: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserAccount(Base):
    """A person who signs in at the desk, with their role (岗位). Local to the station: never sent to the
    bureau, so not journaled. The password is kept only as an Argon2id hash."""

    __tablename__ = "user_account"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    login: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(Text)
    # Consecutive failures since the last good sign-in; from the fifth on, each adds a growing wait.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    retry_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class KeySlot(Base):
    """The station's data key wrapped for one holder: an account (under a key derived from its password with
    Argon2id) or the printed recovery key. Like a disk-encryption key slot: any one of them opens the data."""

    __tablename__ = "key_slot"

    holder: Mapped[str] = mapped_column(String(60), primary_key=True)  # "account:<login>" or "recovery"
    kdf: Mapped[str] = mapped_column(String(20))  # "argon2id" or "hkdf"
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    parameters: Mapped[str] = mapped_column(Text, default="{}")
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnsealedValue(Base):
    """Personal data of a station upgraded from before encryption, waiting to be sealed. Migration 0012 moves
    the plain columns here; the first sign-in that holds the data key seals them and empties this table."""

    __tablename__ = "unsealed_value"

    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    column_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
