import pytest

from wan22_desktop.prompt_chips import (
    CHIP_GROUPS,
    CHIPS,
    contains_phrase,
    insert_phrase,
    prompt_language,
    remove_phrase,
)


def test_groups_cover_the_issue_categories_in_both_languages():
    assert [g.key for g in CHIP_GROUPS] == [
        "lighting",
        "time",
        "shot",
        "composition",
        "tone",
        "camera",
    ]
    for chip in CHIPS.values():
        assert chip.en.isascii() and chip.en == chip.en.strip()
        assert prompt_language(chip.zh) == "zh"
    assert len(CHIPS) == sum(len(g.chips) for g in CHIP_GROUPS)  # keys are unique


@pytest.mark.parametrize(
    "prompt, phrase, lang, expected",
    [
        ("", "close-up shot", "en", "close-up shot"),
        ("A cat sleeps", "close-up shot", None, "A cat sleeps, close-up shot"),
        ("A cat sleeps.", "close-up shot", None, "A cat sleeps, close-up shot."),
        ("A cat sleeps, ", "at night", None, "A cat sleeps, at night"),
        ("A cat sleeps, close-up shot.", "Close-up shot", None, "A cat sleeps, close-up shot."),
        ("一只猫在睡觉。", "近景", None, "一只猫在睡觉，近景。"),
        ("一只猫在睡觉，", "暖色调", None, "一只猫在睡觉，暖色调"),
        ("A cat!", "warm colour tone.", "en", "A cat, warm colour tone!"),
    ],
)
def test_insert_phrase(prompt, phrase, lang, expected):
    assert insert_phrase(prompt, phrase, lang) == expected


def test_remove_phrase_undoes_insert():
    text = insert_phrase("A cat sleeps.", "close-up shot")
    assert remove_phrase(text, "close-up shot") == "A cat sleeps."
    zh = insert_phrase("一只猫在睡觉。", "近景")
    assert remove_phrase(zh, "近景") == "一只猫在睡觉。"
    assert not contains_phrase(remove_phrase(zh, "近景"), "近景")


def test_language_detection():
    assert prompt_language("a red fox") == "en"
    assert prompt_language("a red fox 红狐") == "zh"
