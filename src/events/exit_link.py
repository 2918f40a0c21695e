"""A click on a link that leaves the site."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from footfall.events.base import LongText, Received, ShortText, UtcTime
from footfall.events.pageview import ClientFields

HttpUrlText = Annotated[str, Field(max_length=2048, pattern=r"^[hH][tT][tT][pP][sS]?://[^/\s]+")]


class ExitLink(ClientFields):
    kind: ClassVar[str] = "exit_link"
    collection: ClassVar[str] = "exit_links"
    browser: ClassVar[bool] = True

    url: HttpUrlText
    page: Annotated[LongText, Field(min_length=1)]
    page_title: ShortText | None = None
    clicked_at: UtcTime | None = None
    #: A click on a file to download (same site or not), not only on a link that leaves.
    download: bool | None = None

    def fill(self, received: Received) -> None:
        super().fill(received)
        if self.clicked_at is None:
            self.clicked_at = received.at
