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
from functools import partial
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from footfall.enrich.geo import GeoLocator, packaged_database
from footfall.enrich.names import EventNamer, shipped_rules
from footfall.enrich.privacy import Privacy
from footfall.enrich.useragent import UserAgents
from footfall.enrich.visitors import VisitorLog
from footfall.metrics import tally
from footfall.settings import DEVELOPMENT_SECRET, Settings
from footfall.stats.visits import Sessions, alone
from footfall.store.collections import PAGEVIEWS

log = logging.getLogger(__name__)

Doc = dict[str, Any]
#: Longest message kept per failed step (the validator bounds each entry too).
MAX_ERROR = 300
#: The named groups of the event-name rules kept with a view, and the fields they fill.
URL_GROUPS = {"course": "course", "tutorial": "tutorial", "language": "tutorial_language"}


class Enricher:
    """Built once per flusher process (start-up fails on bad rules or a bad database)."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        enrichment = settings.enrichment
        self.namer = EventNamer.from_file(
            enrichment.event_rules or shipped_rules(), enrichment.event_default_name
        )
        self.agents = UserAgents(enrichment.ua_cache_size)
        self.geo = GeoLocator(
            enrichment.geoip_db or packaged_database(),
            enrichment.geoip_mode,
            enrichment.geoip_check_s,
            enrichment.geoip_cache_size,
        )
        self.visitors = VisitorLog(
            redis,
            settings.queue.stream_prefix,
            enrichment.returning_window_days,
            enrichment.visitor_key_secret,
        )
        self.sessions = Sessions(
            redis, settings.queue.stream_prefix, settings.stats.visit_idle_minutes
        )
        self.privacy = Privacy.of(PAGEVIEWS, settings.privacy, enrichment.geoip_cache_size)
        _warn_on_development_secrets(settings)

    def __call__(self, docs: list[Doc]) -> list[Doc]:
        """The sink's prepare step (`footfall.sinks`)."""
        return self.enrich(docs)

    def enrich(self, docs: list[Doc]) -> list[Doc]:
        """The documents to store, in order, enriched in place; DNT 'drop' ones left out."""
        self._refresh_geo()
        kept: list[Doc] = []
        visits: list[tuple[Doc, str]] = []
        for doc in docs:
            if self.privacy.dropped(doc):
                continue
            key = self._enrich_one(doc, reduced=self.privacy.honours_dnt(doc))
            if key is not None and doc.get("log_id"):
                visits.append((doc, key))
            kept.append(doc)
        self._first_visits(visits)
        self._visits(kept, visits)
        return kept

    def _enrich_one(self, doc: Doc, *, reduced: bool) -> str | None:
        """Enrich one view; returns its visitor key, if it has one."""
        _step(doc, "event_name", self._name)
        _step(doc, "redaction", self.privacy.redact, on_error=self.privacy.drop_unredacted)
        if not reduced:
            _step(doc, "user_agent", self._user_agent)
            _step(doc, "location", self._ip_location)
        _step(doc, "location", self._browser_location)
        key = None
        try:
            key = self._visitor_key(doc, reduced=reduced)
        except Exception as error:
            _record(doc, "first_visit", error)
        _step(doc, "ip", partial(self.privacy.reduce_client, reduced=reduced), on_error=_no_ip)
        return key

    def _name(self, doc: Doc) -> None:
        """The event name (unless the client sent one) and the rule's named groups:
        course, tutorial and language are kept for the statistics."""
        name, groups = self.namer.match(doc["path"])
        doc.setdefault("event_name", name)
        # `language` is the browser's own (the in-page script's): the URL's is the
        # tutorial's.
        for group, field in URL_GROUPS.items():
            if group in groups:
                doc[field] = groups[group]

    def _user_agent(self, doc: Doc) -> None:
        if user_agent := doc.get("user_agent"):
            doc.update(self.agents.fields(user_agent, doc.get("client_hints")))

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
    tally.enrich_error()


def _warn_on_development_secrets(settings: Settings) -> None:
    if settings.enrichment.visitor_key_secret == DEVELOPMENT_SECRET:
        log.warning("VISITOR_KEY_SECRET is the development default: set it in production")
    if (
        settings.privacy.ip_storage == "hash"
        and settings.privacy.ip_hash_secret == DEVELOPMENT_SECRET
    ):
        log.warning("IP_HASH_SECRET is the development default: set it in production")
