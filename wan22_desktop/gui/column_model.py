"""``ColumnTableModel``: the row/column counts and header of a Qt table over a list of rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

_Index = QModelIndex | QPersistentModelIndex


class ColumnTableModel(QAbstractTableModel):
    """A flat table over ``self._rows``, one column per name in ``COLUMNS``. Subclasses give the
    header titles in ``_titles`` so that each keeps its own translation context."""

    COLUMNS: tuple[str, ...] = ()
    _rows: Sequence[Any]

    def _titles(self) -> dict[str, str]:
        """Column name -> translated header title."""
        raise NotImplementedError

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return self._titles()[self.COLUMNS[section]]
