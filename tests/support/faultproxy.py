"""A small TCP fault proxy for chaos tests: clients connect to `proxy.url`-style
127.0.0.1:<port>, bytes go to an upstream TCP address or unix socket, and the test can
refuse new connections, cut the open ones, delay or corrupt replies, or swap the upstream.
It also notes when each request carrying a watched JSON-RPC method passed through (`seen`),
so a test can ask the wire, not our rows, whether anything was sent after a moment.

Threads, not asyncio: the proxy lives inside the pytest process, and every mode change is
one attribute write seen by the pump threads on their next chunk.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass

from tests.support.procs import free_port

Upstream = tuple[str, int] | str  # (host, port) or a unix socket path


@dataclass
class Faults:
    delay_s: float = 0.0  # before each reply chunk is passed on
    corrupt: bool = False  # '"' -> "'" in replies: same length, HTTP intact, JSON broken


def host_port(url: str) -> tuple[str, int]:
    """("127.0.0.1", 8545) from "http://127.0.0.1:8545" or a database URL."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split("@")[-1].rsplit(":", 1)
    return host, int(port)


class FaultProxy:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.faults = Faults()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        # (time.monotonic(), how many) per request chunk that carried a watched method
        self.seen: list[tuple[float, int]] = []
        self.watch = b'"eth_sendRawTransaction"'
        self.accept()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- modes -----------------------------------------------------------------------
    def accept(self) -> None:
        """Listen (again) on the same port."""
        if self._listener is not None:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(128)
        self._listener = s
        threading.Thread(target=self._accept_loop, args=(s,), daemon=True).start()

    def refuse(self) -> None:
        """Stop listening (new connections are refused) and cut the open ones."""
        s, self._listener = self._listener, None
        if s is not None:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.cut()

    def cut(self) -> None:
        """Reset every open connection (both sides see it die mid-conversation)."""
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for c in conns:
            with contextlib.suppress(OSError):
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()

    def heal(self) -> None:
        self.faults = Faults()
        self.accept()

    def close(self) -> None:
        self.refuse()

    def sent_after(self, t: float) -> int:
        """How many watched calls (eth_sendRawTransaction) passed through after monotonic `t`."""
        return sum(n for at, n in list(self.seen) if at > t)

    def sent_total(self) -> int:
        return sum(n for _, n in list(self.seen))

    # -- pumping ---------------------------------------------------------------------
    def _connect_upstream(self) -> socket.socket:
        up = self.upstream
        if isinstance(up, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(up)
            return s
        return socket.create_connection(up, timeout=5)

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: refusing
            try:
                server = self._connect_upstream()
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, reply: bool) -> None:
        tail = b""  # a method name may straddle two chunks of one request
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not reply:
                    window = tail + data
                    n = window.count(self.watch)
                    if n:
                        self.seen.append((time.monotonic(), n))
                    tail = window[-(len(self.watch) - 1) :]  # too short to hold a whole one
                if reply:
                    f = self.faults
                    if f.delay_s:
                        time.sleep(f.delay_s)
                    if f.corrupt:
                        data = data.replace(b'"', b"'")
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
                with self._lock:
                    self._conns.discard(s)
