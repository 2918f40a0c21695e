"""User-Agent Client Hints: what Chromium browsers send beside their frozen user agent.

Chrome reduces its user agent ("Android 10; K", "Chrome/124.0.0.0"); the real platform
version, device model and brands come in `Sec-CH-UA*` headers. A page view carries them
as `client_hints`, keyed by the lowercase header name, and enrichment reads them with the
user agent (footfall.enrich.useragent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_HINT = 512
Hint = Annotated[str, Field(max_length=MAX_HINT)]


class ClientHints(BaseModel):
    """The hints a classifier uses, by header name; unknown ones are refused."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=False)

    brands: Hint | None = Field(None, alias="sec-ch-ua")
    full_version_list: Hint | None = Field(None, alias="sec-ch-ua-full-version-list")
    platform: Hint | None = Field(None, alias="sec-ch-ua-platform")
    platform_version: Hint | None = Field(None, alias="sec-ch-ua-platform-version")
    mobile: Hint | None = Field(None, alias="sec-ch-ua-mobile")
    model: Hint | None = Field(None, alias="sec-ch-ua-model")

    @classmethod
    def headers(cls) -> list[str]:
        """The header names, as the body's keys spell them."""
        return [field.alias for field in cls.model_fields.values() if field.alias]

    @classmethod
    def from_request(cls, headers: Mapping[str, str]) -> dict[str, str] | None:
        """The hint headers a request carries (a header too long to keep is left out)."""
        found = {
            name: value
            for name in cls.headers()
            if (value := headers.get(name)) is not None and len(value) <= MAX_HINT
        }
        return found or None
