"""A local hub on 127.0.0.1 speaking the routes huggingface_hub and modelscope call, serving files
from a folder with correct metadata, honouring Range/If-Range, and able to misbehave on purpose."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LFS_MIN = 1024  # files at least this big are "LFS" (sha256 listed); smaller ones are git blobs


@dataclass
class Sent:
    method: str
    path: str
    range_start: int
    status: int
    bytes_sent: int
    auth: str | None = None  # the Authorization header the request carried


@dataclass
class Faults:
    drop_after: dict[str, int] = field(default_factory=dict)  # path -> bytes, once, then cleared
    corrupt_once: set[str] = field(default_factory=set)  # path -> serve flipped bytes once
    throttle: float = 0.0  # seconds to sleep per 64 KiB chunk
    extra_listing: list[dict] = field(default_factory=list)  # raw entries added to listings
    redirect_host: str | None = (
        None  # answer file GETs with a 302 to this host (like the hub's CDN)
    )
    fail_listing: int = 0  # HTTP status for listings (0: answer normally)


REPO_ID = "Wan-AI/Wan2.2-TI2V-5B"
SHARD = "diffusion_pytorch_model-00001-of-00002.safetensors"


class FakeHub:
    def __init__(self, repos: dict[str, Path]) -> None:
        self.repos = repos
        self.faults = Faults()
        self.log: list[Sent] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self.thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, sent: Sent) -> None:
        with self._lock:
            self.log.append(sent)

    def bytes_sent(self, path: str) -> int:
        return sum(s.bytes_sent for s in self.log if s.path == path)

    def gets(self, path: str) -> list[Sent]:
        return [s for s in self.log if s.path == path and s.method == "GET"]

    # metadata
    def files(self, repo_id: str) -> list[Path]:
        root = self.repos[repo_id]
        return sorted(p for p in root.rglob("*") if p.is_file())

    def meta(self, repo_id: str, p: Path) -> dict:
        data = p.read_bytes()
        rel = p.relative_to(self.repos[repo_id]).as_posix()
        git = hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()
        sha = hashlib.sha256(data).hexdigest()
        return {
            "path": rel,
            "size": len(data),
            "git": git,
            "sha256": sha,
            "lfs": len(data) >= LFS_MIN,
        }


def _make_handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def _json(self, obj, status: int = 200) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_HEAD(self) -> None:
            self._route(head=True)

        def do_GET(self) -> None:
            self._route(head=False)

        def _route(self, head: bool) -> None:
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            parts = [urllib.parse.unquote(x) for x in u.path.strip("/").split("/")]
            try:
                # huggingface_hub: /api/models/{o}/{n}[/revision/{r}] and /api/models/{o}/{n}/tree/{r}
                if parts[:2] == ["api", "models"] and len(parts) >= 4:
                    repo = "/".join(parts[2:4])
                    if len(parts) >= 6 and parts[4] == "tree":
                        return self._hf_tree(repo)
                    return self._json(
                        {
                            "id": repo,
                            "modelId": repo,
                            "sha": COMMIT,
                            "private": False,
                            "siblings": [
                                {"rfilename": m["path"]}
                                for m in (hub.meta(repo, p) for p in hub.files(repo))
                            ],
                        }
                    )
                # modelscope: /api/v1/models/{o}/{n}/repo/files and /api/v1/models/{o}/{n}/repo?FilePath=
                if parts[:3] == ["api", "v1", "models"] and len(parts) >= 6 and parts[5] == "repo":
                    repo = "/".join(parts[3:5])
                    if len(parts) >= 7 and parts[6] == "files":
                        return self._ms_files(repo)
                    return self._file(repo, q["FilePath"], head)
                # huggingface_hub: /{o}/{n}/resolve/{rev}/{path...}
                if len(parts) >= 5 and parts[2] == "resolve":
                    repo = "/".join(parts[:2])
                    other = hub.faults.redirect_host
                    if other and not head and self.headers.get("Host", "").split(":")[0] != other:
                        hub.record(
                            Sent(
                                "REDIRECT",
                                "/".join(parts[4:]),
                                0,
                                302,
                                0,
                                self.headers.get("Authorization"),
                            )
                        )
                        self.send_response(302)
                        self.send_header(
                            "Location", f"http://{other}:{self.server.server_address[1]}{self.path}"
                        )
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    return self._file(repo, "/".join(parts[4:]), head, hf=True)
            except KeyError:
                pass
            self._json({"error": "not found"}, 404)

        def _hf_tree(self, repo: str) -> None:
            if hub.faults.fail_listing:
                return self._json({"error": "down"}, hub.faults.fail_listing)
            out = []
            for m in (hub.meta(repo, p) for p in hub.files(repo)):
                e = {"type": "file", "oid": m["git"], "size": m["size"], "path": m["path"]}
                if m["lfs"]:
                    e["lfs"] = {"oid": m["sha256"], "size": m["size"], "pointerSize": 134}
                out.append(e)
            self._json(out + hub.faults.extra_listing)

        def _ms_files(self, repo: str) -> None:
            if hub.faults.fail_listing:
                return self._json({"Code": 500, "Message": "down"}, hub.faults.fail_listing)
            files = [
                {
                    "Path": m["path"],
                    "Name": m["path"].split("/")[-1],
                    "Size": m["size"],
                    "Sha256": m["sha256"],
                    "Type": "blob",
                    "Revision": "master",
                }
                for m in (hub.meta(repo, p) for p in hub.files(repo))
            ]
            files += [
                {
                    "Path": e["path"],
                    "Name": e["path"],
                    "Size": e["size"],
                    "Sha256": "0" * 64,
                    "Type": "blob",
                }
                for e in hub.faults.extra_listing
            ]
            self._json({"Code": 200, "Data": {"Files": files}, "Success": True})

        def _file(self, repo: str, rel: str, head: bool, hf: bool = False) -> None:
            root = hub.repos[repo].resolve()
            p = (root / rel).resolve()
            if root not in p.parents or not p.is_file():
                return self._json({"error": "no such file"}, 404)
            m = hub.meta(repo, p)
            data = p.read_bytes()
            etag = f'"{m["sha256"] if m["lfs"] else m["git"]}"'
            start, status = 0, 200
            rng = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            if rng and (if_range is None or if_range == etag):
                start = int(rng.split("=", 1)[1].split("-", 1)[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                status = 206
            body = data[start:]
            if m["path"] in hub.faults.corrupt_once and not head:
                hub.faults.corrupt_once.discard(m["path"])
                body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            if hf:
                self.send_header("X-Repo-Commit", COMMIT)
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if head:
                return hub.record(Sent("HEAD", m["path"], start, status, 0))
            limit = hub.faults.drop_after.pop(m["path"], None)
            sent = 0
            try:
                for i in range(0, len(body), 65536):
                    piece = body[i : i + 65536]
                    if limit is not None and sent + len(piece) > limit:
                        piece = piece[: limit - sent]
                        self.wfile.write(piece)
                        sent += len(piece)
                        self.wfile.flush()
                        self.connection.shutdown(2)  # drop the connection mid-file
                        break
                    self.wfile.write(piece)
                    sent += len(piece)
                    if hub.faults.throttle:
                        time.sleep(hub.faults.throttle)
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            finally:
                hub.record(
                    Sent("GET", m["path"], start, status, sent, self.headers.get("Authorization"))
                )

    return Handler


def make_tiny_ti2v_repo(root: Path, shard_bytes: int = 3 << 20) -> Path:
    """A tiny folder in the official TI2V-5B layout (random weights; names and formats as upstream)."""
    import numpy as np
    import torch
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    cfg = {
        "_class_name": "WanModel",
        "_diffusers_version": "0.33.0",
        "dim": 32,
        "eps": 1e-6,
        "ffn_dim": 64,
        "freq_dim": 256,
        "in_dim": 48,
        "model_type": "ti2v",
        "num_heads": 2,
        "num_layers": 1,
        "out_dim": 48,
        "text_len": 512,
    }
    (root / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True))
    n = shard_bytes // 4
    shards = {
        "diffusion_pytorch_model-00001-of-00002.safetensors": {
            "blocks.0.ffn.0.weight": rng.standard_normal(n, dtype=np.float32)
        },
        "diffusion_pytorch_model-00002-of-00002.safetensors": {
            "head.head.weight": rng.standard_normal(1000, dtype=np.float32)
        },
    }
    weight_map = {}
    for name, tensors in shards.items():
        save_file(tensors, str(root / name))
        weight_map.update({k: name for k in tensors})
    (root / "diffusion_pytorch_model.safetensors.index.json").write_text(
        json.dumps(
            {
                "metadata": {
                    "total_size": sum(t.nbytes for s in shards.values() for t in s.values())
                },
                "weight_map": weight_map,
            },
            indent=2,
        )
    )
    torch.save({"conv1.weight": torch.randn(4, 4)}, root / "Wan2.2_VAE.pth")
    torch.save(
        {"shared.weight": torch.randn(8, 4).bfloat16()}, root / "models_t5_umt5-xxl-enc-bf16.pth"
    )
    tok = root / "google" / "umt5-xxl"
    tok.mkdir(parents=True, exist_ok=True)
    (tok / "special_tokens_map.json").write_text(
        json.dumps({"eos_token": "</s>", "pad_token": "<pad>"})
    )
    (tok / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 512}))
    (tok / "tokenizer.json").write_text(
        json.dumps(
            {
                "version": "1.0",
                "model": {"type": "Unigram", "vocab": [["<pad>", 0.0], ["</s>", 0.0]]},
            }
        )
    )
    (tok / "spiece.model").write_bytes(rng.bytes(2048))
    (root / "README.md").write_text("# tiny\n")
    (root / "assets").mkdir(exist_ok=True)
    (root / "assets" / "logo.png").write_bytes(rng.bytes(5000))
    (root / "configuration.json").write_text(
        json.dumps({"framework": "Pytorch", "task": "text-to-video"})
    )
    return root
