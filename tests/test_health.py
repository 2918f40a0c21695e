"""Liveness and readiness, as a load balancer or an orchestrator reads them."""

from __future__ import annotations

from footfall.app import create_app
from tests.conftest import make_settings


def test_health_answers_while_the_process_lives(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_ready_reports_both_servers_the_backlog_and_dead_letters(client, flush):
    client.post("/api/v1/pageviews", json={"path": "/"})
    client.post("/api/v1/pageviews", json={"path": "/"})
    body = client.get("/api/v1/ready").json()
    assert body["status"] == "ready"
    assert body["checks"]["redis"]["ok"] and body["checks"]["mongodb"]["ok"]
    assert body["checks"]["streams"]["pageviews"]["length"] == 2
    assert body["checks"]["dead_letters"] == 0
    flush()
    after = client.get("/api/v1/ready").json()["checks"]["streams"]["pageviews"]
    assert after == {"length": 0, "lag": 0, "pending": 0}


def test_ready_is_a_503_problem_naming_the_server_that_is_down(valkey, db):
    settings = make_settings(
        valkey.url, "mongodb://127.0.0.1:9/?directConnection=true", "nomongo", mongo_timeout_ms=200
    )
    response = create_app(settings).test_client().get("/api/v1/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "Retry-After" in response.headers
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is True
    assert checks["mongodb"]["ok"] is False
