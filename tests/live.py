"""The real service on real ports, for the HTTP clients' tests: `footfall serve` and a
flusher as subprocesses (as the bench starts them), a test site's static files, and a
`Gate`, a TCP relay that a test opens and closes to make a server unreachable.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import Child, start_api, start_flusher
from footfall.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Live:
    base: str  # http://127.0.0.1:<port>/api/v1
    origin: str  # http://127.0.0.1:<port>
    api: Child
    flusher: Child


@contextmanager
def footfall_service(
    settings: Settings, workdir: Path, api_settings: Settings | None = None
) -> Iterator[Live]:
    """One API worker and one flusher; `api_settings` lets the API alone differ (a gate
    in front of its Redis)."""
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        port = free_port()
        api, base = start_api(stack, api_settings or settings, workdir, 1, port)
        flusher = start_flusher(stack, settings, workdir)
        yield Live(base, f"http://127.0.0.1:{port}", api, flusher)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def static_site(root: Path) -> Iterator[str]:
    """A real origin serving `root`: the test site whose pages load the script."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Gate:
    """A TCP relay to `target`: open, it forwards; closed, it cuts every connection and
    refuses new ones (the server behind it is unreachable, as when it is down)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_open = True
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def open(self) -> None:
        self.is_open = True

    def close(self) -> None:
        self.is_open = False
        with self.lock:
            for connection in self.connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()

    def stop(self) -> None:
        self.close()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.is_open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextmanager
def gated_service(settings: Settings, workdir: Path) -> Iterator[tuple[Live, Gate, str]]:
    """The service with a `Gate` in front of its API: (service, gate, the API's URL through
    the gate). A closed gate is Footfall being down for the clients behind it."""
    with footfall_service(settings, workdir) as live:
        gate = Gate("127.0.0.1", int(live.origin.rsplit(":", 1)[1]))
        try:
            yield live, gate, f"http://127.0.0.1:{gate.port}/api/v1"
        finally:
            gate.stop()


def wait_for(check: Callable[[], Any], timeout_s: float = 15.0, every_s: float = 0.1) -> Any:
    """Poll until `check()` is truthy; its last value (falsy when time ran out)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)
