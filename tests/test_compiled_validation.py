"""The compiled body check (`footfall.web.validation.compiled`) never accepts what
connexion's jsonschema validator refuses, and serves the spec's own examples.

A body the compiled check accepts skips jsonschema; one it refuses is walked by
jsonschema, which names the errors. So the compiled check may be stricter, never looser:
each operation's examples are mutated field by field (null, wrong types, too long, bad
addresses, unknown fields, missing fields) and both verdicts compared.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from connexion.json_schema import Draft4RequestValidator
from connexion.spec import Specification
from jsonschema import Draft4Validator

from footfall.app import SPEC_DIR, SPEC_FILE
from footfall.web.validation import compiled

SPEC = Specification.load(SPEC_DIR / SPEC_FILE)

STRANGE_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    1.0,
    True,
    "",
    "x" * 5000,
    "not a time",
    "2024-13-45T99:99:99Z",
    "999.1.1.1",
    "01.2.3.4",
    "::1",
    "fe80::1%eth0",
    "1.2.3.4",
    "/path",
    "no-slash",
    "http://\x1c",
    "https://example.org/",
    [],
    [None],
    {},
    {"$where": 1},
]


def operations() -> Iterator[tuple[str, dict[str, Any], list[Any]]]:
    for path, methods in SPEC["paths"].items():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            content = operation["requestBody"]["content"]["application/json"]
            examples = [example["value"] for example in content.get("examples", {}).values()]
            yield f"{method} {path}", content["schema"], examples


def mutations(body: Any) -> Iterator[Any]:
    """The body with one value changed, added or removed, at every depth."""
    if isinstance(body, dict):
        for key in body:
            for value in STRANGE_VALUES:
                yield {**body, key: value}
            yield {name: v for name, v in body.items() if name != key}
            for inner in mutations(body[key]):
                yield {**body, key: inner}
        yield {**body, "unknown_field": 1}
    elif isinstance(body, list):
        for index, item in enumerate(body):
            for inner in mutations(item):
                yield [*body[:index], inner, *body[index + 1 :]]
        yield [*body, *body]


@pytest.mark.parametrize(("name", "schema", "examples"), list(operations()))
def test_the_compiled_check_is_never_looser_than_jsonschema(
    name: str, schema: dict[str, Any], examples: list[Any]
) -> None:
    reference = Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    check = compiled(schema)
    assert examples, f"{name} has no example to start from"
    compared = 0
    for example in examples:
        assert check(copy.deepcopy(example)), f"{name}: its own example took the slow path"
        for body in mutations(example):
            compared += 1
            if check(copy.deepcopy(body)):
                errors = [e.message for e in reference.iter_errors(body)]
                assert not errors, f"{name}: compiled accepted {body!r}, jsonschema: {errors}"
    assert compared >= 20 * len(examples)


def test_a_refused_body_still_gets_every_pointer(client) -> None:  # type: ignore[no-untyped-def]
    """The slow path answers as before: each bad field by pointer (422)."""
    response = client.post(
        "/api/v1/pageviews", json={"path": "no-slash", "method": "FETCH", "unknown": 1}
    )
    assert response.status_code == 422
    pointers = sorted(error["pointer"] for error in response.json()["errors"])
    assert pointers == ["/method", "/path", "/unknown"]
