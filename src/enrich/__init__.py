"""Enrichment of page views in the flusher: user agent and bots, location, event names,
first-time or returning visitors, and the privacy rules (see `Enricher`)."""

from footfall.enrich.enricher import Enricher

__all__ = ["Enricher"]
