"""The USB barcode scanner, from any screen: an application-wide event filter that recognises the scanner's
keyboard burst (fast printable keys starting with "YX", ended by Enter) and emits scanned(text).

A scanner types far faster than a person (a few ms per key). The filter holds back a "Y" and what follows
it while the keys keep coming fast. If the burst completes (prefix, length, Enter) it is swallowed and
emitted; if the keys slow down, turn out not to be a label, or a non-text key arrives, the held keys are
replayed to the widget they were meant for, in order, so human typing is unaffected (a typed "Y" appears
a few tens of milliseconds late, which no one notices).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

TimeSource = Callable[[], float]  # milliseconds, monotonic

_MODIFIER_KEYS = {
    Qt.Key.Key_Shift,
    Qt.Key.Key_Control,
    Qt.Key.Key_Alt,
    Qt.Key.Key_AltGr,
    Qt.Key.Key_Meta,
    Qt.Key.Key_CapsLock,
    Qt.Key.Key_NumLock,
}
_ENTER_KEYS = {Qt.Key.Key_Return, Qt.Key.Key_Enter}
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
)
MAX_BURST = 256


def monotonic_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass(frozen=True)
class _HeldKey:
    key: int
    modifiers: Qt.KeyboardModifier
    text: str
    target: QWidget


class ScannerFilter(QObject):
    """Install with QApplication.installEventFilter(); emits scanned(text) for every complete burst."""

    scanned = Signal(str)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        max_gap_ms: float = 35.0,
        min_length: int = 8,
        prefix: str = "YX",
        time_source: TimeSource | None = None,
    ) -> None:
        super().__init__(parent)
        self.max_gap_ms = max_gap_ms
        self.min_length = min_length
        self.prefix = prefix.upper()
        self.time_source: TimeSource = time_source or monotonic_ms
        self._held: list[_HeldKey] = []
        self._last_ms = 0.0
        self._swallow_release: Counter[int] = Counter()
        self._replaying = False
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self._on_idle)

    # --- public -------------------------------------------------------------------------------------
    def install(self, app: QApplication) -> None:
        app.installEventFilter(self)

    def uninstall(self, app: QApplication) -> None:
        self.flush()
        app.removeEventFilter(self)

    @property
    def holding(self) -> str:
        """The keys held back so far (empty unless a possible burst is in progress)."""
        return "".join(k.text for k in self._held)

    def flush(self) -> None:
        """Give the held keys to the widget they were meant for (the burst was not a scan)."""
        self._idle.stop()
        held, self._held = self._held, []
        if not held:
            return
        self._replaying = True
        try:
            for k in held:
                target = k.target if isValid(k.target) else QApplication.focusWidget()
                if target is None:
                    continue
                self._swallow_release[k.key] = max(0, self._swallow_release[k.key] - 1)
                event = QKeyEvent(QEvent.Type.KeyPress, k.key, k.modifiers, k.text)
                QApplication.sendEvent(target, event)
        finally:
            self._replaying = False

    # --- the filter ---------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if self._replaying or kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        # Key events reach the QWindow first and then the focus widget; look at them once, at the widget.
        if not isinstance(watched, QWidget) or not isinstance(event, QKeyEvent):
            return False
        if kind == QEvent.Type.KeyRelease:
            return self._on_release(event)
        return self._on_press(watched, event)

    def _on_release(self, event: QKeyEvent) -> bool:
        key = event.key()
        if event.isAutoRepeat() or self._swallow_release[key] <= 0:
            return False
        self._swallow_release[key] -= 1
        return True

    def _on_press(self, target: QWidget, event: QKeyEvent) -> bool:
        key = event.key()
        if key in _MODIFIER_KEYS:
            return False  # scanners press Shift for capitals; that must not end a burst
        now = self.time_source()
        if self._held and now - self._last_ms > self.max_gap_ms:
            self.flush()  # too slow for a scanner: a person is typing
        text = event.text()
        command = bool(event.modifiers() & _COMMAND_MODIFIERS)

        if key in _ENTER_KEYS and not command:
            if not self._held:
                return False
            burst = self.holding
            if len(burst) >= self.min_length and burst.upper().startswith(self.prefix):
                self._held = []
                self._idle.stop()
                self._swallow_release[key] += 1
                self.scanned.emit(burst)
                return True
            self.flush()
            return False

        printable = len(text) == 1 and text.isprintable() and not command
        if not printable or event.isAutoRepeat():
            self.flush()
            return False
        candidate = (self.holding + text).upper()
        possible = (
            candidate.startswith(self.prefix)
            if len(candidate) >= len(self.prefix)
            else self.prefix.startswith(candidate)
        )
        if not possible or len(candidate) > MAX_BURST:
            self.flush()
            if not (self.prefix.startswith(text.upper()) and text.strip()):
                return False
            # this key may itself start a label (e.g. "YYX…"): hold it as a fresh start
        self._held.append(_HeldKey(key, event.modifiers(), text, target))
        self._swallow_release[key] += 1
        self._last_ms = now
        self._idle.start(int(self.max_gap_ms) + 15)
        return True

    def _on_idle(self) -> None:
        """No key for a while: whatever is held was typed by a person (or a burst lost its Enter)."""
        if not self._held:
            return
        waited = self.time_source() - self._last_ms
        if waited > self.max_gap_ms:
            self.flush()
        else:
            self._idle.start(max(1, int(self.max_gap_ms - waited) + 5))
