"""Enrichment of page views in the flusher, a batch at a time: the steps, in their order.

Per view: the event name; redaction of request data; user agent fields; location (from
the whole IP address, before it is reduced); the visitor key; then the IP is reduced.
Per batch: one Redis call answers first visits. A step that fails records why in
`enrich_errors` and the view is stored all the same; a step guarding privacy fails
closed (the field is removed rather than kept unreduced).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from footfall.enrich.events import EventNamer, shipped_rules
from footfall.enrich.geo import GeoLocator, packaged_database
from footfall.enrich.privacy import IPReducer, Redactor
from footfall.enrich.useragent import UserAgents
from footfall.enrich.visitors import VisitorLog
from footfall.settings import Settings
from footfall.stats.visits import Sessions, alone

log = logging.getLogger(__name__)

Doc = dict[str, Any]
#: Longest message kept per failed step (the validator bounds each entry too).
MAX_ERROR = 300


class Enricher:
    """Built once per flusher process (start-up fails on bad rules or a bad database)."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.dnt_policy = settings.dnt_policy
        self.namer = EventNamer.from_file(
            settings.event_rules or shipped_rules(), settings.event_default_name
        )
        self.agents = UserAgents(settings.ua_cache_size)
        self.geo = GeoLocator(
            settings.geoip_db or packaged_database(),
            settings.geoip_mode,
            settings.geoip_check_s,
            settings.geoip_cache_size,
        )
        self.visitors = VisitorLog(
            redis,
            settings.stream_prefix,
            settings.returning_window_days,
            settings.visitor_key_secret,
        )
        self.sessions = Sessions(redis, settings.stream_prefix, settings.visit_idle_minutes)
        self.redactor = Redactor(settings.redact_keys)
        self.ips = IPReducer(
            settings.ip_storage, settings.ip_hash_secret, settings.geoip_cache_size
        )
        _warn_on_development_secrets(settings)

    def enrich(self, docs: list[Doc]) -> list[Doc]:
        """The documents to store, in order, enriched in place; DNT 'drop' ones left out."""
        self._refresh_geo()
        kept: list[Doc] = []
        visits: list[tuple[Doc, str]] = []
        for doc in docs:
            dnt = bool(doc.get("do_not_track")) and self.dnt_policy != "ignore"
            if dnt and self.dnt_policy == "drop":
                continue
            key = self._enrich_one(doc, reduced=dnt)
            if key is not None and doc.get("log_id"):
                visits.append((doc, key))
            kept.append(doc)
        self._first_visits(visits)
        self._visits(kept, visits)
        return kept

    def _enrich_one(self, doc: Doc, *, reduced: bool) -> str | None:
        """Enrich one view; returns its visitor key, if it has one."""
        _step(doc, "event_name", self._name)
        _step(doc, "redaction", self._redact, on_error=self._drop_unredacted)
        if not reduced:
            _step(doc, "user_agent", self._user_agent)
            _step(doc, "location", self._ip_location)
        _step(doc, "location", self._browser_location)
        key = None
        try:
            key = self._visitor_key(doc, reduced=reduced)
        except Exception as error:
            _record(doc, "first_visit", error)
        _step(doc, "ip", self._reduce_ip if not reduced else _forget_client, on_error=_no_ip)
        return key

    def _name(self, doc: Doc) -> None:
        """The event name (unless the client sent one) and the rule's named groups:
        course, tutorial and language are kept for the statistics."""
        name, groups = self.namer.match(doc["path"])
        doc.setdefault("event_name", name)
        for field in ("course", "tutorial", "language"):
            if field in groups:
                doc[field] = groups[field]

    def _redact(self, doc: Doc) -> None:
        for field in ("request_data", "view_kwargs"):
            if field in doc:
                doc[field] = self.redactor.redact(doc[field])
        for field in ("path", "referrer"):
            if field in doc:
                doc[field] = self.redactor.redact_query(doc[field])

    def _drop_unredacted(self, doc: Doc) -> None:
        """Redaction failed: keep none of what it was to clean (query strings included)."""
        for field in ("request_data", "view_kwargs"):
            doc.pop(field, None)
        for field in ("path", "referrer"):
            if isinstance(doc.get(field), str):
                doc[field] = doc[field].partition("?")[0]

    def _user_agent(self, doc: Doc) -> None:
        if user_agent := doc.get("user_agent"):
            doc.update(self.agents.fields(user_agent))

    def _ip_location(self, doc: Doc) -> None:
        if ip := doc.get("ip"):
            doc.update(self.geo.fields(ip))

    def _browser_location(self, doc: Doc) -> None:
        """Coordinates the browser sent (with the visitor's consent) win over the IP's."""
        latitude, longitude = doc.get("latitude"), doc.get("longitude")
        if latitude is None or longitude is None:
            return
        doc["location"] = {"type": "Point", "coordinates": [longitude, latitude]}
        doc["location_source"] = "browser"
        doc.pop("location_accuracy_km", None)  # that radius was the IP location's

    def _visitor_key(self, doc: Doc, *, reduced: bool) -> str | None:
        """The visitor's key, from the whole address; none from IP + UA under DNT."""
        ip = None if reduced else doc.get("ip")
        return self.visitors.key(
            visitor_id=doc.get("visitor_id"), ip=ip, user_agent=doc.get("user_agent")
        )

    def _reduce_ip(self, doc: Doc) -> None:
        if ip := doc.get("ip"):
            doc["ip"] = self.ips.reduce(ip)

    def _first_visits(self, visits: list[tuple[Doc, str]]) -> None:
        """One Redis call for the batch; a client's own first_visit is kept as it is.

        Views whose client answered are still recorded, so that the visitor's next view
        without the flag is answered consistently.
        """
        if not visits:
            return
        try:
            answers = self.visitors.first_visits([(key, doc["log_id"]) for doc, key in visits])
        except RedisError as error:
            log.warning("first visits not answered for %d views: %s", len(visits), error)
            for doc, _ in visits:
                if "first_visit" not in doc:
                    _record(doc, "first_visit", error)
            return
        for (doc, _), first in zip(visits, answers, strict=True):
            doc.setdefault("first_visit", first)

    def _visits(self, kept: list[Doc], visits: list[tuple[Doc, str]]) -> None:
        """The visitor hash is stored (unique visitors), and each view's visit decided
        (`footfall.stats.visits`); a view nobody is recognised in is a visit of its own."""
        keyed = []
        for doc, key in visits:
            doc["visitor"] = key.rsplit(":", 1)[1]
            if "visited_at" in doc:  # always, once accepted (the API fills it)
                keyed.append((doc, doc["visitor"]))
        try:
            self.sessions.assign(keyed)
        except RedisError as error:
            log.warning("visits not decided for %d views: %s", len(keyed), error)
            for doc, _ in keyed:
                _record(doc, "visit", error)
        for doc in kept:
            if "visit" not in doc and "visited_at" in doc:
                alone(doc)

    def _refresh_geo(self) -> None:
        try:
            self.geo.refresh()
        except Exception:
            log.exception("GeoIP database check failed; keeping the database in use")


def _forget_client(doc: Doc) -> None:
    """DNT 'reduce': neither the address nor the user agent is stored."""
    doc.pop("ip", None)
    doc.pop("user_agent", None)


def _no_ip(doc: Doc) -> None:
    doc.pop("ip", None)


def _step(
    doc: Doc, name: str, run: Callable[[Doc], None], on_error: Callable[[Doc], None] | None = None
) -> None:
    try:
        run(doc)
    except Exception as error:
        _record(doc, name, error)
        if on_error is not None:
            on_error(doc)


def _record(doc: Doc, step: str, error: BaseException) -> None:
    message = f"{step}: {type(error).__name__}: {error}"
    doc.setdefault("enrich_errors", []).append(message[:MAX_ERROR])


def _warn_on_development_secrets(settings: Settings) -> None:
    defaults = Settings.model_fields
    if settings.visitor_key_secret == defaults["visitor_key_secret"].default:
        log.warning("VISITOR_KEY_SECRET is the development default: set it in production")
    if (
        settings.ip_storage == "hash"
        and settings.ip_hash_secret == defaults["ip_hash_secret"].default
    ):
        log.warning("IP_HASH_SECRET is the development default: set it in production")
