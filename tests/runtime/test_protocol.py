"""Runner and worker speak the same protocol: every message round-trips; bad lines are refused."""

import pytest

from wan22_desktop.runtime import protocol as p

SAMPLES = [
    p.RunJob(1, {"task": "ti2v-5B"}, {"device": "cpu"}, "/m", "/o/x.mp4", "/o/x.jpg", "/tmp", 2),
    p.Cancel(3),
    p.Release(),
    p.Shutdown(),
    p.Ping(),
    p.Ready(123, "2.13.0", ["cpu"]),
    p.JobStarted(1, warm=True),
    p.Phase(1, "sampling"),
    p.Step(1, 2, 4, 875, "high_noise", 1.5, 1.33),
    p.Preview(1, 2, "/tmp/p.jpg"),
    p.Log("info", "loaded in 2.0 s", 1),
    p.Done(
        1,
        ["/o/x.mp4"],
        42,
        "一只猫在草地上奔跑",
        "/o/x.jpg",
        None,
        {"sampling": 1.0},
        None,
        1000,
        5,
        64,
        64,
        24,
    ),
    p.Failed(1, "out_of_memory", "CUDA out of memory", "turn on offload", "sampling", 3),
    p.Pong(),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=[type(m).__name__ for m in SAMPLES])
def test_roundtrip(msg):
    line = msg.to_line()
    assert line.endswith("\n") and line.count("\n") == 1
    assert p.decode(line) == msg


def test_commands_and_events_are_separate_tables():
    assert set(p.COMMANDS).isdisjoint(p.EVENTS)
    with pytest.raises(p.ProtocolError, match="unknown message type"):
        p.decode(p.Cancel(1).to_line(), p.EVENTS)


@pytest.mark.parametrize(
    "line,match",
    [
        ("not json", "not JSON"),
        ("[1]", "not a message"),
        ('{"v": 99, "type": "ping"}', "protocol version 99"),
        ('{"v": 1, "type": "nope"}', "unknown message type"),
        ('{"v": 1, "type": "cancel"}', "bad cancel"),
        ('{"v": 1, "type": "phase", "job_id": 1, "phase": "dreaming"}', "unknown phase"),
        (
            '{"v": 1, "type": "failed", "job_id": 1, "kind": "oops", "message": "x"}',
            "unknown failure",
        ),
    ],
)
def test_bad_lines(line, match):
    with pytest.raises(p.ProtocolError, match=match):
        p.decode(line)


def test_unknown_fields_are_ignored_for_forward_compatibility():
    assert p.decode('{"v": 1, "type": "cancel", "job_id": 4, "extra": true}') == p.Cancel(4)
