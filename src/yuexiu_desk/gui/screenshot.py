"""Screenshots of the desk app for the docs: `python -m yuexiu_desk.gui.screenshot DATA_DIR OUT_DIR`.

Opens the main window on a station folder (run `yuexiu-desk demo` there first), shows each page and one
unit card, and saves PNGs. Under Xvfb: xvfb-run -s "-screen 0 1400x900x24" python -m ...
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from yuexiu_desk.gui.app import create_main_window, setup_application
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.db import Store


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("用法：python -m yuexiu_desk.gui.screenshot 数据目录 输出目录", file=sys.stderr)
        return 2
    data_dir, out_dir = Path(argv[0]), Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    setup_application(app)
    store = Store.open(StationPaths.resolve(data_dir))
    window = create_main_window(store, labels_dir=out_dir)
    try:
        window.resize(1360, 860)
        window.show()
        app.processEvents()
        shots = {
            "register": 0,
            "housemap": 1,
            "statistics": 2,
            "households": 3,
            "leases": 4,
            "collection": 5,
            "arrears": 6,
            "funds": 7,
        }
        for name, page in shots.items():
            window.show_page(page)
            if name == "leases" and window.leases is not None:
                window.leases.view.selectRow(0)
            for _ in range(5):
                app.processEvents()
            window.grab().save(str(out_dir / f"screenshot-{name}.png"))
        with store.read() as session:
            unit = find_unit_id_by_code(session, "1-2-1603")
        card = window.open_unit(unit)
        if card is not None:
            for _ in range(5):
                app.processEvents()
            card.grab().save(str(out_dir / "screenshot-unitcard.png"))
            dialog = card.open_handover("checkin")
            if dialog is not None:
                for _ in range(5):
                    app.processEvents()
                dialog.grab().save(str(out_dir / "screenshot-checkin.png"))
                dialog.reject()
    finally:
        window.close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
