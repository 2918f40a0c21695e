"""Who may call what: every operation of the spec, with every kind of credential,
answers as the operation's declared security says (401, 403 or 2xx).

The operations are read from the spec, so a new operation is covered as soon as it is
declared; its request comes from the spec's own examples (body, path parameters).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from footfall.app import SPEC_DIR
from footfall.security import keys, tokens
from tests.conftest import make_key

SPEC = yaml.safe_load((SPEC_DIR / "footfall.yaml").read_text())
BASE = SPEC["servers"][0]["url"]
METHODS = ("get", "put", "post", "patch", "delete")
SITE = "https://site.example"
LEARNER = "asha"  # the username of the spec's examples

#: The documented rule: admin implies ingest, read and metrics; browser neither implies nor
#: is implied.
GRANTS = {
    "ingest": {"ingest"},
    "read": {"read"},
    "metrics": {"metrics"},
    "admin": {"admin", "ingest", "read", "metrics"},
    "browser": {"browser"},
}
CREDENTIALS = (
    "no key",
    "revoked key",
    "browser key, allowed origin",
    "browser key, other origin",
    "ingest",
    "read",
    "metrics",
    "admin",
)

OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in METHODS
]


def documented_status(operation: dict[str, Any], credential: str) -> str:
    """ "allowed", "401" or "403", from the operation's `security` and the documented rules."""
    requirements = operation.get("security", SPEC["security"])
    if not requirements:
        return "allowed"
    if credential in ("no key", "revoked key"):
        return "401"
    held = GRANTS["browser" if credential.startswith("browser") else credential]
    if not any(set(scopes) <= held for item in requirements for scopes in item.values()):
        return "403"
    if credential == "browser key, other origin":
        return "403"
    return "allowed"


def outcome(status: int) -> str:
    """ "allowed": the handler answered: 2xx, or 404 when the example's resource is not in
    this test's database (security let the request through either way)."""
    assert status < 500, status
    return "allowed" if status < 400 or status == 404 else str(status)


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (#/components/...)."""
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def example_request(path: str, operation: dict[str, Any], item: dict[str, Any]) -> dict:
    """URL and JSON body built from the spec's examples."""
    for parameter in map(resolve, [*item.get("parameters", []), *operation.get("parameters", [])]):
        if parameter.get("in") == "path":
            schema = resolve(parameter.get("schema", {}))
            value = parameter.get("example", schema.get("example"))
            path = path.replace("{" + parameter["name"] + "}", str(value))
    request: dict[str, Any] = {"url": BASE + path}
    required_query = {
        parameter["name"]: parameter.get("example", resolve(parameter["schema"]).get("example"))
        for parameter in map(resolve, operation.get("parameters", []))
        if parameter.get("in") == "query" and parameter.get("required")
    }
    if required_query:
        request["params"] = required_query
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        examples = list(body.get("examples", {}).values())
        request["json"] = examples[0]["value"] if examples else body["schema"]["example"]
    return request


def credential_headers(db) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    browser = keys.create(db, "site", ["browser"], [SITE])
    assert browser.token_secret is not None
    learner = tokens.issue(browser.token_secret, LEARNER)
    revoked = keys.create(db, "old", ["admin"])
    keys.revoke(db, revoked.key.key_id)
    return {
        "no key": {},
        "revoked key": {"X-API-Key": revoked.secret},
        "browser key, allowed origin": {
            "X-API-Key": browser.secret,
            "Origin": SITE,
            "X-Learner-Token": learner,
        },
        "browser key, other origin": {
            "X-API-Key": browser.secret,
            "Origin": "https://elsewhere.example",
            "X-Learner-Token": learner,
        },
        "ingest": {"X-API-Key": make_key(db, "ingest")},
        "read": {"X-API-Key": make_key(db, "read")},
        "metrics": {"X-API-Key": make_key(db, "metrics")},
        "admin": {"X-API-Key": make_key(db, "admin")},
    }


def test_every_operation_declares_its_security_and_public_ones_are_only_health_and_ready():
    undeclared = [f"{m} {p}" for m, p, operation in OPERATIONS if "security" not in operation]
    assert not undeclared, "declare `security` on each operation"
    public = sorted(p for _, p, operation in OPERATIONS if operation["security"] == [])
    assert public == ["/health", "/ready"]


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_each_credential_gets_the_status_the_operation_declares(
    app, client, db, flush, method, path, operation
):
    # Something to read, change and delete: the session of the spec's examples.
    session = SPEC["components"]["schemas"]["UsageLog"]["example"]
    assert client.post(f"{BASE}/usage-logs", json=session).status_code == 202
    flush()
    request = example_request(path, operation, SPEC["paths"][path])
    answered = {}
    for credential, headers in credential_headers(db).items():
        response = app.test_client().request(method, headers=headers, **request)
        answered[credential] = outcome(response.status_code)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
    assert answered == {c: documented_status(operation, c) for c in CREDENTIALS}
