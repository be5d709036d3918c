"""Path mappings: a path a runner on another machine recorded, as this machine sees it."""

from __future__ import annotations

import pytest

from wan22_desktop.errors import UserInputError
from wan22_desktop.path_map import PathMapping, map_path, parse_mappings


def test_linux_runner_to_windows_viewer_and_longest_prefix_wins():
    maps = parse_mappings(
        "/mnt/renders => Z:\\renders\n# comment\n\n/mnt/renders/hq => \\\\nas\\hq"
    )
    assert maps == (
        PathMapping("/mnt/renders", "Z:\\renders"),
        PathMapping("/mnt/renders/hq", "\\\\nas\\hq"),
    )
    assert map_path("/mnt/renders/outputs/a b.mp4", maps) == "Z:\\renders\\outputs\\a b.mp4"
    assert map_path("/mnt/renders/hq/x.mp4", maps) == "\\\\nas\\hq\\x.mp4"
    # Only whole folder names match: /mnt/renders2 is another folder.
    assert map_path("/mnt/renders2/x.mp4", maps) == "/mnt/renders2/x.mp4"
    assert map_path("/home/me/x.mp4", maps) == "/home/me/x.mp4"


def test_windows_runner_to_linux_viewer_ignores_case_and_slashes():
    maps = parse_mappings("D:\\Wan22\\outputs => /srv/share/outputs; C:/a => /b")
    assert map_path("d:/wan22/OUTPUTS/clip.mp4", maps) == "/srv/share/outputs/clip.mp4"
    assert map_path("D:\\Wan22\\outputs\\sub\\Clip.mp4", maps) == "/srv/share/outputs/sub/Clip.mp4"
    assert map_path("E:\\other\\clip.mp4", maps) == "E:\\other\\clip.mp4"
    assert map_path("", maps) == ""


@pytest.mark.parametrize(
    ("text", "says"),
    [("/mnt/a -> /b", "FROM => TO"), ("relative => /b", "not an absolute path"), ("=> /b", "FROM")],
)
def test_bad_mappings_name_the_line(text, says):
    with pytest.raises(UserInputError) as err:
        parse_mappings(text)
    assert says in err.value.message and err.value.field == "path_mappings"


def test_the_setting_refuses_a_bad_mapping(wan22_home):
    from wan22_desktop.paths import app_paths
    from wan22_desktop.settings import Settings

    settings = Settings.load(app_paths(str(wan22_home)).ensure())
    settings.set("path_mappings", "/mnt/renders => /media/renders")
    with pytest.raises(UserInputError, match="not of the form"):
        settings.set("path_mappings", "/mnt/renders = /media/renders")
    assert settings.get("path_mappings") == "/mnt/renders => /media/renders"
