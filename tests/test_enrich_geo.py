"""Location from a City database built here with mmdb-writer, and its hot replacement."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from redis import Redis

from footfall.enrich import Enricher
from footfall.enrich.geo import GeoIPError, GeoLocator, packaged_database
from footfall.enrich.privacy import parse_ip
from footfall.settings import Settings


def city(
    country: tuple[str, str],
    region: tuple[str, str] | None,
    name: str | None,
    lat: float,
    lon: float,
    radius: int,
) -> dict[str, Any]:
    """A record shaped like GeoLite2 City's (the fields the enrichment reads)."""
    record: dict[str, Any] = {
        "country": {"iso_code": country[0], "names": {"en": country[1], "fr": "?"}},
        "location": {"latitude": lat, "longitude": lon, "accuracy_radius": radius},
    }
    if region:
        record["subdivisions"] = [{"iso_code": region[0], "names": {"en": region[1]}}]
    if name:
        record["city"] = {"names": {"en": name}}
    return record


PARIS = city(("FR", "France"), ("IDF", "Île-de-France"), "Paris", 48.8566, 2.3522, 20)
PUNE = city(("IN", "India"), ("MH", "Maharashtra"), "Pune", 18.5204, 73.8567, 50)
BERLIN = city(("DE", "Germany"), ("BE", "Land Berlin"), "Berlin", 52.52, 13.405, 10)
GERMANY = city(("DE", "Germany"), None, None, 51.0, 9.0, 1000)


