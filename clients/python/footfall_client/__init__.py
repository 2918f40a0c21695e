"""Footfall's Python client: `Tracker` sends events; the middleware and the Open edX backend
use it. Standard library only, so that a site installs nothing of the server."""

from footfall_client.processors import NameFilter
from footfall_client.tracker import Stats, Tracker

__all__ = ["NameFilter", "Stats", "Tracker"]
