"""The app factory: the spec, the clients, the middleware, built once per process."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import yaml
from connexion import FlaskApp
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from footfall import dashboard
from footfall.connections import async_redis_client, is_cluster_url, mongo_database, redis_client
from footfall.ingest import Ingest
from footfall.metrics import api as metrics
from footfall.security.cors import Cors, browser_routes
from footfall.security.keymirror import KeyMirror
from footfall.security.keystore import KeyStore
from footfall.security.ratelimit import RateLimit, RateLimiter
from footfall.settings import Settings
from footfall.store.streams import Streams
from footfall.web.bridge import bridge
from footfall.web.context import EXTENSION, ProvideServices, Services
from footfall.web.errors import log_errors
from footfall.web.limits import BodyLimit
from footfall.web.methods import AllowedMethods
from footfall.web.paths import ControlCharacters
from footfall.web.script import serve_script
from footfall.web.validation import validator_map

SPEC_DIR = Path(__file__).parent / "openapi"
SPEC_FILE = "footfall.yaml"


def create_app(settings: Settings | None = None) -> FlaskApp:
    """A connexion app serving the spec under /api/v1, Swagger UI at /api/v1/ui/.

    Clients are built here, not at import, so each worker process (and each test) has
    its own connections. Logging is the entry point's (`footfall.logs`), not this one's.

    Outermost first, a request meets: its metrics, the services on its scope, CORS, the body
    limit, connexion's routing and security (`footfall.security.guard`), the rate limiter,
    body validation, then the handler (`footfall.web.bridge`: on the loop's thread, or in a
    thread for what may block long).
    """
    settings = settings or Settings()
    redis = redis_client(settings.servers)
    db = mongo_database(settings.servers)
    queue = settings.queue
    streams = Streams(
        redis,
        queue.stream_prefix,
        queue.idempotency_ttl_s,
        max_length=queue.max_stream_length,
        check_ms=queue.stream_check_ms,
        # On one Redis the ingest writes await Redis on the loop; on a Cluster they
        # block it for their round trips (no async Cluster client here yet).
        make_async=(
            None
            if is_cluster_url(settings.servers.redis_url)
            else partial(async_redis_client, settings.servers)
        ),
    )
    security = settings.security
    keys = KeyStore(
        db,
        security.key_cache_ttl_s,
        security.key_cache_size,
        settings.api.retry_after_s,
        KeyMirror(redis, queue.stream_prefix),
    )
    services = Services(
        settings=settings,
        redis=redis,
        db=db,
        streams=streams,
        ingest=Ingest(streams, settings.api),
        keys=keys,
    )

    app = FlaskApp(__name__, specification_dir=SPEC_DIR)
    app.add_api(
        SPEC_FILE,
        validator_map=validator_map(),
        swagger_ui_options=SwaggerUIOptions(
            swagger_ui_path="/ui", swagger_ui_config={"persistAuthorization": True}
        ),
        strict_validation=True,
        validate_responses=settings.api.validate_responses,
    )
    spec = yaml.safe_load((SPEC_DIR / SPEC_FILE).read_text())
    before_errors = MiddlewarePosition.BEFORE_EXCEPTION
    metrics.install(app, spec, redis, queue.stream_prefix)
    app.add_middleware(ProvideServices, position=before_errors, services=services)
    app.add_middleware(
        Cors,
        position=before_errors,
        origins=keys.browser_origins,
        routes=browser_routes(spec),
        max_age_s=security.cors_max_age_s,
    )
    app.add_middleware(BodyLimit, position=before_errors, max_bytes=settings.api.max_request_bytes)
    app.add_middleware(ControlCharacters, position=before_errors)
    app.add_middleware(AllowedMethods, position=before_errors, spec=spec)
    app.add_middleware(
        RateLimit,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        limiter=RateLimiter(redis, queue.stream_prefix),
        settings=settings,
    )
    log_errors(app)
    app.app.extensions[EXTENSION] = services
    serve_script(app)
    dashboard.register(app.app)  # the page over /stats (footfall.dashboard)
    bridge(app, settings.api.blocking_threads)
    return app
