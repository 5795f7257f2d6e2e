"""kill -9 at random points of a bill run, a household import and a backup: the database always comes back
sound and exactly as it was before or after the interrupted transaction; a backup is listed only when whole.

The killing is done by tests/integration/crash_driver.py in its own process (it forks the real CLI entry
point per kill and reports every kill as JSON); these tests hold the driver's report to the promises. The
driver forks and sends SIGKILL, so this runs on Linux (the project's CI and test machines).
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DRIVER = Path(__file__).with_name("crash_driver.py")
ROOT = DRIVER.parents[2]
# 210 processes killed in all (runs that finished before their kill are recorded but not counted).
KILLS = {"bills": 100, "import": 50, "backup": 60}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the three runs: the stations and ledgers are built by the first and reused."""
    return tmp_path_factory.mktemp("crash")


def drive(work: Path, scenario: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            str(DRIVER),
            scenario,
            str(work),
            "--kills",
            str(KILLS[scenario]),
            "--seed",
            "20261125",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    assert sum(k["killed"] for k in report["kills"]) == KILLS[scenario]
    return report


def landed(report: dict[str, Any]) -> collections.Counter[str]:
    """Where the real kills landed (runs that finished before their kill are left out)."""
    return collections.Counter(k["phase"] for k in report["kills"] if k["killed"])


def assert_sound_and_whole(report: dict[str, Any]) -> None:
    for kill in report["kills"]:
        assert kill["integrity"] == "ok", kill
        assert kill["outcome"] in ("before", "after"), kill


def assert_listed_only_when_renamed(kill: dict[str, Any]) -> None:
    """A backup is listed once the verified copy has been renamed into place (r), never before (R)."""
    if "r" in kill["markers"]:
        assert kill["backups"]["listed"] == 1, kill
    elif "R" not in kill["markers"]:
        assert kill["backups"]["listed"] == 0, kill


def test_kill_during_a_bill_run_leaves_before_or_after(work: Path) -> None:
    report = drive(work, "bills")
    assert_sound_and_whole(report)
    kills = report["kills"]
    # Killed before the COMMIT was sent: nothing of the run is there; after it returned: all of it.
    for kill in kills:
        if "C" not in kill["markers"]:
            assert kill["outcome"] == "before", kill
        if "D" in kill["markers"]:
            assert kill["outcome"] == "after", kill
    phases = landed(report)
    # Most kills land inside the transaction (rows being written) or its commit, not in start-up.
    assert phases["writing rows"] + phases["committing"] >= KILLS["bills"] // 2, phases
    assert phases["committing"] >= 5, phases
    outcomes = collections.Counter(k["outcome"] for k in kills)
    assert outcomes["before"] >= 10 and outcomes["after"] >= 5, outcomes


def test_kill_during_an_import_leaves_before_or_after(work: Path) -> None:
    report = drive(work, "import")
    assert_sound_and_whole(report)
    kills = report["kills"]
    for kill in kills:
        if "C" not in kill["markers"]:
            assert kill["outcome"] == "before", kill
        if "D" in kill["markers"]:
            assert kill["outcome"] == "after", kill
        # The backup made before the import: listed only when complete and sound.
        assert not kill["backups"]["bad"] and not kill["backups"]["listed_partial"], kill
        assert_listed_only_when_renamed(kill)
    phases = landed(report)
    assert phases["writing rows"] + phases["committing"] >= KILLS["import"] // 3, phases
    assert phases["copying backup"] >= 2, phases
    outcomes = collections.Counter(k["outcome"] for k in kills)
    assert outcomes["before"] >= 10 and outcomes["after"] >= 5, outcomes


def test_kill_during_a_backup_never_lists_a_partial_file(work: Path) -> None:
    report = drive(work, "backup")
    assert_sound_and_whole(report)
    kills = report["kills"]
    for kill in kills:
        # A backup reads the live database, then records itself in the audit log (one small transaction
        # once the copy is in place): before that commit the database is as it was, after it all there.
        if "C" not in kill["markers"]:
            assert kill["outcome"] == "before", kill
        if "D" in kill["markers"]:
            assert kill["outcome"] == "after", kill
        backups = kill["backups"]
        assert not backups["bad"] and not backups["listed_partial"], kill
        assert_listed_only_when_renamed(kill)
    phases = landed(report)
    assert phases["copying backup"] >= KILLS["backup"] // 3, phases
    assert sum(bool(k["backups"]["partial_left"]) for k in kills) >= 5
