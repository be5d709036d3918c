"""``wan22 presets``: the named settings ``--preset NAME`` starts from (resources/presets.json)."""

from __future__ import annotations

import argparse
import json

from wan22_desktop.presets import all_presets, default_lora_dir, describe


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("presets", help="named generation settings (--preset NAME)")
    sub = p.add_subparsers(dest="presets_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="every preset, its settings and the LoRAs it needs")
    ls.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    lora_dir = default_lora_dir(getattr(args, "home", None))
    rows = []
    for preset in all_presets().values():
        row = describe(preset)
        for lora in row["loras"]:
            lora["downloaded"] = (lora_dir / lora["catalog"] / lora["file"]).is_file()
        rows.append(row)
    if getattr(args, "json", False):
        print(json.dumps({"presets": rows}, ensure_ascii=False))
        return 0
    for row in rows:
        f = row["fields"]
        g = f.get("guidance", {})
        print(f"{row['name']}: {row['title']}")
        print(
            f"  {row['task']}, {f.get('sample_steps')} steps, {f.get('solver', 'unipc')}, "
            f"shift {f.get('sample_shift')}, guidance {g.get('high')}/{g.get('low')} (high/low)"
            + (f", high-noise expert for {f['switch_step']} steps" if "switch_step" in f else "")
            + (
                f"; first {f['warmup_steps']} step(s) at guidance "
                f"{f.get('warmup_guidance', 'of the expert')} without LoRAs"
                if f.get("warmup_steps")
                else ""
            )
        )
        for lora in row["loras"]:
            state = (
                "downloaded"
                if lora["downloaded"]
                else f"missing: wan22 models download {lora['catalog']}"
            )
            print(
                f"  LoRA {lora['file'].rsplit('/', 1)[-1]} "
                f"(high {lora['strength_high']:g}, low {lora['strength_low']:g}): {state}"
            )
    return 0