def write_db(path: Path, networks: dict[str, dict[str, Any]], kind: str = "Test-City") -> Path:
    """An IPv6 database that also answers IPv4 (as GeoLite2 does)."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=kind)
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return write_db(
        tmp_path / "city.mmdb",
        {
            "81.2.69.0/24": PARIS,
            "2a02:c7c::/32": BERLIN,
            "10.0.0.0/8": PUNE,  # a private range the database happens to hold
        },
    )


@pytest.fixture(params=["snapshot", "memory"])
def locator(request: pytest.FixtureRequest, db_path: Path) -> GeoLocator:
    return GeoLocator(db_path, mode=request.param, check_s=0, cache_size=1000)


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return parse_ip(text)


def test_ipv4_address_gets_country_region_city_and_a_geojson_point(locator: GeoLocator) -> None:
    assert locator.fields(ip("81.2.69.142")) == {
        "country": {"iso_code": "FR", "name": "France"},
        "region": {"iso_code": "IDF", "name": "Île-de-France"},
        "city": "Paris",
        "location": {"type": "Point", "coordinates": [2.3522, 48.8566]},
        "location_accuracy_km": 20,
        "location_source": "ip",
    }


def test_ipv6_address_is_located(locator: GeoLocator) -> None:
    fields = locator.fields(ip("2a02:c7c:1234::1"))
    assert fields["city"] == "Berlin"
    assert fields["location"]["coordinates"] == [13.405, 52.52]


def test_ipv4_mapped_ipv6_address_is_located_as_ipv4(locator: GeoLocator) -> None:
    assert locator.fields(ip("::ffff:81.2.69.142"))["city"] == "Paris"


@pytest.mark.parametrize(
    "address", ["10.1.2.3", "127.0.0.1", "192.168.1.1", "169.254.1.1", "::1", "fd00::1", "fe80::1"]
)
def test_private_loopback_and_reserved_addresses_get_no_location(
    locator: GeoLocator, address: str
) -> None:
    assert locator.fields(ip(address)) == {}


def test_address_the_database_does_not_know_gets_no_location(locator: GeoLocator) -> None:
    assert locator.fields(ip("1.2.3.4")) == {}
    assert locator.fields(ip("2001:4860:4860::8888")) == {}


def test_missing_parts_of_a_record_stay_absent(tmp_path: Path) -> None:
    path = write_db(tmp_path / "country-only.mmdb", {"81.2.69.0/24": GERMANY})
    fields = GeoLocator(path, "snapshot", 5.0, 1000).fields(ip("81.2.69.1"))
    assert fields == {
        "country": {"iso_code": "DE", "name": "Germany"},
        "location": {"type": "Point", "coordinates": [9.0, 51.0]},
        "location_accuracy_km": 1000,
        "location_source": "ip",
    }


def test_database_replaced_by_rename_gives_the_new_answers(
    locator: GeoLocator, db_path: Path
) -> None:
    assert locator.fields(ip("81.2.69.142"))["city"] == "Paris"
    new = write_db(db_path.with_name("new.mmdb"), {"81.2.69.0/24": PUNE})
    os.replace(new, db_path)  # how updaters install a new database
    assert locator.refresh() is True
    assert locator.fields(ip("81.2.69.142"))["city"] == "Pune"
    assert locator.fields(ip("2a02:c7c::1")) == {}  # the cached answers went with the old one


def test_database_rewritten_in_place_gives_the_new_answers(
    locator: GeoLocator, db_path: Path
) -> None:
    assert locator.fields(ip("81.2.69.142"))["city"] == "Paris"
    write_db(db_path, {"81.2.69.0/24": PUNE, "1.2.3.0/24": BERLIN})
    locator.refresh()
    assert locator.fields(ip("81.2.69.142"))["city"] == "Pune"
    assert locator.fields(ip("1.2.3.4"))["city"] == "Berlin"


def test_replacement_is_checked_at_most_every_check_interval(db_path: Path) -> None:
    locator = GeoLocator(db_path, "snapshot", check_s=3600, cache_size=1000)
    os.replace(write_db(db_path.with_name("new.mmdb"), {"81.2.69.0/24": PUNE}), db_path)
    assert locator.refresh() is False
    assert locator.fields(ip("81.2.69.142"))["city"] == "Paris"


def test_a_broken_replacement_keeps_the_database_in_use(locator: GeoLocator, db_path: Path) -> None:
    db_path.write_bytes(b"half a database")
    assert locator.refresh() is False
    assert locator.fields(ip("81.2.69.142"))["city"] == "Paris"
    os.replace(write_db(db_path.with_name("new.mmdb"), {"81.2.69.0/24": PUNE}), db_path)
    assert locator.refresh() is True  # tried again on the next check
    assert locator.fields(ip("81.2.69.142"))["city"] == "Pune"


def test_a_database_that_is_not_a_city_database_is_refused(tmp_path: Path) -> None:
    path = write_db(tmp_path / "asn.mmdb", {"81.2.69.0/24": {"x": 1}}, kind="GeoLite2-ASN")
    with pytest.raises(GeoIPError, match="not a City database"):
        GeoLocator(path, "snapshot", 5.0, 1000)


def test_a_missing_database_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(GeoIPError, match=r"missing\.mmdb not found"):
        GeoLocator(tmp_path / "missing.mmdb", "snapshot", 5.0, 1000)


def test_the_packaged_geolite2_database_locates_a_public_address() -> None:
    fields = GeoLocator(packaged_database(), "snapshot", 5.0, 1000).fields(ip("81.2.69.142"))
    assert fields["country"] == {"iso_code": "GB", "name": "United Kingdom"}
    assert fields["region"]["name"] == "England"
    assert fields["city"]
    assert fields["location"]["type"] == "Point"


def test_a_replaced_geoip_database_is_used_from_the_next_batch(
    tmp_path: Path, settings: Settings, redis: Redis
) -> None:
    path = write_db(tmp_path / "city.mmdb", {"81.2.69.0/24": PARIS})
    enricher = Enricher(settings.replace({"geoip_db": path, "geoip_check_s": 0}), redis)
    view = {"log_id": "1", "path": "/", "ip": "81.2.69.142"}
    assert enricher.enrich([dict(view)])[0]["city"] == "Paris"
    os.replace(write_db(tmp_path / "new.mmdb", {"81.2.69.0/24": PUNE}), path)
    assert enricher.enrich([dict(view, log_id="2")])[0]["city"] == "Pune"
