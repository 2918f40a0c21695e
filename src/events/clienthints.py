"""User-Agent Client Hints: what Chromium browsers send beside their frozen user agent.

Chrome reduces its user agent ("Android 10; K", "Chrome/124.0.0.0"); the real platform
version, device model and brands come in `Sec-CH-UA*` headers. A page view carries them
as `client_hints`, keyed by the lowercase header name (its schema, `ClientHints`, is in
the spec), and enrichment reads them with the user agent (footfall.enrich.useragent).
"""

from __future__ import annotations

from collections.abc import Mapping

from footfall import spec


def headers() -> list[str]:
    """The hint headers kept, as the body's keys spell them (the spec's properties)."""
    return list(spec.load().schema("ClientHints")["properties"])


def from_request(request_headers: Mapping[str, str]) -> dict[str, str] | None:
    """The hint headers a request carries (a header too long to keep is left out)."""
    limits = spec.load().schema("ClientHints")["properties"]
    found = {
        name: value
        for name in limits
        if (value := request_headers.get(name)) is not None
        and len(value) <= limits[name].get("maxLength", len(value))
    }
    return found or None
