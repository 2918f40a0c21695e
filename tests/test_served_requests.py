"""Requests against `footfall serve` (uvicorn, httptools, its loop) as production runs it.

The bridge from the event loop into Flask (`footfall.web.bridge`) replaced a2wsgi's: these
prove it keeps what the old one did, with clients that misbehave on raw sockets where
an HTTP library would not let them: a body in many pieces, a client gone mid-body, a
streamed body over the limit, a handler that fails, a read served from the pool, and a
write waiting for Redis while the worker answers others.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from redis import Redis

from footfall.connections import mongo_database, redis_client
from footfall.embedded import EmbeddedMongo, EmbeddedValkey, free_port
from footfall.security import keys
from footfall.settings import Settings
from footfall.store.schema import init_db
from tests.conftest import make_settings, settings_env

LIMIT = 64 * 1024  # MAX_REQUEST_BYTES of this server


class Served:
    def __init__(self, settings: Settings, port: int, key: str, log: Path) -> None:
        self.settings = settings
        self.port = port
        self.key = key
        self.log = log

    def stream(self) -> str:
        return f"{self.settings.queue.stream_prefix}:pageviews"

    def raw(self, head: str, *pieces: bytes, pause_s: float = 0.0) -> bytes:
        """Send a request head and body pieces on a fresh connection; the whole answer.

        Sending stops once the server answers (a refusal before the body's end), as an
        HTTP client does, so the answer is read before the server closes.
        """
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
            conn.sendall(head.encode())
            for piece in pieces:
                if select.select([conn], [], [], pause_s)[0]:
                    break
                conn.sendall(piece)
            return _read_answer(conn)

    def head(self, length: int | None, path: str = "/api/v1/pageviews") -> str:
        size = f"Content-Length: {length}\r\n" if length is not None else ""
        chunked = "" if length is not None else "Transfer-Encoding: chunked\r\n"
        return (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {self.key}\r\n"
            f"Content-Type: application/json\r\n{size}{chunked}Connection: close\r\n\r\n"
        )

    def get(self, path: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"X-API-Key": self.key}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)


def _read_answer(conn: socket.socket) -> bytes:
    """One answer, read up to its Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data or len(data) < _answer_size(data):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _answer_size(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(head) + 4 + int(line.split(b":")[1])
    return len(data) + 1


def _status_and_body(answer: bytes) -> tuple[int, dict, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head[9:12]), json.loads(body), head.decode("latin1").lower()


@pytest.fixture(scope="module")
def served(
    valkey: EmbeddedValkey, mongo: EmbeddedMongo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    name = f"t{int(time.time() * 1000) % 10**9}served"
    settings = make_settings(
        valkey.url,
        mongo.uri,
        name,
        max_request_bytes=LIMIT,
        validate_responses=False,
        redis_timeout_s=5.0,  # a write outlives the pause of Redis below
    )
    db = mongo_database(settings.servers)
    init_db(db)
    key = keys.create(db, "served", ["admin", "ingest"]).secret
    port = free_port()
    log = tmp_path_factory.mktemp("served") / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "footfall", "serve", "--workers", "1", "--port", str(port)],
            env=settings_env(settings),
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(port, process, log)
        yield Served(settings, port, key, log)
    finally:
        process.terminate()
        process.wait(20)
        db.client.drop_database(db.name)
        db.client.close()


def _wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"footfall serve did not answer:\n{log.read_text()}")


@pytest.fixture
def queue(served: Served) -> Iterator[Redis]:
    client = redis_client(served.settings.servers)
    client.delete(served.stream())
    yield client
    client.delete(served.stream())
    client.close()


def test_a_body_arriving_in_many_pieces_is_read_whole_and_queued(served, queue):
    body = json.dumps({"path": "/pieces/", "log_id": "pieces-1", "username": "asha"}).encode()
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    answer = served.raw(served.head(len(body)), *pieces, pause_s=0.01)
    status, receipt, _ = _status_and_body(answer)
    assert (status, receipt) == (202, {"status": "accepted", "log_id": "pieces-1"})
    [(_, fields)] = queue.xrange(served.stream())
    assert json.loads(fields[b"d"])["path"] == "/pieces/"


def test_a_client_gone_mid_body_gets_nothing_queued_and_the_server_goes_on(served, queue):
    body = json.dumps({"path": "/gone/", "log_id": "gone-1"}).encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
        conn.sendall(served.head(len(body) + 100).encode() + body)
        time.sleep(0.2)
    time.sleep(0.3)
    assert queue.xlen(served.stream()) == 0
    assert served.get("/api/v1/health")[0] == 200
    answer = served.raw(served.head(len(body)), body)
    assert _status_and_body(answer)[0] == 202
    assert "Traceback" not in served.log.read_text()


def test_a_streamed_body_over_the_limit_is_refused_with_413(served, queue):
    chunk = b"y" * 8192
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    opening = b'{"path": "/big/", "request_data": {"x": "'
    pieces = [f"{len(opening):x}\r\n".encode() + opening + b"\r\n"] + [framed] * 12
    answer = served.raw(served.head(None), *pieces, pause_s=0.02)
    status, problem, head = _status_and_body(answer)
    assert status == 413
    assert "content-type: application/problem+json" in head
    assert problem["title"] == "Content Too Large"
    assert queue.xlen(served.stream()) == 0


def test_a_declared_length_over_the_limit_is_refused_before_the_body(served, queue):
    answer = served.raw(served.head(LIMIT + 1), b"{")
    assert _status_and_body(answer)[0] == 413


def test_a_handler_failure_is_a_logged_500_problem(served, queue):
    """Redis refuses the write (the stream's key holds a string): nothing says 202."""
    queue.set(served.stream(), "not a stream")
    body = json.dumps({"path": "/fails/"}).encode()
    answer = served.raw(served.head(len(body)), body)
    status, problem, head = _status_and_body(answer)
    assert status == 500
    assert "content-type: application/problem+json" in head
    assert problem["status"] == 500
    deadline = time.monotonic() + 5
    while "WRONGTYPE" not in served.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "WRONGTYPE" in served.log.read_text()


def test_a_read_that_queries_mongodb_is_answered_from_the_pool(served):
    status, ready = served.get("/api/v1/ready")
    assert status == 200
    assert ready["status"] == "ready"
    status, found = served.get("/api/v1/usage-logs?user_id=nobody")
    assert status == 200
    assert found["items"] == []


def test_a_write_waiting_for_redis_leaves_the_loop_free_for_other_requests(served, queue):
    """The ingest handler runs on the loop's thread, its Redis round trip awaited
    (footfall.awaiting): while Redis holds the write back (CLIENT PAUSE of writes),
    the same single worker answers /health at once, and the write is then accepted."""
    body = json.dumps({"path": "/paused/"}).encode()
    queue.execute_command("CLIENT", "PAUSE", 1500, "WRITE")
    try:
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            write = pool.submit(served.raw, served.head(len(body)), body)
            time.sleep(0.2)
            status, _ = served.get("/api/v1/health")
            health_after_s = time.monotonic() - started
            answer = write.result(timeout=10)
            write_after_s = time.monotonic() - started
    finally:
        queue.execute_command("CLIENT", "UNPAUSE")
    assert status == 200 and health_after_s < 0.8
    assert _status_and_body(answer)[0] == 202 and write_after_s >= 1.2
    assert queue.xlen(served.stream()) == 1
