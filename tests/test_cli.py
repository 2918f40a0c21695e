"""The commands as a user runs them: `footfall dev`, `footfall init-db`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pymongo import MongoClient

from footfall.embedded import free_port
from footfall.store.collections import ALL
from footfall.store.schema import init_db


def start_dev(data_dir: Path, api_port: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DEV_REDIS_PORT": str(free_port()),
        "DEV_MONGO_PORT": str(free_port()),
        "FLUSH_MAX_WAIT_MS": "50",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "footfall", "dev", "--port", str(api_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    printed: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        name, _, value = line.strip().partition(": ")
        printed[name] = value
        if name == "data dir":
            break
    return process, printed


def stop_dev(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 0


def post(url: str, body: dict, key: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-API-Key": key},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return json.load(response)


def wait_for_document(uri: str, log_id: str, timeout: float = 20.0) -> dict:
    with MongoClient(uri) as client:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            document = client.footfall.pageviews.find_one({"log_id": log_id})
            if document:
                return document
            time.sleep(0.1)
    raise AssertionError(f"{log_id} was not stored")


def test_dev_runs_everything_prints_how_to_connect_and_keeps_data_across_restarts(tmp_path):
    port = free_port()
    process, printed = start_dev(tmp_path / "data", port)
    try:
        assert printed["api"] == f"http://127.0.0.1:{port}/api/v1"
        assert printed["swagger ui"] == f"http://127.0.0.1:{port}/api/v1/ui/"
        assert printed["redis url"].startswith("redis://127.0.0.1:")
        assert printed["mongodb uri"].startswith("mongodb://127.0.0.1:")
        assert printed["api key"].startswith("ff_")
        with urllib.request.urlopen(printed["swagger ui"], timeout=10) as response:
            assert b"swagger-ui" in response.read()
        post(
            f"{printed['api']}/pageviews",
            {"path": "/before-restart", "log_id": "kept"},
            printed["api key"],
        )
        wait_for_document(printed["mongodb uri"], "kept")
    finally:
        stop_dev(process)
    first_key = printed["api key"]

    process, printed = start_dev(tmp_path / "data", port)
    try:
        assert printed["api key"] == first_key  # the same dev key across restarts
        assert wait_for_document(printed["mongodb uri"], "kept")["path"] == "/before-restart"
        # The idempotency memory survived too (Valkey's AOF): a resend is a duplicate.
        again = post(
            f"{printed['api']}/pageviews", {"path": "/before-restart", "log_id": "kept"}, first_key
        )
        assert again["status"] == "duplicate"
    finally:
        stop_dev(process)


def test_init_db_drops_an_index_no_longer_defined_and_keeps_every_defined_one(mongo):
    """An old deployment's indexes (the 2dsphere one of page views, the path one, an
    operator's own) go, `_id_` and every defined index stay, and a second run changes
    nothing."""
    client = MongoClient(mongo.uri)
    db = client["initdb_drop"]
    try:
        init_db(db)
        db.pageviews.create_index([("location", "2dsphere")], name="location_2dsphere")
        db.pageviews.create_index([("path", 1)], name="path")
        db.exit_links.create_index([("page", 1)], name="operators_own")
        for _ in range(2):
            init_db(db)
            for collection in ALL:
                names = {index["name"] for index in db[collection.name].list_indexes()}
                assert names == {"_id_"} | {i.document["name"] for i in collection.indexes}
    finally:
        client.drop_database("initdb_drop")
        client.close()


def test_init_db_is_idempotent_and_puts_back_the_validators(mongo):
    client = MongoClient(mongo.uri)
    db = client["initdb"]
    try:
        init_db(db)
        db.command("collMod", "pageviews", validator={})
        init_db(db)
        for collection in ALL:
            options = db.command("listCollections", filter={"name": collection.name})
            info = options["cursor"]["firstBatch"][0]["options"]
            assert info["validator"] == collection.validator
            assert info["validationLevel"] == "strict"
            assert info["validationAction"] == "error"
            names = {index["name"] for index in db[collection.name].list_indexes()}
            assert {index.document["name"] for index in collection.indexes} <= names
    finally:
        client.drop_database("initdb")
        client.close()
