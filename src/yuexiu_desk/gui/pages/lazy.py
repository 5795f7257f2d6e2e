"""A page that reads its data when it is on screen: a write elsewhere marks it stale, and it reloads when
shown (or at once when it is showing). Most pages list a few hundred rows; re-reading them on every write
while hidden would be wasted work."""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget


class RefreshingPage(QWidget):
    """Subclasses implement refresh() (which reads and shows the data, and sets _stale to False)."""

    _stale = True

    def refresh(self) -> None:
        raise NotImplementedError

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def data_changed(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True
