"""An HTTP JSON-RPC stub in front of a real node, scripted to behave like a hosted
provider: refuse batches over a size (as an error object, or HTTP 413), refuse every batch,
answer HTTP 429 with a Retry-After for the next N requests. Everything else is forwarded
to the node as it is. Runs on a thread; `stop()` ends it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


@dataclass
class Script:
    max_batch: int | None = None  # larger batches are refused
    refuse_as_413: bool = False  # ... with HTTP 413 instead of an error object
    throttle: int = 0  # the next N requests get HTTP 429
    retry_after: str = "1"
    requests: list[int] = field(default_factory=list)  # the size of each request seen (1: single)


class RpcStub:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.script = Script()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                s = stub.script
                size = len(body) if isinstance(body, list) else 1
                s.requests.append(size)
                if s.throttle > 0:
                    s.throttle -= 1
                    self._reply(429, b"Too Many Requests", {"Retry-After": s.retry_after})
                    return
                if isinstance(body, list) and s.max_batch is not None and size > s.max_batch:
                    if s.refuse_as_413:
                        self._reply(413, b"Payload Too Large")
                    else:
                        error = {"code": -32600, "message": f"batch too large: max {s.max_batch}"}
                        out = {"jsonrpc": "2.0", "id": None, "error": error}
                        self._reply(200, json.dumps(out).encode())
                    return
                forwarded = requests.post(stub.upstream, json=body, timeout=10)
                self._reply(forwarded.status_code, forwarded.content)

            def _reply(
                self, status: int, data: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
