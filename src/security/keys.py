"""API keys: made random, stored hashed, looked up by their public id, cached briefly.

A key reads `ff_<id>_<secret>`: the id is public and finds the stored record; the key
(its secret: 256 random bits) is never stored, only its SHA-256. A fast hash is enough for
a secret of that entropy (a slow KDF protects guessable passwords, not random tokens),
and it keeps the check cheap. Comparison is constant-time (`hmac.compare_digest`).

A browser key also gets a token secret: the site's server signs learner tokens with it
(`footfall.security.tokens`), so it is stored as is, and `api_keys` is as sensitive as
the sites' own secrets.

The API reads keys through `footfall.security.keystore`, which caches them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database

from footfall.security import scopes as scope_names
from footfall.store.collections import API_KEYS

PREFIX = "ff"
_ID_BYTES = 6  # 12 hex characters: the public part
_SECRET_BYTES = 32
_ORIGIN = re.compile(r"^https?://[^/\s]+$")


@dataclass(frozen=True)
class Rate:
    """A token bucket: `per_s` sustained requests per second, `burst` at once."""

    per_s: float
    burst: int


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scopes: frozenset[str]
    digest: str
    created_at: datetime
    origins: frozenset[str] = frozenset()
    token_secret: str | None = None
    rate: Rate | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def matches(self, secret: str) -> bool:
        """Constant-time: the time taken tells nothing about how much of it was right."""
        return hmac.compare_digest(self.digest, digest(secret))

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ApiKey:
        rate = document.get("rate")
        return cls(
            key_id=document["key_id"],
            name=document["name"],
            scopes=frozenset(document["scopes"]),
            digest=document["digest"],
            created_at=document["created_at"],
            origins=frozenset(document.get("origins") or ()),
            token_secret=document.get("token_secret"),
            rate=Rate(float(rate["per_s"]), int(rate["burst"])) if rate else None,
            revoked_at=document.get("revoked_at"),
        )

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "key_id": self.key_id,
            "name": self.name,
            "scopes": sorted(self.scopes),
            "origins": sorted(self.origins),
            "digest": self.digest,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }
        if self.token_secret is not None:
            document["token_secret"] = self.token_secret
        if self.rate is not None:
            document["rate"] = {"per_s": self.rate.per_s, "burst": self.rate.burst}
        return document


@dataclass(frozen=True)
class Created:
    """A new key with its secrets: shown once, then only the record remains."""

    key: ApiKey
    secret: str
    token_secret: str | None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(presented: str) -> str | None:
    """The key id of a presented key, or None when it is not shaped like one."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or len(key_id) != 2 * _ID_BYTES or not secret:
        return None
    return key_id


def normalise_origin(text: str) -> str:
    """`https://Example.org/` -> `https://example.org`, as browsers send Origin."""
    origin = text.strip().rstrip("/").lower()
    if not _ORIGIN.match(origin):
        raise ValueError(f"{text!r} is not an origin (scheme://host[:port], no path)")
    return origin


def create(
    db: Database,
    name: str,
    scopes: Iterable[str],
    origins: Iterable[str] = (),
    rate: Rate | None = None,
) -> Created:
    """Store a new key and return it with its secret (the only time it is known)."""
    wanted = frozenset(scopes)
    unknown = wanted - set(scope_names.ALL)
    if not wanted or unknown:
        raise ValueError(f"scopes must be some of {list(scope_names.ALL)}; got {sorted(wanted)}")
    allowed = frozenset(normalise_origin(origin) for origin in origins)
    browser = scope_names.BROWSER in wanted
    if browser and not allowed:
        raise ValueError("a browser key needs at least one origin")
    key_id = secrets.token_hex(_ID_BYTES)
    secret = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    token_secret = secrets.token_urlsafe(_SECRET_BYTES) if browser else None
    key = ApiKey(
        key_id=key_id,
        name=name,
        scopes=wanted,
        digest=digest(secret),
        created_at=datetime.now(UTC),
        origins=allowed,
        token_secret=token_secret,
        rate=rate,
    )
    db[API_KEYS.name].insert_one(key.document())
    return Created(key, secret, token_secret)


def revoke(db: Database, key_id: str) -> bool:
    """True when an active key was revoked; it stays stored, for the record."""
    result = db[API_KEYS.name].update_one(
        {"key_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": datetime.now(UTC)}}
    )
    return result.modified_count == 1


def get(db: Database, key_id: str) -> ApiKey | None:
    """A key's record by id, active or revoked."""
    document = db[API_KEYS.name].find_one({"key_id": key_id})
    return ApiKey.from_document(document) if document else None


def all_keys(db: Database) -> list[ApiKey]:
    documents = db[API_KEYS.name].find({}).sort("created_at", 1)
    return [ApiKey.from_document(document) for document in documents]


def find(db: Database, presented: str) -> ApiKey | None:
    """The active key whose secret this is, straight from MongoDB (the CLI; the API
    uses the cached `KeyStore.authenticate`)."""
    key_id = parse(presented)
    document = None if key_id is None else db[API_KEYS.name].find_one({"key_id": key_id})
    key = ApiKey.from_document(document) if document else None
    return key if key is not None and key.active and key.matches(presented) else None
