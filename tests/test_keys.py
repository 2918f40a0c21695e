"""API keys: shown once, stored hashed, managed from the CLI, revoked within the cache TTL,
never echoed in answers or logs; Swagger UI can authorize with one."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from pathlib import Path

from click.testing import CliRunner

from footfall.app import create_app
from footfall.cli import main
from footfall.security import keys, tokens
from footfall.security.cli import dev_key
from tests.conftest import settings_env

ROOT = Path(__file__).parent.parent
PAGEVIEW = "/api/v1/pageviews"
KEY_SHAPE = re.compile(r"ff_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


def cli(settings, *args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["keys", *args], env=settings_env(settings))
    return result


def printed(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


def test_keys_create_prints_the_key_once_and_stores_only_its_hash(settings, db):
    result = cli(settings, "create", "--name", "editor", "--scope", "ingest")
    assert result.exit_code == 0, result.output
    shown = printed(result.stdout)
    secret = shown["key"]
    assert KEY_SHAPE.fullmatch(secret)
    document = db.api_keys.find_one({"key_id": shown["key id"]})
    assert document["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(document) and secret.rsplit("_", 1)[1] not in str(document)
    assert document["scopes"] == ["ingest"] and document["revoked_at"] is None


def test_a_browser_key_gets_origins_and_a_learner_token_secret(settings, db):
    result = cli(
        settings,
        "create",
        "--name",
        "site",
        "--scope",
        "browser",
        "--origin",
        "https://Site.Example/",
        "--rate",
        "50",
        "--burst",
        "80",
    )
    assert result.exit_code == 0, result.output
    shown = printed(result.stdout)
    document = db.api_keys.find_one({"key_id": shown["key id"]})
    assert document["origins"] == ["https://site.example"]
    assert document["rate"] == {"per_s": 50.0, "burst": 80}
    assert document["token_secret"] == shown["learner token secret"]


def test_keys_create_refuses_what_would_be_unsafe_or_useless(settings, db):
    public_admin = cli(
        settings,
        "create",
        "--name",
        "x",
        "--scope",
        "browser",
        "--scope",
        "admin",
        "--origin",
        "https://site.example",
    )
    assert public_admin.exit_code != 0 and "public" in public_admin.output
    no_origin = cli(settings, "create", "--name", "x", "--scope", "browser")
    assert no_origin.exit_code != 0 and "origin" in no_origin.output
    bad_origin = cli(
        settings,
        "create",
        "--name",
        "x",
        "--scope",
        "browser",
        "--origin",
        "https://site.example/path",
    )
    assert bad_origin.exit_code != 0
    assert db.api_keys.count_documents({}) == 0


def test_keys_list_shows_every_key_and_no_secret(settings, db):
    created = keys.create(db, "editor", ["ingest"])
    browser = keys.create(db, "site", ["browser"], ["https://site.example"])
    keys.revoke(db, created.key.key_id)
    result = cli(settings, "list")
    assert result.exit_code == 0
    assert created.key.key_id in result.output and "revoked" in result.output
    assert "https://site.example" in result.output
    assert created.secret not in result.output and browser.secret not in result.output
    assert browser.token_secret not in result.output


def test_a_revoked_key_is_refused_once_the_cache_ttl_has_passed(settings, db, redis):
    app = create_app(settings.replace({"key_cache_ttl_s": 0.5}))
    client = app.test_client()
    created = keys.create(db, "editor", ["ingest"])
    headers = {"X-API-Key": created.secret}
    assert client.post(PAGEVIEW, json={"path": "/"}, headers=headers).status_code == 202
    result = cli(settings, "revoke", created.key.key_id)
    assert result.exit_code == 0 and "within" in result.output
    # Still cached for at most KEY_CACHE_TTL_S ...
    assert client.post(PAGEVIEW, json={"path": "/"}, headers=headers).status_code == 202
    time.sleep(0.6)
    # ... then refused.
    assert client.post(PAGEVIEW, json={"path": "/"}, headers=headers).status_code == 401
    assert cli(settings, "revoke", created.key.key_id).exit_code != 0  # already revoked


def test_a_key_with_a_wrong_secret_is_refused_like_an_unknown_one(anonymous, db):
    created = keys.create(db, "editor", ["admin"])
    forged = created.secret[:-4] + ("AAAA" if not created.secret.endswith("AAAA") else "BBBB")
    for presented in (forged, "ff_000000000000_nothing", "not-a-key"):
        response = anonymous.post(PAGEVIEW, json={"path": "/"}, headers={"X-API-Key": presented})
        assert response.status_code == 401
        assert response.json()["detail"] == "the API key is unknown, revoked or malformed"


def test_no_secret_appears_in_answers_or_logs(anonymous, db, caplog):
    caplog.set_level(logging.DEBUG)
    browser = keys.create(db, "site", ["browser"], ["https://site.example"])
    token = tokens.issue(browser.token_secret, "asha")
    expired = tokens.issue(browser.token_secret, "asha", ttl_s=-120)
    bodies = []
    for headers in (
        {"X-API-Key": browser.secret, "Origin": "https://site.example", "X-Learner-Token": token},
        {"X-API-Key": browser.secret, "Origin": "https://site.example", "X-Learner-Token": expired},
        {"X-API-Key": browser.secret, "Origin": "https://elsewhere.example"},
        {"X-API-Key": browser.secret[:-1]},
    ):
        bodies.append(anonymous.post(PAGEVIEW, json={"path": "/"}, headers=headers).text)
    seen = "\n".join(bodies) + "\n".join(record.getMessage() for record in caplog.records)
    for secret in (browser.secret, browser.secret[:-1], browser.token_secret, token, expired):
        assert secret not in seen


def test_no_secret_is_in_the_example_settings_nor_the_readme():
    for document in (".env.example", "README.md"):
        assert not KEY_SHAPE.search((ROOT / document).read_text()), document


def test_swagger_ui_offers_authorize_with_the_api_key_header(anonymous):
    spec = anonymous.get("/api/v1/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        **spec["components"]["securitySchemes"]["ApiKey"],
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert anonymous.get("/api/v1/ui/").status_code == 200
    config = anonymous.get("/api/v1/ui/swagger-ui-config.json")
    assert config.json().get("persistAuthorization") is True


def test_the_dev_key_has_every_scope_and_survives_a_restart(db, tmp_path):
    first = dev_key(db, tmp_path, ["http://127.0.0.1:8000"])
    assert dev_key(db, tmp_path, ["http://127.0.0.1:8000"]) == first
    assert (tmp_path / "dev-api-key").stat().st_mode & 0o077 == 0
    key = keys.find(db, first)
    assert key is not None and key.scopes == {"ingest", "browser", "read", "admin", "metrics"}
    keys.revoke(db, key.key_id)
    assert dev_key(db, tmp_path, ["http://127.0.0.1:8000"]) != first  # a revoked one is replaced
