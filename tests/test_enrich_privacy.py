"""Privacy: redaction at any depth, the stored IP, Do Not Track."""

from __future__ import annotations

import ipaddress

import pytest
from redis import Redis

from footfall.enrich import Enricher
from footfall.enrich.privacy import REDACTED, IPReducer, Redactor, parse_ip, truncate
from footfall.settings import Settings

DEFAULT_KEYS = Settings(_env_file=None).privacy.redact_keys

UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


def test_secret_keys_are_redacted_at_any_depth_in_objects_and_lists() -> None:
    data = {
        "username": "asha",
        "password": "hunter2",
        "profile": {"Card_Number": "4111111111111111", "city": "Pune", "cvv": 123},
        "items": [
            {"api-key": "k1", "name": "one"},
            [{"nested": {"X-Auth-Token": "t"}}],
            "plain",
        ],
        "csrfmiddlewaretoken": "abc",
        "new_password1": "x",
        "Authorization": "Bearer abc",
        "secret": {"whole": ["subtree"]},
    }
    assert Redactor(DEFAULT_KEYS).redact(data) == {
        "username": "asha",
        "password": REDACTED,
        "profile": {"Card_Number": REDACTED, "city": "Pune", "cvv": REDACTED},
        "items": [
            {"api-key": REDACTED, "name": "one"},
            [{"nested": {"X-Auth-Token": REDACTED}}],
            "plain",
        ],
        "csrfmiddlewaretoken": REDACTED,
        "new_password1": REDACTED,
        "Authorization": REDACTED,
        "secret": REDACTED,
    }


def test_redaction_list_is_configurable_and_can_be_empty() -> None:
    assert Redactor(["pin_code"]).redact({"PinCode": 1, "password": 2}) == {
        "PinCode": REDACTED,
        "password": 2,
    }
    assert Redactor([]).redact({"password": "x"}) == {"password": "x"}


def test_secret_query_parameters_are_redacted_and_the_rest_kept_verbatim() -> None:
    redactor = Redactor(DEFAULT_KEYS)
    assert (
        redactor.redact_query("/reset/?token=abc&next=%2Fhome&api_key=k#top")
        == "/reset/?token=[redacted]&next=%2Fhome&api_key=[redacted]#top"
    )
    assert redactor.redact_query("/search/?q=a+b&page=2") == "/search/?q=a+b&page=2"


def test_a_redacted_url_never_grows_past_the_stored_limit() -> None:
    url = "/p/?token=x&q=" + "a" * 2030
    assert len(url) <= 2048
    assert Redactor(DEFAULT_KEYS).redact_query(url) == "/p/"


@pytest.mark.parametrize(
    ("address", "truncated"),
    [
        ("81.2.69.142", "81.2.69.0"),
        ("8.8.8.8", "8.8.8.0"),
        ("2001:4860:4860::8888", "2001:4860:4860::"),
        ("2a02:c7c:1234:5678:9abc::1", "2a02:c7c:1234::"),
        ("::ffff:81.2.69.142", "81.2.69.0"),
    ],
)
def test_ip_is_truncated_to_its_24_or_48_network(address: str, truncated: str) -> None:
    assert str(truncate(parse_ip(address))) == truncated
    assert IPReducer("truncate", "k", 100).reduce(parse_ip(address)) == truncated


def test_hashed_ip_is_keyed_stable_and_not_the_address() -> None:
    address = ipaddress.ip_address("81.2.69.142")
    one, again = (
        IPReducer("hash", "k1", 100).reduce(address),
        IPReducer("hash", "k1", 100).reduce(address),
    )
    other_key = IPReducer("hash", "k2", 100).reduce(address)
    assert one == again and one != other_key
    assert len(one) == 32 and "." not in one
    assert IPReducer("full", "k", 100).reduce(address) == "81.2.69.142"


def view(log_id: str, **fields: object) -> dict[str, object]:
    return {"log_id": log_id, "path": "/", "ip": "81.2.69.142", "user_agent": UA, **fields}


def enricher(settings: Settings, redis: Redis, **overrides: object) -> Enricher:
    return Enricher(settings.replace(overrides), redis)


