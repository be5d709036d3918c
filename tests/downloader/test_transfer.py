"""fetch_file against the fake hub: resume after a drop, corruption caught, disk full, no re-fetch."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.downloader.fake_hub import REPO_ID, SHARD
from wan22_desktop.downloader import hub_hf, hub_modelscope
from wan22_desktop.downloader.transfer import (
    ChecksumMismatch,
    RetryPolicy,
    StopFlag,
    Stopped,
    fetch_file,
    part_path,
)

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, timeout=5)


def _shard(hub, lister=hub_hf.list_files):
    _, files = lister(REPO_ID, endpoint=hub.url)
    return next(f for f in files if f.path == SHARD)


def test_dropped_connection_resumes_without_refetching_prefix(hub, online, tmp_path, tiny_repo):
    rf = _shard(hub)
    hub.faults.drop_after[SHARD] = 1_300_000
    dest = tmp_path / "out" / SHARD
    received = fetch_file(rf, dest, retry=FAST, sleep=lambda s: None)

    assert dest.read_bytes() == (tiny_repo / SHARD).read_bytes()
    gets = hub.gets(SHARD)
    assert [g.range_start for g in gets] == [0, 1_300_000]
    assert gets[1].status == 206
    # every byte of the file crossed the wire exactly once
    assert hub.bytes_sent(SHARD) == rf.size == received
    assert not part_path(dest).exists()


def test_corrupted_file_is_caught_moved_aside_and_fetched_again(hub, online, tmp_path, tiny_repo):
    rf = _shard(hub)
    hub.faults.corrupt_once.add(SHARD)
    models, quarantine = tmp_path / "model", tmp_path / "cache" / "bad-downloads"
    dest = models / SHARD
    fetch_file(rf, dest, retry=FAST, quarantine=quarantine)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == rf.sha256
    assert [p.name for p in models.iterdir()] == [SHARD]  # nothing bad left in the model folder
    assert len(list(quarantine.glob(SHARD + ".bad-*"))) == 1
    assert len(hub.gets(SHARD)) == 2


def test_corrupted_complete_file_on_disk_is_replaced(hub, online, tmp_path, tiny_repo):
    rf = _shard(hub)
    dest = tmp_path / SHARD
    good = (tiny_repo / SHARD).read_bytes()
    dest.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    fetch_file(rf, dest, retry=FAST, quarantine=tmp_path / "q")
    assert dest.read_bytes() == good
    assert list((tmp_path / "q").glob(SHARD + ".bad-*")) and not list(tmp_path.glob("*.bad-*"))


def test_always_corrupt_source_gives_clear_error(hub, online, tmp_path):
    rf = _shard(hub)
    hub.faults.corrupt_once.add(SHARD)
    bad = type(rf)(**{**rf.__dict__, "sha256": "0" * 64})
    quarantine = tmp_path / "cache" / "bad-downloads"
    with pytest.raises(ChecksumMismatch, match="checksum") as info:
        fetch_file(bad, tmp_path / "model" / SHARD, retry=FAST, quarantine=quarantine)
    kept = list(quarantine.iterdir())
    assert len(kept) == 1 and kept[0].stat().st_size == rf.size  # two bad copies, one kept
    assert str(kept[0]) in info.value.message  # the error says where
    assert list((tmp_path / "model").iterdir()) == []  # no .part.bad-* in the model folder


def test_stop_keeps_partial_and_next_run_continues(hub, online, tmp_path, tiny_repo):
    rf = _shard(hub)
    flag = StopFlag()
    seen = []

    def on_bytes(n):
        seen.append(n)
        if sum(seen) > 1_000_000:
            flag.stop("paused")

    dest = tmp_path / SHARD
    with pytest.raises(Stopped):
        fetch_file(rf, dest, on_bytes=on_bytes, flag=flag, retry=FAST)
    kept = part_path(dest).stat().st_size
    assert 1_000_000 < kept < rf.size
    assert (
        json.loads(dest.with_name(dest.name + ".part.json").read_text())["etag"] == f'"{rf.sha256}"'
    )
    fetch_file(rf, dest, retry=FAST)
    assert dest.read_bytes() == (tiny_repo / SHARD).read_bytes()
    second = hub.gets(SHARD)[-1]
    assert second.range_start == kept and second.bytes_sent == rf.size - kept


def test_changed_upstream_file_restarts_instead_of_splicing(hub, online, tmp_path, tiny_repo):
    rf = _shard(hub)
    dest = tmp_path / SHARD
    part = part_path(dest)
    part.write_bytes(b"x" * 1000)
    dest.with_name(dest.name + ".part.json").write_text(
        json.dumps({"ident": {}, "etag": '"stale"'})
    )
    fetch_file(rf, dest, retry=FAST)
    assert dest.read_bytes() == (tiny_repo / SHARD).read_bytes()
    assert hub.gets(SHARD)[0].status == 200  # If-Range did not match: whole file, from zero


def test_modelscope_file_download(hub, tmp_path, tiny_repo):
    rf = _shard(hub, hub_modelscope.list_files)
    hub.faults.drop_after[SHARD] = 500_000
    dest = tmp_path / SHARD
    fetch_file(rf, dest, retry=FAST, sleep=lambda s: None)
    assert dest.read_bytes() == (tiny_repo / SHARD).read_bytes()
    assert [g.range_start for g in hub.gets(SHARD)] == [0, 500_000]


def test_network_failure_gives_up_with_partial_kept(tmp_path):
    from wan22_desktop.downloader.remote import RemoteFile
    from wan22_desktop.errors import OperationError

    rf = RemoteFile(path="f.bin", size=10, url="http://127.0.0.1:9/f.bin")
    with pytest.raises(OperationError, match="network error"):
        fetch_file(rf, tmp_path / "f.bin", retry=FAST, sleep=lambda s: None)


def test_disk_full_mid_file_stops_cleanly(hub, online, tmp_path, tiny_repo):
    """A real write failure: the child may not grow files past 2.5 MB (EFBIG, like ENOSPC)."""
    rf = _shard(hub)
    dest = tmp_path / SHARD
    code = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(Path.cwd())!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_500_000, 2_500_000))
        from pathlib import Path
        from wan22_desktop.downloader.remote import RemoteFile
        from wan22_desktop.downloader.transfer import DiskFull, fetch_file
        rf = RemoteFile(path={rf.path!r}, size={rf.size}, url={rf.url!r}, sha256={rf.sha256!r})
        try:
            fetch_file(rf, Path({str(dest)!r}))
        except DiskFull as e:
            print("DISKFULL", e.message, e.hint)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "DISKFULL the disk is full" in out.stdout, out.stderr
    kept = part_path(dest).read_bytes()
    assert 0 < len(kept) <= 2_500_000
    assert (
        kept == (tiny_repo / SHARD).read_bytes()[: len(kept)]
    )  # the prefix is intact, no torn tail
    fetch_file(rf, dest, retry=FAST)  # space is back: continues from the kept prefix
    assert dest.read_bytes() == (tiny_repo / SHARD).read_bytes()
    assert hub.gets(SHARD)[-1].range_start == len(kept)


def test_token_goes_to_the_hub_but_not_to_the_cdn_it_redirects_to(hub, online, tmp_path, tiny_repo):
    _, files = hub_hf.list_files(REPO_ID, endpoint=hub.url, token="hf_secret")
    rf = next(f for f in files if f.path == "config.json")
    hub.faults.redirect_host = "localhost"
    fetch_file(rf, tmp_path / "config.json", retry=FAST)
    assert (tmp_path / "config.json").read_bytes() == (tiny_repo / "config.json").read_bytes()
    redirect = next(s for s in hub.log if s.method == "REDIRECT")
    assert redirect.auth == "Bearer hf_secret"
    assert hub.gets("config.json")[-1].auth is None
