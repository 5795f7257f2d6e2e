"""The USB barcode scanner, from any screen: an application-wide event filter that recognises the scanner's
keyboard burst (fast printable keys starting with "YX", ended by Enter) and emits scanned(text).

A scanner types far faster than a person (a few ms per key). The filter holds back a "Y" and what follows
it while the keys keep coming fast. If the burst completes (prefix, length, Enter) it is swallowed and
emitted; if the keys slow down, turn out not to be a label, or a non-text key arrives, the held keys are
replayed to the widget they were meant for, in order, so human typing is unaffected (a typed "Y" appears
a few tens of milliseconds late, which no one notices).

"Fast" is measured between the moments the keys were typed, QKeyEvent.timestamp(), not when the GUI thread
gets round to them: a refresh or a repaint that stalls the thread mid-burst leaves the rest of the burst
queued, and those keys arrive back to back. Only events without a timestamp (synthetic ones, e.g. QTest's)
fall back to the injectable time source. For the same reason the idle timer never decides on its first
firing: it may be firing late, ahead of keys still queued behind the stall, so it gives the event loop one
more short turn first.

Releases are paired with their presses: the release of a held key is held with it and replayed after its
press; the releases of a swallowed burst are swallowed.
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
# The filter sees every event of the application (paints, timers, …): the first test must be cheap.
_KEY_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride)
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
)
MAX_BURST = 256
CONFIRM_MS = 10  # the idle timer's second look: long enough for the event loop to deliver queued keys
LATE_MS = 25  # a second look this late means the GUI thread stalled again: look once more
MAX_HOLD_MS = 2000  # however busy the GUI thread, never hold keys longer than this (time source)


def monotonic_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass
class _HeldKey:
    key: int
    modifiers: Qt.KeyboardModifier
    text: str
    target: QWidget
    timestamp: int
    released: bool = False


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
        self._last_ms = 0.0  # time source, when the last held key was processed
        self._last_stamp = 0  # QKeyEvent.timestamp() of the last held key (0: none)
        self._first_ms = 0.0  # time source, when the first held key was processed
        self._swallow_release: Counter[int] = Counter()  # keys of a swallowed burst not yet released
        self._replaying: QKeyEvent | None = None  # the event flush() is delivering right now
        self._in_replay: list[_HeldKey] = []  # keys whose press flush() is delivering right now
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self._on_idle)
        self._idle_due = 0.0
        self._confirming = False

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
        """Give the held keys to the widget they were meant for (the burst was not a scan): each press, and
        its release if that came while it was held; a release still to come passes through later."""
        self._idle.stop()
        self._confirming = False
        while self._held:
            # One at a time, the rest still held: should delivering a press run an event loop (a widget
            # opening a dialog), a release arriving meanwhile still finds its key and waits for its press.
            k = self._held.pop(0)
            target = k.target if isValid(k.target) else QApplication.focusWidget()
            self._in_replay.append(k)
            try:
                self._replay(target, QEvent.Type.KeyPress, k)
            finally:
                self._in_replay.remove(k)
            if k.released:
                self._replay(target, QEvent.Type.KeyRelease, k)

    def _replay(self, target: QWidget | None, kind: QEvent.Type, k: _HeldKey) -> None:
        if target is None or not isValid(target):
            return
        event = QKeyEvent(kind, k.key, k.modifiers, k.text)
        event.setTimestamp(k.timestamp)
        outer, self._replaying = self._replaying, event
        try:
            QApplication.sendEvent(target, event)
        finally:
            self._replaying = outer

    # --- the filter ---------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in _KEY_EVENTS:
            return False
        # Key events reach the QWindow first and then the focus widget; look at them once, at the widget.
        if not isinstance(watched, QWidget) or not isinstance(event, QKeyEvent) or event is self._replaying:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            self._on_shortcut_override(event)
            return False
        if kind == QEvent.Type.KeyRelease:
            return self._on_release(event)
        return self._on_press(watched, event)

    def _on_shortcut_override(self, event: QKeyEvent) -> None:
        """A shortcut (Ctrl+L, F5, …) is decided before its key press is delivered, and may consume it: give
        the held keys to their widget first, so they land before whatever the shortcut does."""
        if not self._held or event.key() in _MODIFIER_KEYS:
            return
        command = bool(event.modifiers() & _COMMAND_MODIFIERS)
        text = event.text()
        printable = len(text) == 1 and text.isprintable()
        if command or (not printable and event.key() not in _ENTER_KEYS):
            self.flush()

    def _on_release(self, event: QKeyEvent) -> bool:
        key = event.key()
        if event.isAutoRepeat():
            return False
        for k in [*self._in_replay, *self._held]:
            if k.key == key and not k.released:
                k.released = True  # replayed right after its press, never before it
                return True
        if self._swallow_release[key] > 0:
            self._swallow_release[key] -= 1
            return True
        return False

    def _gap_ms(self, event: QKeyEvent, now: float) -> float:
        """Time since the last held key was typed: by event timestamps when both have one."""
        stamp = event.timestamp()
        if stamp and self._last_stamp and stamp >= self._last_stamp:
            return float(stamp - self._last_stamp)
        return now - self._last_ms

    def _on_press(self, target: QWidget, event: QKeyEvent) -> bool:
        key = event.key()
        if key in _MODIFIER_KEYS:
            return False  # scanners press Shift for capitals; that must not end a burst
        if not event.isAutoRepeat():
            self._swallow_release.pop(key, None)  # pressed again, so released since: nothing left to swallow
        if self._in_replay:
            self.flush()  # typed while held keys are being handed out: after them, and not held itself
            return False
        now = self.time_source()
        if self._held and self._gap_ms(event, now) > self.max_gap_ms:
            self.flush()  # too slow for a scanner: a person is typing
        text = event.text()
        command = bool(event.modifiers() & _COMMAND_MODIFIERS)

        if key in _ENTER_KEYS and not command:
            if not self._held:
                return False
            burst = self.holding
            if len(burst) >= self.min_length and burst.upper().startswith(self.prefix):
                held, self._held = self._held, []
                self._idle.stop()
                self._confirming = False
                for k in held:
                    if not k.released:
                        self._swallow_release[k.key] += 1
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
        if not self._held:
            self._first_ms = now
        self._held.append(_HeldKey(key, event.modifiers(), text, target, event.timestamp()))
        self._last_ms = now
        self._last_stamp = event.timestamp()
        self._confirming = False
        self._arm(self.max_gap_ms + 15)
        return True

    def _arm(self, ms: float) -> None:
        self._idle_due = self.time_source() + ms
        self._idle.start(max(1, int(ms)))

    def _on_idle(self) -> None:
        """No key for a while: whatever is held was typed by a person (or a burst lost its Enter).

        The timer may fire late, after a stall of the GUI thread, while keys typed in time are still queued;
        so the first time the wait is over it only looks again a moment later (CONFIRM_MS), which lets the
        event loop deliver those keys first (they restart the timer). It flushes only on a second look that
        was itself on time.
        """
        if not self._held:
            return
        now = self.time_source()
        waited = now - self._last_ms
        if waited <= self.max_gap_ms:
            self._confirming = False
            self._arm(self.max_gap_ms - waited + 5)
            return
        late = now - self._idle_due
        if (not self._confirming or late > LATE_MS) and now - self._first_ms < MAX_HOLD_MS:
            self._confirming = True
            self._arm(CONFIRM_MS)
            return
        self.flush()
