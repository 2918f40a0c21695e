"""The app factory: the spec, the clients, the middleware, built once per process."""

from __future__ import annotations

import logging
from pathlib import Path

from connexion import FlaskApp
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from footfall.clients import mongo_database, redis_client
from footfall.settings import Settings
from footfall.store.streams import Streams
from footfall.web.context import EXTENSION, Services
from footfall.web.limits import BodyLimit
from footfall.web.validation import validator_map

SPEC_DIR = Path(__file__).parent / "openapi"


def create_app(settings: Settings | None = None) -> FlaskApp:
    """A connexion app serving the spec under /api/v1, Swagger UI at /api/v1/ui/.

    Clients are built here, not at import, so each worker process (and each test) has
    its own connections.
    """
    settings = settings or Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = FlaskApp(__name__, specification_dir=SPEC_DIR)
    app.add_api(
        "footfall.yaml",
        validator_map=validator_map(),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"),
        strict_validation=True,
        validate_responses=settings.validate_responses,
    )
    app.add_middleware(
        BodyLimit,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        max_bytes=settings.max_request_bytes,
    )
    redis = redis_client(settings)
    app.app.extensions[EXTENSION] = Services(
        settings=settings,
        redis=redis,
        db=mongo_database(settings),
        streams=Streams(redis, settings.stream_prefix, settings.idempotency_ttl_s),
    )
    return app
