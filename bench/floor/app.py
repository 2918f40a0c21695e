"""An empty connexion FlaskApp: validates the body against a one-field schema, answers 202.

What Footfall's single-event POST costs above this is Footfall's own; this is the floor
that the mandated framework (connexion 3 FlaskApp under uvicorn) sets on a machine.
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
