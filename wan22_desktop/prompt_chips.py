"""Aesthetic phrase chips for prompts (lighting, time of day, shot size, composition, colour tone,
camera movement), in Chinese and English, and how a chip's phrase joins an existing prompt.

Pure data and string functions: the GUI renders the chips; the vocabulary follows the Wan2.2
prompt guide's aesthetic-control categories (light source, light quality, time of day, shot size,
composition, lens, tone, camera movement), written here in our own words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

LANGS = ("en", "zh")


@dataclass(frozen=True)
class Chip:
    key: str
    en: str
    zh: str

    def phrase(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class ChipGroup:
    key: str
    title_en: str
    title_zh: str
    chips: tuple[Chip, ...]

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


CHIP_GROUPS: tuple[ChipGroup, ...] = (
    ChipGroup(
        "lighting",
        "Light",
        "光线",
        (
            Chip("soft_light", "soft diffused light", "柔和的漫射光"),
            Chip("hard_light", "hard light with crisp shadows", "硬光，阴影清晰"),
            Chip("backlight", "backlit, glowing rim light", "逆光，轮廓光"),
            Chip("side_light", "side lighting", "侧光"),
            Chip("top_light", "top light", "顶光"),
            Chip("practical_light", "warm practical lamps", "暖色实景灯光"),
            Chip("neon", "neon light", "霓虹灯光"),
            Chip("candle", "candlelight", "烛光"),
        ),
    ),
    ChipGroup(
        "time",
        "Time",
        "时间",
        (
            Chip("sunrise", "at sunrise", "日出时分"),
            Chip("golden_hour", "golden hour", "黄金时刻"),
            Chip("daylight", "bright daylight", "白天，阳光明媚"),
            Chip("overcast", "overcast day", "阴天"),
            Chip("sunset", "at sunset", "日落时分"),
            Chip("dusk", "blue hour at dusk", "黄昏蓝调时刻"),
            Chip("night", "at night", "夜晚"),
        ),
    ),
    ChipGroup(
        "shot",
        "Shot",
        "景别",
        (
            Chip("extreme_close", "extreme close-up", "特写"),
            Chip("close", "close-up shot", "近景"),
            Chip("medium", "medium shot", "中景"),
            Chip("medium_long", "medium long shot", "中远景"),
            Chip("wide", "wide shot", "远景"),
            Chip("establishing", "establishing shot", "全景"),
        ),
    ),
    ChipGroup(
        "composition",
        "Composition",
        "构图",
        (
            Chip("centered", "centered composition", "中心构图"),
            Chip("thirds", "rule-of-thirds composition", "三分法构图"),
            Chip("symmetry", "symmetrical composition", "对称构图"),
            Chip("low_angle", "low-angle shot", "低角度仰拍"),
            Chip("high_angle", "high-angle shot", "高角度俯拍"),
            Chip("over_shoulder", "over-the-shoulder shot", "过肩镜头"),
            Chip("shallow_dof", "shallow depth of field", "浅景深"),
        ),
    ),
    ChipGroup(
        "tone",
        "Tone",
        "色调",
        (
            Chip("warm", "warm colour tone", "暖色调"),
            Chip("cool", "cool colour tone", "冷色调"),
            Chip("high_saturation", "vivid, saturated colours", "高饱和度"),
            Chip("low_saturation", "muted, desaturated colours", "低饱和度"),
            Chip("film", "cinematic film look", "电影质感"),
            Chip("black_white", "black and white", "黑白画面"),
        ),
    ),
    ChipGroup(
        "camera",
        "Camera",
        "运镜",
        (
            Chip("static", "static camera", "固定镜头"),
            Chip("push_in", "slow push-in", "镜头缓慢推进"),
            Chip("pull_out", "slow pull-out", "镜头缓慢拉远"),
            Chip("pan", "camera pans left to right", "镜头从左向右摇移"),
            Chip("tracking", "tracking shot following the subject", "跟随主体的跟拍镜头"),
            Chip("orbit", "camera orbits around the subject", "环绕主体运镜"),
            Chip("handheld", "handheld camera", "手持镜头"),
            Chip("crane", "crane shot rising upward", "升降镜头向上"),
        ),
    ),
)

CHIPS: dict[str, Chip] = {chip.key: chip for group in CHIP_GROUPS for chip in group.chips}

_SEPARATOR = {"en": ", ", "zh": "，"}
_TRAILING = ",，;；、 \t\n"
_END_PUNCT = ".。!！?？"


def prompt_language(prompt: str) -> str:
    """ "zh" when the prompt has any CJK ideographs, else "en"; decides which phrase to insert."""
    return "zh" if any(unicodedata.name(c, "").startswith("CJK UNIFIED") for c in prompt) else "en"


def contains_phrase(prompt: str, phrase: str) -> bool:
    return _norm(phrase) in _norm(prompt)


def insert_phrase(prompt: str, phrase: str, lang: str | None = None) -> str:
    """``prompt`` with ``phrase`` appended as one clause; unchanged if it is already there.

    The clause joins with the language's comma; a final full stop moves to the end, so
    "A cat sleeps." + "close-up shot" gives "A cat sleeps, close-up shot." (and 。 for Chinese).
    """
    lang = lang or prompt_language(prompt)
    phrase = phrase.strip().strip(_TRAILING + _END_PUNCT)
    if not phrase or contains_phrase(prompt, phrase):
        return prompt
    body = prompt.rstrip()
    end = ""
    while body and body[-1] in _END_PUNCT:
        end = body[-1] + end
        body = body[:-1].rstrip()
    body = body.rstrip(_TRAILING)
    if not body:
        return phrase + end
    return f"{body}{_SEPARATOR.get(lang, ', ')}{phrase}{end}"


def remove_phrase(prompt: str, phrase: str) -> str:
    """``prompt`` without the clause ``phrase`` (a chip clicked a second time)."""
    pattern = re.compile(r"\s*[,，;；、]?\s*" + re.escape(phrase.strip()), re.IGNORECASE)
    out = pattern.sub("", prompt, count=1).strip()
    out = re.sub(r"^[,，;；、]\s*", "", out)
    return out


def _norm(text: str) -> str:
    return " ".join(text.lower().split())
