"""Which labels to print: the units asked for (by code) or all of them, with their QR payloads."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.domain.units import UnitCode
from yuexiu_desk.labels.payload import Payload, RecordKind
from yuexiu_desk.printing.labels import UnitLabel
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import Unit


def unit_labels(session: Session, codes: Sequence[str] | None = None) -> list[UnitLabel]:
    """Labels for the given unit codes in the order given, or for every unit in code order."""
    station = require_station(session)
    if codes:
        ids = [find_unit_id_by_code(session, c) for c in codes]
        units = [session.get(Unit, i) for i in dict.fromkeys(ids)]
    else:
        units = list(
            session.scalars(select(Unit).order_by(Unit.building_no, Unit.entrance, Unit.floor, Unit.room))
        )
    labels = []
    for unit in units:
        assert unit is not None
        code = UnitCode(unit.building_no, unit.entrance, unit.floor, unit.room)
        labels.append(
            UnitLabel(
                payload=Payload(RecordKind.UNIT, station.code, unit.id).encode(),
                code=unit.code,
                title=station.estate_name,
                subtitle=code.chinese,
            )
        )
    return labels
