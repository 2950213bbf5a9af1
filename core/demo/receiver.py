"""A local HTTP receiver for notifications (apprise's json:// target posts here; the demo and
the tests use it): it keeps every request's JSON body by path, answers each path from a
script of status codes (then 200), and can go down and come back on the same port."""

from __future__ import annotations

import json
import socket
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.got: dict[str, list[dict[str, Any]]] = defaultdict(list)  # delivered (2xx)
        self.asked: dict[str, int] = defaultdict(int)  # every request, answered or not
        self.script: dict[str, list[int]] = defaultdict(list)
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def answer(self, path: str, *codes: int) -> None:
        with self.lock:
            self.script[path] += list(codes)

    def messages(self, path: str) -> list[str]:
        with self.lock:
            return [str(b.get("message", "")) for b in self.got[path]]

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = self.path.strip("/")
                with receiver.lock:
                    receiver.asked[path] += 1
                    code = receiver.script[path].pop(0) if receiver.script[path] else 200
                    if 200 <= code < 300:
                        receiver.got[path].append(json.loads(body or b"{}"))
                self.send_response(code)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
