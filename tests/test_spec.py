"""The spec is the contract: Swagger UI serves it, and the event models agree with it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from footfall.app import SPEC_DIR
from footfall.events import Received
from footfall.events.usage_log import UsageLogPatch
from footfall.sinks import KINDS

SPEC = yaml.safe_load((SPEC_DIR / "footfall.yaml").read_text())
SCHEMAS = SPEC["components"]["schemas"]
SERVER_SET = {"received_at", "do_not_track"}  # filled by the API, never sent


def test_swagger_ui_and_the_spec_are_served(client):
    ui = client.get("/api/v1/ui/")
    assert ui.status_code == 200
    assert "swagger-ui" in ui.text
    spec = client.get("/api/v1/openapi.json").json()
    assert "/pageviews" in spec["paths"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_has_the_same_fields_and_required_fields_as_its_schema(kind):
    model, schema = KINDS[kind], SCHEMAS[KINDS[kind].__spec_schema__]
    required = {name for name, f in model.model_fields.items() if f.is_required()}
    assert set(schema.get("required", [])) == required
    if model.model_config.get("extra") == "allow":
        # A foreign format (edX): the spec lists its known fields, the model takes any.
        assert set(model.model_fields) - SERVER_SET <= set(schema["properties"])
        assert schema["additionalProperties"] is True
        return
    assert set(schema["properties"]) == set(model.model_fields) - SERVER_SET
    assert schema["additionalProperties"] is False


def test_the_patch_model_has_the_fields_of_its_schema():
    assert set(SCHEMAS["UsageLogPatch"]["properties"]) == set(UsageLogPatch.model_fields)


def examples() -> list[tuple[str, Any]]:
    found = []
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            content = operation["requestBody"]["content"]["application/json"]
            for name, example in content.get("examples", {}).items():
                found.append((f"{method} {path} {name}", example["value"]))
    return found


@pytest.mark.parametrize(("name", "body"), examples(), ids=[n for n, _ in examples()])
def test_every_request_example_in_the_spec_is_accepted(client, name, body):
    method, path, _ = name.split(" ")
    path = path.replace("{log_id}", "example")
    response = client.request(method.upper(), f"/api/v1{path}", json=body)
    assert response.status_code in (200, 202), response.text


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_schema_example_is_a_valid_event(kind):
    KINDS[kind].accept(
        SCHEMAS[KINDS[kind].__spec_schema__]["example"], Received(at=datetime.now(UTC))
    )
