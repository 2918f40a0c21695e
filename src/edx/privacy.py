"""The IP address of an edX event, as Footfall keeps it: by IP_STORAGE, like page views.

An address is reduced (truncated, hashed or kept: `footfall.enrich.privacy`); a value
that is not an address is kept as it is, because tracking logs are often anonymised
before they are handed over (`anon_...`, a hash) and there is nothing left to reduce.
The importer and the flusher (the `prepare` step of `edx_events`) both call `apply`.
"""

from __future__ import annotations

from typing import Any

from footfall.enrich.privacy import IPReducer
from footfall.settings import Settings


class EdxPrivacy:
    def __init__(self, settings: Settings) -> None:
        privacy = settings.privacy
        self.reducer = IPReducer(
            privacy.ip_storage, privacy.ip_hash_secret, settings.enrichment.geoip_cache_size
        )

    @classmethod
    def step(cls, sink: object, settings: Settings, redis: object) -> Any:
        """The `edx_events` sink's prepare step (`footfall.sinks`)."""
        return cls(settings).apply

    def stored_ip(self, value: str) -> str:
        try:
            return self.reducer.reduce(value)
        except ValueError:
            return value  # not an address: already anonymised

    def apply(self, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Reduce `ip` (and a `context.ip`, where event-tracking puts it) in place."""
        for doc in documents:
            ip = doc.get("ip")
            if ip:
                doc["ip"] = self.stored_ip(ip)
            context = doc.get("context")
            if context and isinstance(context.get("ip"), str) and context["ip"]:
                context["ip"] = self.stored_ip(context["ip"])
        return documents
