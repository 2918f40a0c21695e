"""Keys while MongoDB is down: any worker checks any key from its Redis mirror, and a
revocation made before the outage holds."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from footfall.app import create_app
from footfall.cli import main
from footfall.connections import mongo_database
from footfall.embedded import EmbeddedMongo, EmbeddedValkey
from footfall.security import keys
from tests.conftest import make_settings, settings_env


@pytest.fixture
def servers(tmp_path):
    """Servers of this test's own, so that it can stop MongoDB."""
    valkey = EmbeddedValkey(tmp_path / "valkey").start()
    mongo = EmbeddedMongo(tmp_path / "mongo").start()
    yield valkey, mongo
    mongo.stop()
    valkey.stop()


def test_a_fresh_worker_accepts_mirrored_keys_and_refuses_revoked_ones_while_mongodb_is_down(
    servers, monkeypatch
):
    valkey, mongo = servers
    settings = make_settings(
        valkey.url, mongo.uri, "mirror", mongo_timeout_ms=300, key_cache_ttl_s=0.5
    )
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    cli = CliRunner()

    def create(name: str) -> str:
        made = cli.invoke(main, ["keys", "create", "--name", name, "--scope", "ingest"])
        assert made.exit_code == 0, made.output
        return next(line[5:] for line in made.output.splitlines() if line.startswith("key: "))

    def key_id(secret: str) -> str:
        return secret.split("_")[1]

    active, revoked, warm = create("site"), create("old site"), create("warm")
    db = mongo_database(settings.servers)
    made_before_the_mirror = keys.create(db, "legacy", ["ingest"]).secret  # not mirrored
    assert cli.invoke(main, ["keys", "sync"]).exit_code == 0
    unmirrored = keys.create(db, "after sync", ["ingest"]).secret
    assert cli.invoke(main, ["keys", "revoke", key_id(revoked)]).exit_code == 0

    def status(client, secret: str) -> int:  # type: ignore[no-untyped-def]
        headers = {"X-API-Key": secret}
        return client.post("/api/v1/pageviews", json={"path": "/"}, headers=headers).status_code

    # A worker that accepted `warm` before its revocation and before the outage.
    old_worker = create_app(settings).test_client()
    assert status(old_worker, warm) == 202
    assert cli.invoke(main, ["keys", "revoke", key_id(warm)]).exit_code == 0
    mongo.stop()

    fresh_worker = create_app(settings).test_client()  # has never seen a key

    assert status(fresh_worker, active) == 202
    assert status(fresh_worker, made_before_the_mirror) == 202
    assert status(fresh_worker, revoked) == 401
    assert status(fresh_worker, unmirrored) == 503  # unknown to both: MongoDB must say
    time.sleep(settings.security.key_cache_ttl_s)
    assert status(old_worker, warm) == 401  # its cache expired; the mirror has the revocation


def test_a_revocation_the_mirror_did_not_get_is_reported(mongo, monkeypatch):
    settings = make_settings("redis://127.0.0.1:1/0", mongo.uri, "nomirror", redis_timeout_s=0.2)
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    cli = CliRunner()
    made = cli.invoke(main, ["keys", "create", "--name", "site", "--scope", "ingest"])
    assert made.exit_code == 0  # the key is made (MongoDB decides); the mirror is behind
    assert "mirror is not updated" in made.output
    key_id = next(line[8:] for line in made.output.splitlines() if line.startswith("key id: "))
    revoked = cli.invoke(main, ["keys", "revoke", key_id])
    assert revoked.exit_code == 1
    assert "footfall keys sync" in revoked.output
    db = mongo_database(settings.servers)
    assert keys.get(db, key_id).revoked_at is not None
    db.client.drop_database(db.name)
