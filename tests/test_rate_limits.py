"""Rate limits hold across API workers: token buckets live in Redis, not in a process."""

from __future__ import annotations

from footfall.app import create_app
from footfall.security import keys

SITE = "https://site.example"
PAGEVIEW = "/api/v1/pageviews"


def test_a_keys_limit_is_shared_by_two_workers_and_answers_429_with_retry_after(
    settings, db, redis
):
    workers = [create_app(settings).test_client() for _ in range(2)]
    key = keys.create(db, "tool", ["ingest"], rate=keys.Rate(per_s=0.2, burst=3)).secret
    statuses = [
        workers[n % 2].post(PAGEVIEW, json={"path": "/"}, headers={"X-API-Key": key})
        for n in range(4)
    ]
    assert [r.status_code for r in statuses] == [202, 202, 202, 429]
    refused = statuses[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 5
    assert refused.json()["status"] == 429


def test_a_refused_request_takes_no_token_and_other_keys_are_not_affected(settings, db, redis):
    client = create_app(settings).test_client()
    limited = keys.create(db, "tool", ["ingest"], rate=keys.Rate(per_s=0.2, burst=1)).secret
    other = keys.create(db, "other tool", ["ingest"]).secret
    send = lambda key: client.post(PAGEVIEW, json={"path": "/"}, headers={"X-API-Key": key})  # noqa: E731
    assert send(limited).status_code == 202
    assert send(limited).status_code == 429
    assert send(other).status_code == 202


def test_a_browser_key_is_also_limited_per_client_address(settings, db, redis):
    settings = settings.replace({"rate_ip_per_s": 0.2, "rate_ip_burst": 2})
    app = create_app(settings)
    browser = keys.create(db, "site", ["browser"], [SITE]).secret
    headers = {"X-API-Key": browser, "Origin": SITE}

    def send(address: str) -> int:
        client = app.test_client(client=(address, 50000))
        return client.post(PAGEVIEW, json={"path": "/"}, headers=headers).status_code

    assert [send("198.51.100.1") for _ in range(3)] == [202, 202, 429]
    assert send("198.51.100.2") == 202  # another visitor of the same site


def test_a_rate_limited_browser_answer_is_readable_by_the_page(settings, db, redis):
    app = create_app(settings.replace({"rate_ip_per_s": 0.2, "rate_ip_burst": 1}))
    browser = keys.create(db, "site", ["browser"], [SITE]).secret
    client = app.test_client(client=("198.51.100.1", 50000))
    for _ in range(2):
        response = client.post(
            PAGEVIEW, json={"path": "/"}, headers={"X-API-Key": browser, "Origin": SITE}
        )
    assert response.status_code == 429
    assert response.headers["access-control-allow-origin"] == SITE
    assert "Retry-After" in response.headers["access-control-expose-headers"]


def test_a_rate_of_zero_means_no_limit(settings, db, redis):
    client = create_app(settings).test_client()
    key = keys.create(db, "bulk import", ["ingest"], rate=keys.Rate(per_s=0, burst=1)).secret
    for _ in range(5):
        response = client.post(PAGEVIEW, json={"path": "/"}, headers={"X-API-Key": key})
        assert response.status_code == 202
    assert not list(redis.scan_iter(f"{settings.queue.stream_prefix}:rate:*"))


def test_a_refused_write_still_draws_and_over_the_limit_is_answered_429_first(
    settings, db, redis
):
    """An ingest write draws with its enqueue (one round trip); one that never reaches
    the enqueue (422 from the spec or the model, an all-rejected batch) draws on its way
    out, and over the limit its answer is the 429, as when the limiter drew first."""
    client = create_app(settings).test_client()
    key = keys.create(db, "tool", ["ingest"], rate=keys.Rate(per_s=0.01, burst=4)).secret
    headers = {"X-API-Key": key}
    assert client.post(PAGEVIEW, json={"path": "/"}, headers=headers).status_code == 202
    assert client.post(PAGEVIEW, json={"path": "no-slash"}, headers=headers).status_code == 422
    future = {"path": "/", "visited_at": "2999-01-01T00:00:00Z"}  # refused by the model
    assert client.post(PAGEVIEW, json=future, headers=headers).status_code == 422
    rejected = {"items": [{"kind": "nothing"}]}
    assert client.post("/api/v1/batch", json=rejected, headers=headers).status_code == 422
    for body in ({"path": "/"}, {"path": "no-slash"}, rejected):
        path = "/api/v1/batch" if "items" in body else PAGEVIEW
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
    assert redis.xlen(f"{settings.queue.stream_prefix}:pageviews") == 1


def _scripts_run(redis) -> int:  # type: ignore[no-untyped-def]
    stats = redis.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("eval", "evalsha"))


def test_on_one_redis_a_single_write_and_its_draw_are_one_script(settings, db, redis):
    """The draw rides on the append (one round trip): three writes run three scripts,
    not six (a draw, then an append)."""
    client = create_app(settings).test_client()
    key = keys.create(db, "tool", ["ingest"], rate=keys.Rate(per_s=10, burst=10)).secret
    headers = {"X-API-Key": key}
    assert client.post(PAGEVIEW, json={"path": "/"}, headers=headers).status_code == 202
    before = _scripts_run(redis)
    bodies = [{"path": "/"}, {"path": "/", "log_id": "once"}, {"path": "/", "log_id": "once"}]
    answers = [client.post(PAGEVIEW, json=body, headers=headers).json() for body in bodies]
    assert [a["status"] for a in answers] == ["accepted", "accepted", "duplicate"]
    assert _scripts_run(redis) - before == 3
