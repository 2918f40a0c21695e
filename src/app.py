"""The app factory: the spec, the clients, the middleware, built once per process."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from connexion import FlaskApp
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from footfall import dashboard
from footfall.clients import mongo_database, redis_client
from footfall.security.cors import Cors, browser_routes
from footfall.security.keystore import KeyStore
from footfall.security.ratelimit import RateLimit, RateLimiter
from footfall.settings import Settings
from footfall.store.streams import Streams
from footfall.web.context import EXTENSION, ProvideServices, Services
from footfall.web.limits import BodyLimit
from footfall.web.paths import ControlCharacters
from footfall.web.validation import validator_map

SPEC_DIR = Path(__file__).parent / "openapi"
SPEC_FILE = "footfall.yaml"


def create_app(settings: Settings | None = None) -> FlaskApp:
    """A connexion app serving the spec under /api/v1, Swagger UI at /api/v1/ui/.

    Clients are built here, not at import, so each worker process (and each test) has
    its own connections.

    Outermost first, a request meets: the services on its scope, CORS, the body limit,
    connexion's routing and security (`footfall.security.guard`), the rate limiter,
    body validation, then the handler.
    """
    settings = settings or Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # pymongo's DEBUG logs print whole command replies, api_keys records (learner token
    # secrets) included: they stay quiet whatever LOG_LEVEL is.
    logging.getLogger("pymongo").setLevel(logging.INFO)
    redis = redis_client(settings)
    db = mongo_database(settings)
    streams = Streams(
        redis,
        settings.stream_prefix,
        settings.idempotency_ttl_s,
        max_length=settings.max_stream_length,
        check_ms=settings.stream_check_ms,
    )
    keys = KeyStore(db, settings.key_cache_ttl_s, settings.key_cache_size, settings.retry_after_s)
    services = Services(settings=settings, redis=redis, db=db, streams=streams, keys=keys)

    app = FlaskApp(__name__, specification_dir=SPEC_DIR)
    app.add_api(
        SPEC_FILE,
        validator_map=validator_map(),
        swagger_ui_options=SwaggerUIOptions(
            swagger_ui_path="/ui", swagger_ui_config={"persistAuthorization": True}
        ),
        strict_validation=True,
        validate_responses=settings.validate_responses,
    )
    before_errors = MiddlewarePosition.BEFORE_EXCEPTION
    app.add_middleware(ProvideServices, position=before_errors, services=services)
    app.add_middleware(
        Cors,
        position=before_errors,
        origins=keys.browser_origins,
        routes=browser_routes(yaml.safe_load((SPEC_DIR / SPEC_FILE).read_text())),
        max_age_s=settings.cors_max_age_s,
    )
    app.add_middleware(BodyLimit, position=before_errors, max_bytes=settings.max_request_bytes)
    app.add_middleware(ControlCharacters, position=before_errors)
    app.add_middleware(
        RateLimit,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        limiter=RateLimiter(redis, settings.stream_prefix),
        settings=settings,
    )
    app.app.extensions[EXTENSION] = services
    dashboard.register(app.app)  # the page over /stats (footfall.dashboard)
    return app
