"""User-Agent Client Hints: what Chromium browsers send beside their frozen user agent.

Chrome reduces its user agent ("Android 10; K", "Chrome/124.0.0.0"); the real platform
version, device model and brands come in `Sec-CH-UA*` headers. A page view carries them
as `client_hints`, keyed by the lowercase header name (its schema, `ClientHints`, is in
the spec), and enrichment reads them with the user agent (footfall.enrich.useragent).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from footfall import spec


@cache
def _limits() -> dict[str, int | None]:
    """Each hint header the spec keeps, with its longest value (read once: every
    request asks)."""
    properties = spec.load().schema("ClientHints")["properties"]
    return {name: schema.get("maxLength") for name, schema in properties.items()}


def headers() -> list[str]:
    """The hint headers kept, as the body's keys spell them (the spec's properties)."""
    return list(_limits())


def from_request(request_headers: Mapping[str, str]) -> dict[str, str] | None:
    """The hint headers a request carries (a header too long to keep is left out)."""
    found = {
        name: value
        for name, limit in _limits().items()
        if (value := request_headers.get(name)) is not None
        and (limit is None or len(value) <= limit)
    }
    return found or None
