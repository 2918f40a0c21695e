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
