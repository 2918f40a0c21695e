"""A click on a link that leaves the site."""

from __future__ import annotations

from typing import ClassVar

from footfall.events.base import Received
from footfall.events.pageview import ClientFields


class ExitLink(ClientFields, schema=("ExitLink", "Received")):
    kind: ClassVar[str] = "exit_link"
    browser: ClassVar[bool] = True

    def fill(self, received: Received) -> None:
        super().fill(received)
        if self.clicked_at is None:
            self.clicked_at = received.at
