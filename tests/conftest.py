"""Shared fixtures: every test gets its own station folder, copied from a migrated template (fast)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services.station import install_demo
from yuexiu_desk.services.users import DEMO_PASSWORD
from yuexiu_desk.storage.db import Store

DEMO_NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def _template_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    empty = tmp_path_factory.mktemp("template-empty")
    Store.open(StationPaths(empty)).close()
    demo = tmp_path_factory.mktemp("template-demo")
    install_demo(StationPaths(demo), clock=FixedClock(DEMO_NOW))
    return {"empty": empty, "demo": demo}


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
    yield store
    store.close()
