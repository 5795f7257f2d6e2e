"""Roles, the operator acting, and the permission table (loaded from permissions.toml beside this module).

Pure: no database. services/access.py checks a session's operator against this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from yuexiu_desk.errors import UserError

TABLE_FILE = Path(__file__).with_name("permissions.toml")
# Internal writers (building the demo station, migrations' bookkeeping) act as the system, never a person.
SYSTEM_ROLE = "system"
# Where a session carries its operator, and the callable that signs someone in on demand (the CLI prompts;
# consulted only when no operator is set yet).
OPERATOR_KEY = "actor"
SIGN_IN_KEY = "sign_in"


@dataclass(frozen=True)
class PermissionTable:
    roles: dict[str, str]  # code -> Chinese label
    actions: dict[str, str]  # code -> Chinese label
    grants: dict[str, frozenset[str]]  # action -> roles allowed

    def allows(self, role: str, action: str) -> bool:
        if action not in self.actions:
            # A typo in a service must fail loudly, not silently deny or allow.
            raise KeyError(f"unknown action {action!r}: add it to {TABLE_FILE.name}")
        return role == SYSTEM_ROLE or role in self.grants[action]

    def roles_for(self, action: str) -> list[str]:
        return [role for role in self.roles if role in self.grants[action]]


@cache
def permission_table() -> PermissionTable:
    import tomllib  # only once a right is checked: start-up does not need it

    data = tomllib.loads(TABLE_FILE.read_text(encoding="utf-8"))
    roles = {str(code): str(label) for code, label in data["roles"].items()}
    actions: dict[str, str] = {}
    grants: dict[str, frozenset[str]] = {}
    for code, entry in data["actions"].items():
        unknown = set(entry["roles"]) - set(roles)
        if unknown:
            raise ValueError(f"{TABLE_FILE.name}: action {code} names unknown roles {sorted(unknown)}")
        actions[code] = str(entry["label"])
        grants[code] = frozenset(entry["roles"])
    return PermissionTable(roles, actions, grants)


def role_label(role: str) -> str:
    if role == SYSTEM_ROLE:
        return "系统"
    return permission_table().roles.get(role, role)


@dataclass(frozen=True)
class Operator:
    """Who is acting: recorded on every write, checked against the permission table."""

    login: str
    name: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.name}（{role_label(self.role)}）"


def system_operator(name: str) -> Operator:
    return Operator(login=name, name=name, role=SYSTEM_ROLE)


class PermissionDenied(UserError):
    """The operator's role does not hold the right; nothing was changed."""


class NotSignedIn(UserError):
    """No operator: the action needs someone signed in."""


def check(operator: Operator | None, action: str) -> Operator:
    """The operator, if the table lets their role do the action; otherwise one sentence saying who can."""
    table = permission_table()
    if operator is None:
        raise NotSignedIn(f"“{table.actions[action]}”需要先登录。请用您的账户登录后再试。")
    if not table.allows(operator.role, action):
        who = "、".join(role_label(role) for role in table.roles_for(action))
        raise PermissionDenied(
            f"{role_label(operator.role)}岗位无权“{table.actions[action]}”。请由{who}登录办理。"
        )
    return operator
