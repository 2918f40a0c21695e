"""Footfall: collects user-activity logs, keeps every one of them, turns them into answers."""

__version__ = "0.1.0"