def test_enricher_redacts_request_data_view_kwargs_path_and_referrer(
    settings: Settings, redis: Redis
) -> None:
    (doc,) = enricher(settings, redis).enrich(
        [
            view(
                "1",
                path="/pay/?cc_number=4111&step=2",
                referrer="https://shop.example/?session_id=s",
                request_data={"order": [{"card": {"cardNumber": "4111"}}], "qty": 2},
                view_kwargs={"token": "t", "slug": "python"},
            )
        ]
    )
    assert doc["request_data"] == {"order": [{"card": {"cardNumber": REDACTED}}], "qty": 2}
    assert doc["view_kwargs"] == {"token": REDACTED, "slug": "python"}
    assert doc["path"] == "/pay/?cc_number=[redacted]&step=2"
    assert doc["referrer"] == "https://shop.example/?session_id=[redacted]"


def test_unwalkable_request_data_is_removed_not_stored(settings: Settings, redis: Redis) -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(5_000):  # deeper than Python's recursion limit
        node["next"] = node = {}
    (doc,) = enricher(settings, redis).enrich([view("1", request_data=deep)])
    assert "request_data" not in doc
    assert doc["enrich_errors"][0].startswith("redaction: RecursionError")


@pytest.mark.parametrize(
    ("mode", "stored"),
    [("truncate", "81.2.69.0"), ("full", "81.2.69.142")],
)
def test_ip_storage_setting_decides_the_stored_address(
    settings: Settings, redis: Redis, mode: str, stored: str
) -> None:
    (doc,) = enricher(settings, redis, ip_storage=mode).enrich([view("1")])
    assert doc["ip"] == stored
    assert doc["city"]  # located from the whole address, before it was reduced


def test_ip_hash_mode_stores_a_keyed_hash(settings: Settings, redis: Redis) -> None:
    (doc,) = enricher(settings, redis, ip_storage="hash", ip_hash_secret="s3").enrich([view("1")])
    assert doc["ip"] == IPReducer("hash", "s3", 100).reduce(ipaddress.ip_address("81.2.69.142"))
    assert doc["country"]["iso_code"] == "GB"


DERIVED = {
    "browser",
    "os",
    "device",
    "is_bot",
    "bot",
    "client_type",
    "client_hints",
    "country",
    "region",
    "city",
    "location",
    "location_accuracy_km",
    "location_source",
    "first_visit",
}


def test_dnt_reduce_keeps_the_view_without_ip_user_agent_or_what_derives_from_them(
    settings: Settings, redis: Redis
) -> None:
    hints = {"sec-ch-ua-model": '"Pixel 8"'}
    (doc,) = enricher(settings, redis).enrich([view("1", do_not_track=True, client_hints=hints)])
    assert doc["do_not_track"] is True
    assert doc["event_name"] == "event.home.view"
    assert not {"ip", "user_agent"} & set(doc)
    assert not DERIVED & set(doc)
    assert not list(redis.scan_iter(f"{settings.queue.stream_prefix}:visitor:*"))


def test_dnt_reduce_keeps_what_the_client_itself_chose_to_send(
    settings: Settings, redis: Redis
) -> None:
    (doc,) = enricher(settings, redis).enrich(
        [view("1", do_not_track=True, latitude=18.52, longitude=73.85, visitor_id="v1")]
    )
    assert doc["location"] == {"type": "Point", "coordinates": [73.85, 18.52]}
    assert doc["location_source"] == "browser"
    assert doc["first_visit"] is True  # from the visitor id it sent, not from IP + UA
    assert "country" not in doc


def test_dnt_drop_leaves_the_view_out_and_keeps_the_others_in_order(
    settings: Settings, redis: Redis
) -> None:
    docs = [view("1"), view("2", do_not_track=True), view("3")]
    kept = enricher(settings, redis, dnt_policy="drop").enrich(docs)
    assert [doc["log_id"] for doc in kept] == ["1", "3"]


def test_dnt_ignore_enriches_like_any_other_view(settings: Settings, redis: Redis) -> None:
    (doc,) = enricher(settings, redis, dnt_policy="ignore").enrich([view("1", do_not_track=True)])
    assert doc["ip"] == "81.2.69.0"
    assert doc["browser"]["family"] == "Chrome"
    assert doc["country"]["iso_code"] == "GB"
