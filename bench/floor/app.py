"""An empty connexion FlaskApp: validates the body against a one-field schema, answers 202.

What Footfall's single-event POST costs above this is Footfall's own; this is the floor
that the mandated framework (connexion 3 FlaskApp under uvicorn) sets on a machine.
`make` is connexion's default; `make_bridged` the same app with Footfall's bridge
(`footfall.web.bridge`): the framework's own cost once its bridge waste is gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connexion import FlaskApp


def create(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return {"status": "accepted"}, 202


def make() -> FlaskApp:
    app = FlaskApp(__name__, specification_dir=Path(__file__).parent)
    app.add_api("spec.yaml")
    return app


def make_bridged() -> FlaskApp:
    # Imported here, so that `make` also runs on a Footfall from before the bridge (the
    # bench can then measure an older version beside the same floor).
    from footfall.web.bridge import bridge, on_loop

    on_loop(create)  # the handler is marked in place: connexion resolves it by name
    app = make()
    bridge(app, threads=10)
    return app
