"""Every folder and file the app uses, resolved in one place.

The station data folder comes from, in order: an explicit --data-dir, the YUEXIU_DATA_DIR environment
variable, the platform's user data folder. Tests and scripts always pass one of the first two.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "YUEXIU_DATA_DIR"
DATABASE_NAME = "station.sqlite3"


def resources_dir() -> Path:
    """Fonts and other shipped files: next to the package in a checkout, or inside a frozen bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def font_path() -> Path:
    return resources_dir() / "fonts" / "wqy-microhei.ttc"


def forms_dir() -> Path:
    """Form definitions (forms/*.toml): beside resources/, in a checkout and in a frozen bundle alike."""
    return resources_dir().parent / "forms"


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("yuexiu-desk", appauthor=False))


@dataclass(frozen=True)
class StationPaths:
    """The files of one station data folder."""

    root: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> StationPaths:
        if data_dir is None:
            env = os.environ.get(DATA_DIR_ENV)
            data_dir = env if env else default_data_dir()
        return cls(Path(data_dir).expanduser().resolve())

    @property
    def database(self) -> Path:
        return self.root / DATABASE_NAME

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def receipts(self) -> Path:
        """Every receipt printed at the desk, one PDF per receipt number (and its void reprint)."""
        return self.root / "receipts"

    @property
    def photos(self) -> Path:
        """Photos attached to handovers, one folder per handover, files named by their content hash."""
        return self.root / "photos"

    @property
    def notices(self) -> Path:
        """Reminder notices (催缴通知书) as printed, one PDF per printing."""
        return self.root / "notices"
