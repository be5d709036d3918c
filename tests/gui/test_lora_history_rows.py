"""History detail lists a job's LoRAs by file name with per-expert strengths (not raw JSON)."""

from __future__ import annotations

from wan22_desktop.gui.history_actions import lora_rows


def test_lora_rows():
    rows = lora_rows(
        [
            {
                "path": "/l/a_high_noise.safetensors",
                "sha256": "ab" * 32,
                "strength_high": 1.0,
                "strength_low": 0.0,
            },
            {
                "path": "/l/style.safetensors",
                "sha256": "cd" * 32,
                "strength_high": 0.5,
                "strength_low": 1.25,
            },
        ]
    )
    assert rows == [
        ("a_high_noise.safetensors", "high 1, low 0, sha256 abababababab"),
        ("style.safetensors", "high 0.5, low 1.25, sha256 cdcdcdcdcdcd"),
    ]
