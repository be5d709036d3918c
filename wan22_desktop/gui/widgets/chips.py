"""Chip rows for the prompt: one tab per aesthetic group; a click inserts or removes a phrase."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QToolButton, QWidget

from wan22_desktop.gui.widgets.flow_layout import FlowLayout
from wan22_desktop.prompt_chips import CHIP_GROUPS, Chip, contains_phrase


class ChipPanel(QTabWidget):
    # ---- Signals
    sig_chip_toggled = Signal(object, bool)
    """A chip was clicked. Args: ``Chip``, whether it is now on (insert) or off (remove)."""

    def __init__(self, parent: QWidget | None = None, *, ui_language: str = "en") -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.buttons: dict[str, QToolButton] = {}
        lang = "zh" if ui_language.startswith("zh") else "en"
        for group in CHIP_GROUPS:
            page = QWidget(self)
            flow = FlowLayout(page)
            for chip in group.chips:
                button = QToolButton(page)
                button.setObjectName(f"chip_{chip.key}")
                button.setText(chip.phrase(lang))
                button.setToolTip(f"{chip.en}\n{chip.zh}")
                button.setCheckable(True)
                button.setAutoRaise(False)
                button.clicked.connect(lambda on, c=chip: self.sig_chip_toggled.emit(c, on))
                flow.addWidget(button)
                self.buttons[chip.key] = button
            self.addTab(page, group.title(lang))

    def sync(self, prompt: str, chips: dict[str, Chip]) -> None:
        """Check the chips whose phrase (either language) is in the prompt."""
        for key, button in self.buttons.items():
            chip = chips[key]
            on = contains_phrase(prompt, chip.en) or contains_phrase(prompt, chip.zh)
            if button.isChecked() != on:
                button.setChecked(on)
