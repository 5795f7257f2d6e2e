"""Kill -9 harness for tests/integration/test_crash_safety.py (run as a script, never collected by pytest).

    python tests/integration/crash_driver.py SCENARIO WORKDIR --kills N --seed S

SCENARIO is `bills` (`bills run --month 2026-11` over a station of a few thousand leases), `import`
(`import households FILE.xlsx` into an all-vacant station of that size, backup-before-import included) or
`backup` (`backup` of that leased station). The driver builds the station once (benchmarks/generate.py:
bulk-made units, a household ledger from the app's own template, imported through the app), then:

1. runs the command once uncut in a forked child, to learn the after-state and when each phase starts;
2. N times: puts the template station back (a file copy), forks a child that runs the real CLI entry
   point (`yuexiu_desk.__main__.main(argv)`, exactly what `python -m yuexiu_desk argv` runs, minus the
   interpreter start-up: the driver has imported the app once, so a kill costs a fraction of a second),
   SIGKILLs it after a seeded random delay, and checks what is left on disk.

Most delays are taken from the moment the child reports its first write, its COMMIT (sent or, for the
import, returned) or (for a backup) the start of the copy, spread over the calibrated window that follows (TARGETS), so the kills land inside
the transaction and its commit rather than in start-up; the rest are spread over the whole run from the
fork. A run that finished before its kill is recorded (and checked) but not counted as a kill. The child reports
phases through a pipe: B (write transaction begun), W (first INSERT/UPDATE/DELETE), C (COMMIT sent),
D (committed), S (backup copy begun), R (backup rename begun), r (renamed), X (command returned).

Children are made deterministic (fixed clock, seeded os.urandom) so that a run that completed writes
exactly the calibrated after-state, and the database is compared with a hash of every table.

The report (JSON on stdout) lists every kill: delay, last phase reached, and whether the database after
recovery was the before-state, the after-state, or neither, plus integrity results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

UNITS = 3000
HOUSEHOLDS = 2500
# The import scenario reads a smaller ledger: parsing the workbook is most of an import's time, and
# each kill waits for it.
IMPORT_HOUSEHOLDS = 1000
MONTH = "2026-11"

PHASE_NAMES = {
    "": "start-up/reading",
    "B": "transaction open (reading)",
    "W": "writing rows",
    "C": "committing",
    "D": "committed",
    "S": "copying backup",
    "R": "renaming backup",
    "r": "backup in place",
    "X": "command returned",
}


def _build(work: Path) -> dict[str, Path]:
    """The all-vacant station, its household ledger, and the station after importing it (cached in work)."""
    import generate as g
    from yuexiu_desk.clock import FixedClock
    from yuexiu_desk.domain.access import system_operator
    from yuexiu_desk.paths import StationPaths
    from yuexiu_desk.services.household_import import import_households
    from yuexiu_desk.storage.db import Store

    vacant = work / "template-vacant"
    ledger = work / "households.xlsx"
    small = work / "households-import.xlsx"
    leased = work / "template-leased"
    g.generate(UNITS, vacant, all_vacant=True, seed=7)
    g.write_ledger(StationPaths(vacant).database, ledger, HOUSEHOLDS, seed=3)
    g.write_ledger(StationPaths(vacant).database, small, IMPORT_HOUSEHOLDS, seed=5)
    if not (leased / "station.sqlite3").exists():
        shutil.rmtree(leased, ignore_errors=True)
        leased.mkdir(parents=True)
        shutil.copy2(vacant / "station.sqlite3", leased / "station.sqlite3")
        store = Store.open(StationPaths(leased), FixedClock(g.FIXTURE_NOW))
        g.open_fixture_keys(store)
        try:
            with store.unit_of_work(system_operator("准备")) as session:
                import_households(session, ledger, "准备")
            with store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            store.close()
    for folder in (vacant, leased):
        for suffix in ("-wal", "-shm"):
            Path(f"{folder / 'station.sqlite3'}{suffix}").unlink(missing_ok=True)
    return {"vacant": vacant, "ledger": ledger, "import_ledger": small, "leased": leased}


def _reset(template: Path, station: Path) -> None:
    shutil.rmtree(station, ignore_errors=True)
    station.mkdir(parents=True)
    shutil.copyfile(template / "station.sqlite3", station / "station.sqlite3")


def fingerprint(database: Path) -> str:
    """A hash of every row of every table (rowid order), schema included."""
    digest = hashlib.sha256()
    with closing(sqlite3.connect(database)) as conn:
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for name in tables:
            digest.update(name.encode())
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def file_state(database: Path) -> str:
    """A hash of the database file's bytes once its log is checkpointed into it: the cheap first comparison.

    A rolled-back transaction leaves the file byte for byte as it was, and a deterministic run that committed
    writes the same pages; only when the bytes match neither does the row-by-row fingerprint decide."""
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return hashlib.sha256(database.read_bytes()).hexdigest()


def integrity(database: Path, immutable: bool = False) -> str:
    uri = f"file:{database}?immutable=1" if immutable else f"file:{database}"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        return f"error: {exc}"
    return "ok" if rows == ["ok"] else "; ".join(rows[:3])


def _child(argv: list[str], marker_fd: int, seed: int) -> None:
    """In the forked child: make the run deterministic, report phases, run the CLI; never returns."""
    from sqlalchemy import Engine, event
    from sqlalchemy.engine.default import DefaultDialect

    import yuexiu_desk.services.backups as backups_service
    import yuexiu_desk.services.users as users_service
    from yuexiu_desk import clock
    from yuexiu_desk.__main__ import main
    from yuexiu_desk.domain.access import system_operator
    from yuexiu_desk.storage.db import WRITE_OPTION

    rng = random.Random(seed)
    os.urandom = rng.randbytes
    # Signing in is its own transaction (it records the login): skipped here, so that the states a kill may
    # leave are exactly the command's before and after. The CLI's sign-in is tested on its own.
    users_service.has_accounts = lambda session: True  # type: ignore[assignment]

    def sign_in(store: Any, login: str, password: str) -> Any:
        import generate

        generate.open_fixture_keys(store)  # what a sign-in unlocks, read without writing
        return system_operator("压力测试")

    users_service.sign_in = sign_in  # type: ignore[assignment]
    fixed = clock.FixedClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    clock.SystemClock.now = lambda self: fixed.now()  # type: ignore[method-assign]

    def mark(code: bytes) -> None:
        os.write(marker_fd, code)

    wrote = [False]

    @event.listens_for(Engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            wrote[0] = False
            mark(b"B")

    @event.listens_for(Engine, "before_cursor_execute")
    def _on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not wrote[0] and statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            wrote[0] = True
            mark(b"W")

    commit = DefaultDialect.do_commit

    def do_commit(self: Any, dbapi_connection: Any) -> None:
        # C and D bracket the COMMIT of a transaction that wrote (read transactions commit too).
        if not wrote[0]:
            commit(self, dbapi_connection)
            return
        mark(b"C")
        commit(self, dbapi_connection)
        wrote[0] = False
        mark(b"D")

    DefaultDialect.do_commit = do_commit  # type: ignore[method-assign]

    original_backup = backups_service.backup_database
    original_replace = os.replace

    def backup_database(engine: Any, target: Path) -> Path:
        mark(b"S")
        return original_backup(engine, target)

    def replace(src: Any, dst: Any) -> None:
        mark(b"R")
        original_replace(src, dst)
        mark(b"r")

    backups_service.backup_database = backup_database  # type: ignore[assignment]
    os.replace = replace
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        code = main(argv)
    except BaseException:
        code = 99
    mark(b"X")
    os._exit(code)


def _spawn(argv: list[str], seed: int) -> tuple[int, int, float]:
    read_fd, write_fd = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            _child(argv, write_fd, seed)
        finally:
            os._exit(98)
    os.close(write_fd)
    return pid, read_fd, started


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 64):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()


def _wait_for(fd: int, wanted: str, seen: list[str]) -> float | None:
    """Read phase markers until `wanted` arrives; its arrival time, or None if the child ended first."""
    while True:
        chunk = os.read(fd, 1)
        if not chunk:
            return None
        seen.append(chunk.decode())
        if seen[-1] == wanted:
            return time.perf_counter()


def calibrate(argv: list[str], seed: int) -> dict[str, Any]:
    """One uncut run: when each marker arrived (seconds after the fork), and the exit status."""
    pid, fd, started = _spawn(argv, seed)
    times: dict[str, float] = {}
    while chunk := os.read(fd, 1):
        times.setdefault(chunk.decode(), time.perf_counter() - started)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    times["exit"] = time.perf_counter() - started
    return {"times": times, "status": os.waitstatus_to_exitcode(status)}


# Where kills are aimed, per scenario: (marker the delay counts from, marker that ends the window, share).
# "fork" counts from the fork over the whole uncut run, start-up included.
TARGETS: dict[str, list[tuple[str, str, float]]] = {
    "bills": [("fork", "exit", 0.2), ("W", "C", 0.5), ("C", "D", 0.3)],
    # Some from the end of the COMMIT too: a kill inside a 10 ms commit lands after it only about one time in
    # three, and the after-state (durable once committed) must be checked often enough.
    "import": [
        ("fork", "exit", 0.1),
        ("S", "r", 0.2),
        ("W", "C", 0.35),
        ("C", "D", 0.2),
        ("D", "exit", 0.15),
    ],
    "backup": [("fork", "exit", 0.2), ("S", "X", 0.8)],
}


def scenario_setup(name: str, built: dict[str, Path], work: Path) -> tuple[Path, list[str]]:
    """(template station, argv) for a scenario."""
    station = work / f"station-{name}"
    if name == "bills":
        return built["leased"], ["--data-dir", str(station), "bills", "run", "--month", MONTH]
    if name == "import":
        return built["vacant"], [
            "--data-dir",
            str(station),
            "import",
            "households",
            str(built["import_ledger"]),
        ]
    if name == "backup":
        return built["leased"], ["--data-dir", str(station), "backup"]
    raise SystemExit(f"unknown scenario {name}")


def check_backups(station: Path) -> dict[str, Any]:
    """Every backup the app lists passes integrity_check; partial files are never listed."""
    from yuexiu_desk.paths import StationPaths
    from yuexiu_desk.services.backups import list_backups

    listed = list_backups(StationPaths(station))
    bad = [
        f"{info.path.name}: {problem}"
        for info in listed
        if (problem := integrity(info.path, immutable=True)) != "ok"
    ]
    folder = station / "backups"
    partial = sorted(p.name for p in folder.glob("*.partial")) if folder.is_dir() else []
    listed_partial = [i.path.name for i in listed if ".partial" in i.path.name]
    return {"listed": len(listed), "bad": bad, "partial_left": partial, "listed_partial": listed_partial}


def run(name: str, work: Path, kills: int, seed: int) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    built = _build(work)
    template, argv = scenario_setup(name, built, work)
    station = work / f"station-{name}"
    database = station / "station.sqlite3"
    # Import the whole app before forking, so a child starts at once.
    import openpyxl  # noqa: F401
    import python_calamine  # noqa: F401

    import yuexiu_desk.cli_admin
    import yuexiu_desk.cli_money
    import yuexiu_desk.services.backups
    import yuexiu_desk.services.billing
    import yuexiu_desk.services.household_import  # noqa: F401

    before = fingerprint(template / "station.sqlite3")
    before_file = hashlib.sha256((template / "station.sqlite3").read_bytes()).hexdigest()
    child_seed = seed * 7919 + 1
    # Three uncut runs: the widest phase times of them aim the kills (the machine is shared, runs vary).
    runs = []
    for _ in range(3):
        _reset(template, station)
        calibration = calibrate(argv, child_seed)
        if calibration["status"] != 0:
            raise SystemExit(f"the uncut {name} run failed with exit code {calibration['status']}")
        runs.append(calibration["times"])
    after = fingerprint(database)
    after_file = file_state(database)
    # (A backup changes the live database by one audit entry, committed after the copy is in place: its
    # before and after are checked like the others', and the backup files by check_backups.)
    times = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    times["fork"] = 0.0
    targets = TARGETS[name]
    # The median window of the three, a little wider (runs vary), and never narrower than 3 ms.
    windows = {
        anchor: statistics.median(r[end] - (r[anchor] if anchor != "fork" else 0.0) for r in runs) * 1.2
        + 0.003
        for anchor, end, _ in targets
    }
    rng = random.Random(seed)
    records = []
    number = 0
    # `kills` processes really killed: a delay that outlasts the run (it finished first) is recorded too,
    # as a completed run, but does not count.
    while sum(r["killed"] for r in records) < kills and number < kills * 3:
        number += 1
        _reset(template, station)
        anchor = rng.choices([t[0] for t in targets], weights=[t[2] for t in targets])[0]
        delay = rng.uniform(0, windows[anchor])
        pid, fd, started = _spawn(argv, child_seed)
        seen: list[str] = []
        if anchor == "fork" or _wait_for(fd, anchor, seen) is not None:
            time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        seen.append(_read_all(fd))
        markers = "".join(seen)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        ok = integrity(database)
        outcome, compared = "neither", "rows"
        if ok == "ok":
            quick = file_state(database)
            if quick in (before_file, after_file):
                outcome = "before" if quick == before_file else "after"
                compared = "file"
            else:
                state = fingerprint(database)
                outcome = "before" if state == before else "after" if state == after else "neither"
        record = {
            "n": number,
            "timed_from": anchor,
            "delay_ms": round(delay * 1000, 2),
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
            "markers": markers,
            "phase": PHASE_NAMES.get(markers[-1:] if markers else "", markers[-1:]),
            "killed": killed,
            "integrity": ok,
            "outcome": outcome,
            "compared": compared,
        }
        if name in ("backup", "import"):
            record["backups"] = check_backups(station)
        if name == "backup":
            # The backup's own after-state: a backup listed exactly when the rename happened.
            record["backup_done"] = "r" in markers
        records.append(record)
    return {
        "scenario": name,
        "argv": argv,
        "calibration": {k: round(v * 1000, 1) for k, v in times.items()},
        "windows_ms": {k: round(v * 1000, 1) for k, v in windows.items()},
        "before": before,
        "after": after,
        "kills": records,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["bills", "import", "backup"])
    parser.add_argument("work", type=Path)
    parser.add_argument("--kills", type=int, default=70)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    report = run(args.scenario, args.work, args.kills, args.seed)
    report["seconds"] = round(time.perf_counter() - started, 2)
    json.dump(report, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
