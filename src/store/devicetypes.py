"""Device types: Matomo's fine types and the coarse classes the statistics group by.

The stored vocabulary of `device.type` and `device.fine_type`: the validators derive
their enums from it, and footfall.enrich.useragent maps Matomo's answers with it.
"""

from __future__ import annotations

#: Matomo's device type (`device.fine_type`) → the coarse class kept in `device.type`.
#: Phones of every size are mobile; whatever is neither carried nor on a desk is other.
COARSE_TYPES: dict[str, str] = {
    "desktop": "desktop",
    "smartphone": "mobile",
    "phablet": "mobile",
    "feature phone": "mobile",
    "tablet": "tablet",
    "tv": "other",
    "console": "other",
    "car browser": "other",
    "wearable": "other",
    "smart display": "other",
    "smart speaker": "other",
    "camera": "other",
    "portable media player": "other",
    "peripheral": "other",
}
#: `device.type`: a bot's is "bot"; an agent of no known type is "other".
DEVICE_TYPES = ("desktop", "mobile", "tablet", "bot", "other")
