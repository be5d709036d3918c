"""A fake DashScope HTTP API on 127.0.0.1 for tests: the real ``dashscope`` SDK talks to it.

It answers the two endpoints prompt extension uses (text generation and multimodal generation)
the way the service documents them, and can be told to fail: 401, 429, 500, a slow reply (to
trigger client timeouts) or malformed replies. Every request is recorded for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEXT_PATH = "/api/v1/services/aigc/text-generation/generation"
VISION_PATH = "/api/v1/services/aigc/multimodal-generation/generation"


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeDashScope:
    """``behaviours`` is consumed one per request (the last one repeats): "ok", "401", "429",
    "500", "slow", "not_json", "no_choices", "empty"."""

    valid_key: str = "sk-fake-valid-key-0123456789"
    behaviours: list[str] = field(default_factory=lambda: ["ok"])
    slow_seconds: float = 2.0
    echo_key: bool = False  # quote the request's Authorization in error bodies and headers
    requests: list[Recorded] = field(default_factory=list)

    def next_behaviour(self) -> str:
        return self.behaviours.pop(0) if len(self.behaviours) > 1 else self.behaviours[0]

    def reply_text(self, body: dict[str, Any], vision: bool) -> str:
        """A deterministic 'extension' that shows what the server received."""
        messages = body["input"]["messages"]
        user = messages[-1]["content"]
        if vision:
            user_text = " ".join(p["text"] for p in user if "text" in p)
            n_images = sum(1 for p in user if "image" in p)
        else:
            user_text, n_images = user, 0
        seed = body.get("parameters", {}).get("seed")
        return (
            f"Extended by {body['model']} (seed {seed}, images {n_images}):\n"
            f"{user_text or 'a scene from the image'}, soft light, slow push-in."
        )


def _handler(fake: FakeDashScope) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
            auth = self.headers.get("Authorization", "")
            if fake.echo_key and status != 200 and isinstance(payload, dict):
                # as a careless gateway would: the key in the body, quoted twice
                key = auth.removeprefix("Bearer ")
                payload = {
                    **payload,
                    "message": f"{payload.get('message', '')} (key {key}; header {auth})",
                    "echo": {"Authorization": auth, "api_key": key},
                }
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            if fake.echo_key and status != 200:
                self.send_header("X-Echo-Authorization", auth)
                self.send_header("X-Api-Key", auth.removeprefix("Bearer "))
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.loads(raw or b"{}")
            fake.requests.append(Recorded(self.path, dict(self.headers), body))
            if self.path not in (TEXT_PATH, VISION_PATH):
                return self._send(404, {"code": "NotFound", "message": self.path})
            behaviour = fake.next_behaviour()
            rid = f"req-{len(fake.requests)}"
            if (
                self.headers.get("Authorization") != f"Bearer {fake.valid_key}"
                or behaviour == "401"
            ):
                return self._send(
                    401,
                    {
                        "code": "InvalidApiKey",
                        "request_id": rid,
                        "message": "Invalid API-key provided.",
                    },
                )
            if behaviour == "429":
                return self._send(
                    429,
                    {
                        "code": "Throttling.RateQuota",
                        "request_id": rid,
                        "message": "Requests rate limit exceeded.",
                    },
                )
            if behaviour == "500":
                return self._send(
                    500,
                    {
                        "code": "InternalError",
                        "request_id": rid,
                        "message": "An internal error has occured.",
                    },
                )
            if behaviour == "slow":
                time.sleep(fake.slow_seconds)
            if behaviour == "not_json":
                return self._send(200, b"<html>gateway says hi</html>", "text/html")
            if behaviour == "no_choices":
                return self._send(200, {"request_id": rid, "output": {"finish_reason": "stop"}})
            vision = self.path == VISION_PATH
            text = "" if behaviour == "empty" else fake.reply_text(body, vision)
            content: Any = [{"text": text}] if vision else text
            return self._send(
                200,
                {
                    "request_id": rid,
                    "output": {
                        "choices": [
                            {
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": content},
                            }
                        ]
                    },
                    "usage": {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30},
                },
            )

    return Handler


class FakeDashScopeServer:
    """Runs a ``FakeDashScope`` on an ephemeral port in a daemon thread."""

    def __init__(self, fake: FakeDashScope) -> None:
        self.fake = fake
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/api/v1"

    def __enter__(self) -> FakeDashScopeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
