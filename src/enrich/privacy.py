"""What is kept of a visitor: the reduced IP address and request data without secrets.

Runs after the location lookup, which needs the whole address. Redaction fails closed:
a value that cannot be walked (too deep, say) is removed rather than stored as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote_plus

from footfall.store.collections import Redacted

if TYPE_CHECKING:
    from footfall.settings import PrivacySettings
    from footfall.store.collections import Collection

log = logging.getLogger(__name__)

IPStorage = Literal["truncate", "hash", "full"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDACTED = "[redacted]"
#: The longest path or referrer the page-view validator accepts.
MAX_URL = 2048
#: Kept networks: a /24 holds 256 IPv4 hosts; a /48 is one IPv6 site.
IPV4_PREFIX = 24
IPV6_PREFIX = 48


def parse_ip(text: str) -> IPAddress:
    """The address, an IPv4-mapped IPv6 one (::ffff:a.b.c.d) taken as the IPv4 it is."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class IPReducer:
    def __init__(self, mode: IPStorage, secret: str, cache_size: int) -> None:
        self.mode = mode
        self._secret = secret.encode()
        self.reduce = lru_cache(maxsize=cache_size)(self._reduce)

    def _reduce(self, address: str | IPAddress) -> str:
        """The stored form of an address, by IP_STORAGE (cached: a visitor comes back)."""
        if isinstance(address, str):
            address = parse_ip(address)
        if self.mode == "full":
            return str(address)
        if self.mode == "hash":
            # 128 bits of a keyed hash: the same address gives the same value (visits
            # can still be told apart) without the address being recoverable by trying
            # all 2^32 IPv4 addresses, which a plain hash would allow.
            return hmac.new(self._secret, address.packed, hashlib.sha256).hexdigest()[:32]
        return str(truncate(address))


def truncate(address: IPAddress) -> IPAddress:
    """The network address of the /24 (IPv4) or /48 (IPv6) that holds the address."""
    if isinstance(address, ipaddress.IPv4Address):
        return ipaddress.IPv4Address(int(address) & _mask(32, IPV4_PREFIX))
    return ipaddress.IPv6Address(int(address) & _mask(128, IPV6_PREFIX))


def _mask(bits: int, prefix: int) -> int:
    return ((1 << prefix) - 1) << (bits - prefix)


class Redactor:
    """Replaces the values of secret-looking keys by "[redacted]", at any depth.

    A key matches when, lowercased and without "_", "-", "." and spaces, it contains one
    of the (likewise normalised) entries: "password" catches "new_password1" and
    "Password-Confirm", "apikey" catches "api_key" and "X-API-Key". Substrings err on
    the side of hiding; the list is REDACT_KEYS.
    """

    def __init__(self, keys: list[str]) -> None:
        self.keys = tuple(sorted({_normalise(key) for key in keys if _normalise(key)}))
        self._verdicts: dict[str, bool] = {}

    def secret(self, key: str) -> bool:
        verdict = self._verdicts.get(key)
        if verdict is None:
            normalised = _normalise(key)
            verdict = any(entry in normalised for entry in self.keys)
            if len(self._verdicts) < 100_000:  # keys are few in practice; bound it anyway
                self._verdicts[key] = verdict
        return verdict

    def redact(self, value: Any) -> Any:
        """A copy of a JSON-like value with secret keys' values replaced."""
        if not self.keys:
            return value
        if isinstance(value, dict):
            return {
                key: REDACTED if self.secret(key) else self.redact(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.redact(item) for item in value]
        return value

    def redact_query(self, url: str) -> str:
        """The URL with the values of secret query parameters replaced ("?token=x").

        Only such values change; the rest of the URL is kept byte for byte.
        """
        if not self.keys or "?" not in url:
            return url
        head, _, rest = url.partition("?")
        query, hash_mark, fragment = rest.partition("#")
        parts = query.split("&")
        changed = False
        for index, part in enumerate(parts):
            name, equals, _ = part.partition("=")
            if equals and self.secret(unquote_plus(name)):
                parts[index] = f"{name}={REDACTED}"
                changed = True
        if not changed:
            return url
        redacted = f"{head}?{'&'.join(parts)}{hash_mark}{fragment}"
        # "[redacted]" can be longer than the value: never past what the validator allows.
        return redacted if len(redacted) <= max(len(url), MAX_URL) else head


def _normalise(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "").replace(".", "").replace(" ", "")


class Privacy:
    """REDACT_KEYS, IP_STORAGE and DNT_POLICY for one kind of stored document.

    Every kind that carries a visitor's address, URLs or free-form data goes through
    these same rules: page views inside the enricher (which needs the whole address
    first, for the location), exit links as their sink's prepare step (`__call__`).
    """

    def __init__(
        self,
        settings: PrivacySettings,
        *,
        free_form: tuple[str, ...] = (),
        urls: tuple[str, ...] = (),
        cache_size: int,
    ) -> None:
        self.dnt_policy = settings.dnt_policy
        self.redactor = Redactor(settings.redact_keys)
        self.ips = IPReducer(settings.ip_storage, settings.ip_hash_secret, cache_size)
        self.free_form, self.urls = free_form, urls

    @classmethod
    def of(cls, collection: Collection, settings: PrivacySettings, cache_size: int) -> Privacy:
        """The rules for a collection's documents: the fields it declares `redacted`."""
        redacted = collection.redacted or Redacted()
        return cls(
            settings, free_form=redacted.free_form, urls=redacted.urls, cache_size=cache_size
        )

    def honours_dnt(self, doc: dict[str, Any]) -> bool:
        """The request asked not to be tracked and DNT_POLICY does not ignore it."""
        return bool(doc.get("do_not_track")) and self.dnt_policy != "ignore"

    def dropped(self, doc: dict[str, Any]) -> bool:
        return self.honours_dnt(doc) and self.dnt_policy == "drop"

    def redact(self, doc: dict[str, Any]) -> None:
        for field in self.free_form:
            if field in doc:
                doc[field] = self.redactor.redact(doc[field])
        for field in self.urls:
            if isinstance(doc.get(field), str):
                doc[field] = self.redactor.redact_query(doc[field])

    def drop_unredacted(self, doc: dict[str, Any]) -> None:
        """Redaction failed: keep none of what it was to clean (query strings included)."""
        for field in self.free_form:
            doc.pop(field, None)
        for field in self.urls:
            if isinstance(doc.get(field), str):
                doc[field] = doc[field].partition("?")[0]

    def reduce_client(self, doc: dict[str, Any], *, reduced: bool) -> None:
        """The stored address by IP_STORAGE; under DNT 'reduce', no address nor user agent."""
        if reduced:
            doc.pop("ip", None)
            doc.pop("user_agent", None)
            doc.pop("client_hints", None)  # they describe the same client as the agent
        elif ip := doc.get("ip"):
            doc["ip"] = self.ips.reduce(ip)

    def __call__(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The whole rule set on a batch: the documents to store (DNT 'drop' left out).
        A step that fails removes what it guards (fails closed)."""
        kept = []
        for doc in docs:
            if self.dropped(doc):
                continue
            try:
                self.redact(doc)
            except Exception:
                log.exception(
                    "redaction failed for %s; unredacted fields dropped", doc.get("log_id")
                )
                self.drop_unredacted(doc)
            try:
                self.reduce_client(doc, reduced=self.honours_dnt(doc))
            except Exception:
                log.exception(
                    "IP reduction failed for %s; the address is dropped", doc.get("log_id")
                )
                doc.pop("ip", None)
            kept.append(doc)
        return kept
