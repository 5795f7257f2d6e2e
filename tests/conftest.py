"""Shared fixtures: every test gets its own station folder, copied from a migrated template (fast)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import keys
from yuexiu_desk.services.station import install_demo
from yuexiu_desk.services.users import DEMO_LOGIN, DEMO_PASSWORD
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.fieldcrypt import FieldKeys
from yuexiu_desk.storage.models import KeySlot

DEMO_NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def _template_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    empty = tmp_path_factory.mktemp("template-empty")
    Store.open(StationPaths(empty)).close()
    demo = tmp_path_factory.mktemp("template-demo")
    _DEMO_RECOVERY_CODE.append(install_demo(StationPaths(demo), clock=FixedClock(DEMO_NOW)).recovery_code)
    return {"empty": empty, "demo": demo}


_DEMO_RECOVERY_CODE: list[str] = []


@pytest.fixture
def demo_recovery_code(_template_dirs: dict[str, Path]) -> str:
    """The recovery key the demo template was built with (printed once by `yuexiu-desk demo`)."""
    return _DEMO_RECOVERY_CODE[-1]


def _copy_station(template: Path, target: Path) -> StationPaths:
    target.mkdir(parents=True, exist_ok=True)
    for name in ("station.sqlite3", "station.sqlite3-wal"):
        if (template / name).exists():
            shutil.copy2(template / name, target / name)
    return StationPaths(target)


@pytest.fixture(autouse=True)
def _cli_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI signs in from the environment (as a script would): the demo station manager by default;
    tests of finance commands sign in as the demo finance clerk instead (see their module)."""
    monkeypatch.setenv("YUEXIU_USER", "manager")
    monkeypatch.setenv("YUEXIU_PASSWORD", DEMO_PASSWORD)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEMO_NOW)


@pytest.fixture
def empty_paths(_template_dirs: dict[str, Path], tmp_path: Path) -> StationPaths:
    """A station folder with a migrated, empty database."""
    return _copy_station(_template_dirs["empty"], tmp_path / "station")


@pytest.fixture
def demo_paths(_template_dirs: dict[str, Path], tmp_path: Path) -> StationPaths:
    """A station folder holding the demo estate 悦秀苑."""
    return _copy_station(_template_dirs["demo"], tmp_path / "station")


@pytest.fixture
def demo_store(demo_paths: StationPaths, clock: FixedClock) -> Iterator[Store]:
    store = Store.open(demo_paths, clock)
    # Tests of a capability act with every right; tests/unit/domain/test_access.py checks the roles.
    store.operator = system_operator("测试")
    _grant_demo_keys(store)
    yield store
    store.close()


_OPENED: dict[bytes, FieldKeys] = {}


@pytest.fixture
def grant_demo_keys() -> Callable[[Store], None]:
    """For a test that opens a demo store itself and acts on it as the system operator."""
    return _grant_demo_keys


def _grant_demo_keys(store: Store) -> None:
    """Give a store acting as the system operator its demo station's data key, opened from the demo manager's
    slot as signing in does (once per template: every copy of it holds the same key)."""
    with store.read() as session:
        slot = session.get(KeySlot, keys.account_holder(DEMO_LOGIN))
        if slot is None:
            return
        opened = _OPENED.get(slot.wrapped_key)
        if opened is None:
            found = keys.open_with_password(session, DEMO_LOGIN, DEMO_PASSWORD)
            assert isinstance(found, FieldKeys), found
            opened = _OPENED[slot.wrapped_key] = found
    store.set_keys(opened)
