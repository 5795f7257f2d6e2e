"""The permission table (src/yuexiu_desk/domain/permissions.toml) walked row by row against the services:
for every action and every role, the service refuses exactly the roles the table leaves out, and refuses
before changing anything."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from yuexiu_desk.domain.access import NotSignedIn, Operator, PermissionDenied, permission_table
from yuexiu_desk.domain.billing import Period
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import (
    arrears,
    audit,
    billing,
    complaints,
    funds,
    handover,
    hazards,
    household_import,
    households,
    inspections,
    leases,
    members,
    money_export,
    people,
    photos,
    reconcile,
    units,
    users,
    workorders,
)
from yuexiu_desk.services.backups import require_restore_right
from yuexiu_desk.storage.db import Store

SOURCE = Path(__file__).parents[3] / "src" / "yuexiu_desk"
NOVEMBER = Period(2026, 11)
ANY_ID = uuid.UUID(int=1)


class _Undo(Exception):
    """Raised to roll a unit of work back after a call that the role was allowed to make."""


# One call per action, reaching the service's check. Arguments are minimal: a role that passes the check may
# still be refused for the bad input, which is not this test's business.
CALLS: dict[str, Callable[[Session, Path], Any]] = {
    "unit.edit": lambda s, _: units.change_status(s, ANY_ID, UnitStatus.VACANT, "核对", "x"),
    "household.edit": lambda s, _: households.register_household(s, None),  # type: ignore[arg-type]
    "lease.edit": lambda s, _: leases.record_filing(s, "NO-SUCH", date(2026, 11, 1), "备案号"),
    "handover.record": lambda s, _: handover.record_checkin(s, "NO-SUCH", None, "x"),  # type: ignore[arg-type]
    "import.households": lambda s, tmp: household_import.import_households(s, tmp / "none.xlsx", "x", True),
    "personal.reveal": lambda s, _: people.reveal_id_number(s, ANY_ID, "核对身份", "x"),
    "document.file": lambda s, tmp: photos.attach_photos(s, StationPaths(tmp), "NO-SUCH", "checkin", [], "x"),
    "bill.run": lambda s, _: billing.run_bills(s, NOVEMBER, "x"),
    "bill.void": lambda s, _: billing.void_bill(s, ANY_ID, "错账", "x"),
    "payment.record": lambda s, _: billing.record_payment(s, None, "x"),  # type: ignore[arg-type]
    "payment.void": lambda s, _: billing.void_payment(s, "NO-SUCH", "错收", "x"),
    "dunning.record": lambda s, _: arrears.record_dunning(s, None, "x"),  # type: ignore[arg-type]
    "reconcile.edit": lambda s, _: reconcile.unmatch(s, ANY_ID, "x"),
    "month.close": lambda s, _: funds.close_month(s, NOVEMBER, "x"),
    "month.reopen": lambda s, _: funds.reopen_month(s, NOVEMBER, "补登", "x"),
    "money.export": lambda s, tmp: money_export.export_rent_ledger(s, NOVEMBER, tmp / "ledger.xlsx"),
    "users.manage": lambda s, _: users.set_role(s, "nobody", "finance"),
    "audit.read": lambda s, _: audit.verify_as_reader(s),
    "inspection.record": lambda s, _: inspections.close_round(s, "NO-SUCH", "x"),
    "hazard.manage": lambda s, _: hazards.close_hazard(s, "NO-SUCH", "x"),
    "hazard.acknowledge": lambda s, _: hazards.acknowledge_alert(s, "NO-SUCH", "x"),
    "workorder.manage": lambda s, _: workorders.reopen(s, "NO-SUCH", "没修好", "x"),
    "complaint.manage": lambda s, _: complaints.add_note(s, "NO-SUCH", "已联系", "x"),
}
# Actions checked outside a session (the store is closed while they run): a call taking the operator.
STORELESS: dict[str, Callable[[StationPaths, Operator], Any]] = {
    "backup.restore": lambda paths, op: require_restore_right(paths, lambda store: lambda: op),
}
# Further services checking the same action (each must refuse what the table refuses).
ALSO: list[tuple[str, Callable[[Session, Path], Any]]] = [
    ("household.edit", lambda s, _: members.add_member(s, ANY_ID, None, date(2026, 11, 1), "x", "x")),  # type: ignore[arg-type]
    ("household.edit", lambda s, _: members.remove_member(s, ANY_ID, date(2026, 11, 1), "x", "x")),
    ("lease.edit", lambda s, _: leases.terminate_lease(s, "NO-SUCH", None, date(2026, 11, 1), "x", "x")),  # type: ignore[arg-type]
    ("handover.record", lambda s, _: handover.record_moveout(s, "NO-SUCH", None, "x")),  # type: ignore[arg-type]
    ("personal.reveal", lambda s, _: people.reveal_phone(s, ANY_ID, "核对身份", "x")),
    ("bill.run", lambda s, _: billing.add_bill(s, "1-1-101", "water", NOVEMBER, "1", "", "x")),
    ("dunning.record", lambda s, _: arrears.issue_notices(s, ["NO-SUCH"], None, "x")),
    ("reconcile.edit", lambda s, tmp: reconcile.import_statement(s, tmp / "none.csv", NOVEMBER, "x", None)),
    ("money.export", lambda s, tmp: money_export.export_fund_report(s, NOVEMBER, tmp / "funds.xlsx")),
    ("users.manage", lambda s, _: users.add_user(s, "newbie", "新人", "finance", "long enough 1")),
    ("audit.read", lambda s, _: audit.latest(s, 5)),
    ("inspection.record", lambda s, _: inspections.record_rest_ok(s, "NO-SUCH", "x")),
    ("hazard.manage", lambda s, _: hazards.reinspect(s, "NO-SUCH", True, "复查", "x")),
]

ROLES = list(permission_table().roles)


def _as(role: str) -> Operator:
    return Operator(f"t-{role}", f"测试{role}", role)


def _outcome(store: Store, operator: Operator | None, call: Callable[[Session, Path], Any], tmp: Path) -> str:
    """'denied', 'not signed in' or 'passed' (the check let it through, whatever happened next)."""
    store.operator = operator
    try:
        with store.unit_of_work() as session:
            call(session, tmp)
            raise _Undo
    except PermissionDenied:
        return "denied"
    except NotSignedIn:
        return "not signed in"
    except Exception:
        return "passed"


def test_every_action_in_the_table_is_walked_and_every_check_names_a_row() -> None:
    table = permission_table()
    assert set(CALLS) | set(STORELESS) == set(table.actions)
    checked = set()
    for path in SOURCE.rglob("*.py"):
        checked |= set(re.findall(r'require\(session, "([a-z.]+)"\)', path.read_text(encoding="utf-8")))
    assert checked <= set(table.actions), checked - set(table.actions)
    assert set(table.actions) - {"backup.restore"} <= checked


@pytest.mark.parametrize(
    ("action", "call"), [*CALLS.items(), *ALSO], ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_role_gets_exactly_the_rights_of_its_row(
    demo_store: Store, tmp_path: Path, action: str, call: Callable[[Session, Path], Any]
) -> None:
    table = permission_table()
    for role in ROLES:
        expected = "passed" if table.allows(role, action) else "denied"
        assert _outcome(demo_store, _as(role), call, tmp_path) == expected, (action, role)
    assert _outcome(demo_store, None, call, tmp_path) == "not signed in"


def test_a_refusal_says_who_may_and_changes_nothing(demo_store: Store, tmp_path: Path) -> None:
    demo_store.operator = _as("house_manager")
    with demo_store.read() as session:
        before = arrears.arrears(session, date(2026, 11, 20))
    with pytest.raises(PermissionDenied) as refused, demo_store.unit_of_work() as session:
        billing.run_bills(session, NOVEMBER, "x")
    assert refused.value.message == "房管员（前台）岗位无权“出账和补录账单”。请由财务登录办理。"
    with demo_store.read() as session:
        assert arrears.arrears(session, date(2026, 11, 20)) == before


@pytest.mark.parametrize("role", ROLES)
def test_restore_needs_the_right_on_a_station_with_accounts(demo_paths: StationPaths, role: str) -> None:
    allowed = permission_table().allows(role, "backup.restore")
    if allowed:
        STORELESS["backup.restore"](demo_paths, _as(role))
    else:
        with pytest.raises(PermissionDenied):
            STORELESS["backup.restore"](demo_paths, _as(role))


def test_restore_onto_a_missing_or_unreadable_database_needs_no_sign_in(tmp_path: Path) -> None:
    missing = StationPaths(tmp_path / "new-pc")
    require_restore_right(missing, lambda store: pytest.fail)  # type: ignore[arg-type,return-value]
    broken = StationPaths(tmp_path / "broken")
    broken.root.mkdir()
    broken.database.write_bytes(b"not a database at all" * 100)
    require_restore_right(broken, lambda store: pytest.fail)  # type: ignore[arg-type,return-value]
