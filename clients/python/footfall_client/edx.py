"""An Open edX `event-tracking` backend: each event goes to Footfall as it is.

    EVENT_TRACKING_BACKENDS = {
        "footfall": {
            "ENGINE": "footfall_client.edx.FootfallBackend",
            "OPTIONS": {"url": "https://footfall.example.org/api/v1", "key": "ff_..."},
        },
    }

An event (`name`, `timestamp`, `context`, `data`, ...) becomes the batch item
`{"kind": "edx_event", ...the event}`, queued on a `Tracker` (batched, retried with the
same `log_id`, never blocking the platform). Other `OPTIONS` are the Tracker's.
"""

from __future__ import annotations

from typing import Any

from footfall_client.tracker import Tracker

KIND = "edx_event"


class FootfallBackend:
    def __init__(self, url: str, key: str, **tracker_options: Any) -> None:
        self.tracker = Tracker(url, key, **tracker_options)

    def send(self, event: dict[str, Any]) -> None:
        self.tracker.emit(KIND, event)
