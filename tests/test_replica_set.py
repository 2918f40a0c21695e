"""MongoDB as a replica set: Footfall connects through discovery and writes with the
configured write concern (SecantusDB presents a one-member replica set unless told
--standalone)."""

from __future__ import annotations

import uuid

import pytest

from footfall.app import create_app
from footfall.connections import mongo_database, redis_client
from footfall.embedded import EmbeddedMongo
from footfall.flusher import Flusher
from footfall.store.schema import init_db
from tests.conftest import keyed_client, make_settings


@pytest.fixture
def replica_set(tmp_path):
    server = EmbeddedMongo(tmp_path / "mongo", replica_set=True).start()
    yield server
    server.stop()


def test_events_are_stored_in_a_replica_set_with_majority_write_concern(replica_set, valkey):
    settings = make_settings(valkey.url, replica_set.uri, f"rs{uuid.uuid4().hex[:8]}")
    db = mongo_database(settings.servers)
    init_db(db)
    client = keyed_client(create_app(settings), db)
    for i in range(3):
        view = {"path": "/", "log_id": f"v{i}"}
        assert client.post("/api/v1/pageviews", json=view).status_code == 202
    flusher = Flusher(settings, redis_client(settings.servers), db)
    flusher.streams.ensure_group(flusher.collections)
    while batch := flusher.next_batch():
        assert flusher.store(batch)

    assert db.client.topology_description.topology_type_name == "ReplicaSetWithPrimary"
    assert db.client.write_concern.document == {"w": "majority"}
    assert db.pageviews.count_documents({}) == 3
    assert client.get("/api/v1/ready").json()["checks"]["mongodb"]["ok"]


def test_the_write_concern_is_a_setting(mongo):
    one = make_settings("redis://127.0.0.1:1/0", mongo.uri, "w", mongo_write_concern="1")
    assert mongo_database(one.servers).client.write_concern.document == {"w": 1}
