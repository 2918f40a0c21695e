"""`/metrics`: every API worker's metrics and the queue's, in the Prometheus text format."""

from __future__ import annotations

import flask
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from footfall.metrics.api import EXTENSION


def scrape() -> flask.Response:
    # A Response of its own: the content type carries the format's version, which
    # Prometheus checks, and which connexion would not match against the spec's mime type.
    registry = flask.current_app.extensions[EXTENSION]()
    return flask.Response(generate_latest(registry), 200, content_type=CONTENT_TYPE_PLAIN_0_0_4)
