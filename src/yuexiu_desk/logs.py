"""Where tracebacks go: a rotating log file in the station folder's logs/ (never on the clerk's screen)."""

from __future__ import annotations

import logging
import logging.handlers

from yuexiu_desk.paths import StationPaths

LOG_NAME = "yuexiu-desk.log"


def configure_logging(paths: StationPaths, level: int = logging.INFO) -> logging.Handler | None:
    """Send the app's log records to logs/yuexiu-desk.log; returns None if the folder cannot be written."""
    root = logging.getLogger("yuexiu_desk")
    root.setLevel(level)
    target = paths.logs / LOG_NAME
    for old in list(root.handlers):
        if isinstance(old, logging.handlers.RotatingFileHandler):
            if old.baseFilename == str(target):
                return old
            # One log per station folder: a process that switches folders (tests, the GUI's demo) moves its log.
            root.removeHandler(old)
            old.close()
    try:
        paths.logs.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            target, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return handler
