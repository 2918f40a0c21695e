"""A malformed parameter is a 400 problem naming it, on every operation of the spec."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator

SPEC = yaml.safe_load((Path(__file__).parent.parent / "openapi" / "footfall.yaml").read_text())
METHODS = ("get", "put", "post", "patch", "delete")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        found: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        return found
    return node


def malformed(schema: dict[str, Any]) -> str | None:
    """A value the schema refuses, as it travels in a URL; None when any text fits."""
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return "abc"
    if kind == "boolean":
        return "maybe"
    if kind == "array":
        return "a,," + "b"  # an empty value between two commas
    if schema.get("format") == "date-time":
        return "yesterday"
    if "pattern" in schema:
        return "~not~of~the~pattern~"
    if "enum" in schema:
        return "none-of-" + "-".join(map(str, schema["enum"]))[:40]
    if "maxLength" in schema:
        return "x" * (schema["maxLength"] + 1)
    return None


def _cases() -> list[tuple[str, str, str, str, str]]:
    cases = []
    for template, item in SPEC["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            for param in map(_resolve, shared + item[method].get("parameters", [])):
                if param["in"] in ("query", "path"):
                    value = malformed(param["schema"])
                    assert value is not None, f"{method} {template} {param['name']}: untyped"
                    cases.append((method, template, param["in"], param["name"], value))
    return cases


CASES = _cases()


def _parameters(method: str, template: str) -> list[dict[str, Any]]:
    item = SPEC["paths"][template]
    return list(map(_resolve, item.get("parameters", []) + item[method].get("parameters", [])))


def _valid(param: dict[str, Any]) -> str:
    """A value the parameter takes: its example, its first choice, or any text."""
    schema = param["schema"]
    return str(param.get("example") or schema.get("example") or (schema.get("enum") or ["x1"])[0])


def test_every_operation_with_parameters_is_tried_and_declares_its_400():
    tried = {(method, template) for method, template, *_ in CASES}
    assert ("get", "/usage-logs") in tried
    assert ("delete", "/usage-logs/{log_id}") in tried
    assert len({name for *_, name, _ in CASES}) >= 12
    for method, template in tried:
        declared = SPEC["paths"][template][method]["responses"]["400"]
        assert declared == {"$ref": "#/components/responses/BadRequest"}, (method, template)


@pytest.mark.parametrize(
    ("method", "template", "where", "name", "value"),
    CASES,
    ids=[f"{m} {t} {n}" for m, t, _, n, _ in CASES],
)
def test_a_malformed_parameter_is_a_400_problem_naming_it(
    client, method, template, where, name, value
):
    path = template.replace("{" + name + "}", value) if where == "path" else template
    others = {p["name"]: p for p in _parameters(method, template) if p["name"] != name}
    path = re.sub(r"\{([^}]+)\}", lambda m: _valid(others[m.group(1)]), path)
    params = {p: _valid(q) for p, q in others.items() if q["in"] == "query" and q.get("required")}
    if where == "query":
        params[name] = value
    body = {"json": {}} if method in ("put", "post", "patch") else {}
    response = client.request(method.upper(), f"/api/v1{path}", params=params, **body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert "\n" not in problem["detail"]
    assert [(e["parameter"], e["in"]) for e in problem["errors"]] == [(name, where)], problem
    assert problem["errors"][0]["detail"]


def test_every_bad_parameter_is_named_at_once(client):
    query = {"per_page": "abc", "page": "0", "since": "yesterday", "online": "maybe", "x": "1"}
    problem = client.get("/api/v1/usage-logs", params=query).json()
    assert problem["status"] == 400
    assert {e["parameter"]: e["detail"] for e in problem["errors"]} == {
        "per_page": "must be an integer",
        "page": "must be at least 1",
        "since": "must be an RFC 3339 time, e.g. 2026-11-20T09:00:00Z",
        "online": "must be true or false",
        "x": "unknown",
    }
    field_error = Draft4Validator(SPEC["components"]["schemas"]["FieldError"])
    for error in problem["errors"]:
        field_error.validate(error)
