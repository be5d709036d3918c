import pytest

from wan22_desktop.services.render_eta import OFFICIAL_SECONDS, estimate, format_duration, gpu_class


@pytest.mark.parametrize(
    "name, cls",
    [
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("NVIDIA H200", "H100"),
        ("NVIDIA H20", "H20"),
        ("NVIDIA A800-SXM4-80GB", "A100"),
        ("NVIDIA GeForce RTX 4090", "RTX 4090"),
        ("NVIDIA GeForce GTX 1080", None),
    ],
)
def test_gpu_class(name, cls):
    assert gpu_class(name) == cls


@pytest.mark.parametrize(
    "gpu, task, size, frames, steps, n, key",
    [
        ("NVIDIA H100", "t2v-A14B", (1280, 720), 81, 40, 1, ("H100", "A14B", "720P")),
        ("NVIDIA H100", "t2v-A14B", (832, 480), 81, 40, 4, ("H100", "A14B", "480P")),
        ("NVIDIA A100", "i2v-A14B", (1280, 720), 81, 40, 8, ("A100", "A14B", "720P")),
        ("NVIDIA GeForce RTX 4090", "ti2v-5B", (1280, 704), 121, 50, 1, ("RTX 4090", "5B", "720P")),
    ],
)
def test_official_jobs_reproduce_the_table_inside_the_range(gpu, task, size, frames, steps, n, key):
    eta = estimate(task, *size, frames, steps, n, gpu)
    official = OFFICIAL_SECONDS[key][(1, 4, 8).index(n)]
    assert eta.low_s < official < eta.high_s
    assert eta.low_s == pytest.approx(official * 0.8) and eta.high_s == pytest.approx(
        official * 1.3
    )


def test_scaling_with_steps_frames_and_gpus():
    base = estimate("t2v-A14B", 1280, 720, 81, 40, 1, "H100")
    assert estimate("t2v-A14B", 1280, 720, 81, 20, 1, "H100").low_s == pytest.approx(base.low_s / 2)
    longer = estimate("t2v-A14B", 1280, 720, 161, 40, 1, "H100")
    assert longer.low_s > 2 * base.low_s  # attention: more than linear in tokens
    two = estimate("t2v-A14B", 1280, 720, 81, 40, 2, "H100")
    four = estimate("t2v-A14B", 1280, 720, 81, 40, 4, "H100")
    assert four.low_s < two.low_s < base.low_s


def test_unknown_gpu_gets_a_wide_range_and_cpu_none():
    eta = estimate("ti2v-5B", 1280, 704, 121, 50, 1, "Some Future GPU")
    assert eta.high_s / eta.low_s > 5
    assert estimate("ti2v-5B", 1280, 704, 121, 50, 0, "") is None


@pytest.mark.parametrize(
    "secs, text", [(5, "5 s"), (75, "1 min 15 s"), (900, "15 min"), (4049, "1 h 07 min")]
)
def test_format_duration(secs, text):
    assert format_duration(secs) == text
