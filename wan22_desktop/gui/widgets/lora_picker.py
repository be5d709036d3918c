"""The Generate form's LoRA list: files with a strength per A14B expert (one for TI2V-5B).

Files are added from the library (the app's folder and adopted ones, ``wan22 loras``) or any
``.safetensors`` file; what each is for comes from its header (``lora_library``, torch-free) and
is shown as the row's tooltip. A ``*high_noise*`` file brings its ``*low_noise*`` partner along,
each on its own expert, as ``--lora`` does.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wan22_desktop.errors import UserInputError
from wan22_desktop.lora_library import expert_from_name, lora_info, partner_name, scan

Row = tuple[str, float, float]
NAME, HIGH, LOW = 0, 1, 2


class LoraPicker(QWidget):
    sig_changed = Signal()
    """The rows or a strength changed."""

    def __init__(self, folders: list[Path] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folders = list(folders or [])
        self._moe = True
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("loraTable")
        self.table.setHorizontalHeaderLabels(
            [self.tr("LoRA"), self.tr("High noise"), self.tr("Low noise")]
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setMaximumHeight(130)
        self.add = QToolButton(self)
        self.add.setObjectName("addLora")
        self.add.setText(self.tr("Add LoRA"))
        self.add.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add.setMenu(QMenu(self.add))
        self.add.menu().aboutToShow.connect(self._fill_menu)
        self.remove = QPushButton(self.tr("Remove"), self)
        self.remove.setObjectName("removeLora")
        self.remove.clicked.connect(self._remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.table)
        box.addLayout(buttons)
        self._sync_visibility()

    # ---- values

    def rows(self) -> tuple[Row, ...]:
        out = []
        for r in range(self.table.rowCount()):
            item = self.table.item(r, NAME)
            assert item is not None
            high = self._spin(r, HIGH).value()
            low = self._spin(r, LOW).value() if self._moe else high
            out.append((str(item.data(256)), high, low))
        return tuple(out)

    def set_rows(self, rows: tuple[Row, ...]) -> None:
        self.table.setRowCount(0)
        for path, high, low in rows:
            self._append(path, high, low, emit=False)
        self._sync_visibility()

    def set_task(self, task: str) -> None:
        """A14B: one strength per expert; TI2V-5B (one model): one strength."""
        self._moe = task != "ti2v-5B"
        self.table.setColumnHidden(LOW, not self._moe)
        header = self.table.horizontalHeaderItem(HIGH)
        if header is not None:
            header.setText(self.tr("High noise") if self._moe else self.tr("Strength"))

    # ---- adding and removing

    def add_file(self, path: str, strength: float = 1.0) -> None:
        """Add a file (and its high/low-noise partner for A14B); already listed files stay."""
        p = Path(path)
        listed = {row[0] for row in self.rows()}
        expert = expert_from_name(p.name) if self._moe else "both"
        other = partner_name(p.name)
        partner = p.with_name(other) if other and expert != "both" else None
        entries: list[Row] = []
        if expert == "both":
            entries = [(str(p), strength, strength)]
        elif expert == "high":
            entries = [(str(p), strength, 0.0)]
            if partner is not None and partner.is_file():
                entries.append((str(partner), 0.0, strength))
        else:
            if partner is not None and partner.is_file():
                entries.append((str(partner), strength, 0.0))
            entries.append((str(p), 0.0, strength))
        for f, high, low in entries:
            if f not in listed:
                self._append(f, high, low, emit=False)
        self._sync_visibility()
        self.sig_changed.emit()

    def _append(self, path: str, high: float, low: float, *, emit: bool = True) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        item = QTableWidgetItem(Path(path).name)
        item.setData(256, path)  # Qt.UserRole
        item.setToolTip(_describe(path))
        self.table.setItem(r, NAME, item)
        for col, value in ((HIGH, high), (LOW, low)):
            spin = QDoubleSpinBox(self.table)
            spin.setRange(-10.0, 10.0)
            spin.setSingleStep(0.1)
            spin.setDecimals(2)
            spin.setValue(value)
            spin.valueChanged.connect(self.sig_changed)
            self.table.setCellWidget(r, col, spin)
        if emit:
            self.sig_changed.emit()

    def _spin(self, row: int, col: int) -> QDoubleSpinBox:
        widget = self.table.cellWidget(row, col)
        assert isinstance(widget, QDoubleSpinBox)
        return widget

    def _remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.rowCount():
            rows = [self.table.rowCount() - 1]
        for r in rows:
            self.table.removeRow(r)
        self._sync_visibility()
        self.sig_changed.emit()

    def _sync_visibility(self) -> None:
        self.table.setVisible(self.table.rowCount() > 0)
        self.remove.setEnabled(self.table.rowCount() > 0)

    def _fill_menu(self) -> None:
        menu = self.add.menu()
        menu.clear()
        usable = [i for i in scan(self.folders) if i.get("usable")]
        for info in usable:
            text = f"{info['name']}  ({info['family']}, {info['expert']})"
            action = menu.addAction(text)
            action.triggered.connect(lambda _=False, p=info["path"]: self.add_file(p))
        if usable:
            menu.addSeparator()
        menu.addAction(self.tr("Browse…")).triggered.connect(self._browse)

    def _browse(self) -> None:
        start = str(self.folders[0]) if self.folders else ""
        files, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Add LoRA"), start, self.tr("LoRA files (*.safetensors)")
        )
        for f in files:
            self.add_file(f)


def _describe(path: str) -> str:
    """The row's tooltip: what the file is for, or why it cannot be used."""
    try:
        info = lora_info(path)
    except (UserInputError, OSError) as exc:
        return f"{path}\n{getattr(exc, 'message', exc)}"
    return (
        f"{path}\n{info['family']} {info['task']}, {info['expert']} expert(s), "
        f"{info['format']} naming, rank {info['rank'] or '-'}, {info['blocks']} blocks"
    )
