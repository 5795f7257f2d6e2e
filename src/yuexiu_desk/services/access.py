"""The permission check every writing service makes: the session's operator against the permission table.

The operator rides on the session (Store.unit_of_work / read put it in session.info), so services enforce
rights themselves rather than trusting the GUI to hide buttons.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from yuexiu_desk.domain.access import OPERATOR_KEY, SIGN_IN_KEY, Operator, check


def current_operator(session: Session) -> Operator | None:
    operator: Operator | None = session.info.get(OPERATOR_KEY)
    if operator is None:
        sign_in: Callable[[], Operator] | None = session.info.get(SIGN_IN_KEY)
        if sign_in is not None:
            operator = sign_in()
            session.info[OPERATOR_KEY] = operator
    return operator


def require(session: Session, action: str) -> Operator:
    """Refuse (PermissionDenied / NotSignedIn, nothing changed) unless the operator may do the action."""
    return check(current_operator(session), action)
