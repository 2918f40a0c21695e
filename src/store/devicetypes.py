"""Device types: Matomo's fine types and the coarse classes the statistics group by.

The vocabularies of `device.type` and `device.fine_type` are the spec's
(`PageViewEnrichment`); this is the rule between them, which footfall.enrich.useragent
applies (tests/test_one_definition.py checks it covers the spec's vocabularies).
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
