"""Connexion's JSON body validator, answering 422 with a pointer per bad field.

Connexion's own validator answers 400 with the first error as text; a client fixing its
payload needs every bad field, by pointer, and "JSON but wrong" (422) told apart from
"not JSON at all" (400).

Most bodies are valid, so a valid body is told apart first by a validator compiled once
per schema (fastjsonschema: Python code generated from the schema, several times
faster than walking it with jsonschema, which connexion also rebuilds for every
request). Only a body it refuses is walked by connexion's jsonschema validator, which
names the errors: the answers are the same, and a body the compiled one refuses but
jsonschema accepts (a stricter reading) is accepted.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from functools import partial
from typing import Any

import fastjsonschema
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem, NonConformingResponseBody
from connexion.validators import (
    VALIDATOR_MAP,
    AbstractResponseBodyValidator,
    JSONRequestBodyValidator,
)
from jsonschema import Draft4Validator, ValidationError
from starlette.types import Scope

from footfall.pointers import FieldError, pointer
from footfall.web.parameters import NamingParameterValidator
from footfall.web.problems import Invalid


class PointerJSONBodyValidator(JSONRequestBodyValidator):
    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        """A body that is not UTF-8, or JSON nested deeper than Python's parser recurses,
        is a 400, not a crash (500)."""
        try:
            return await super()._parse(stream, scope)
        except UnicodeDecodeError:
            raise BadRequestProblem(detail="the body is not UTF-8 text") from None
        except RecursionError:
            raise BadRequestProblem(detail="the JSON body is nested too deeply") from None

    def _validate(self, body: Any) -> dict | None:
        if body is None:
            raise BadRequestProblem(detail="the request body is empty; a JSON object is expected")
        if compiled(self._schema)(body):
            return None
        errors = sorted(self._validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            raise Invalid([item for error in errors for item in _field_errors(error)])
        return None


def compiled(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """A compiled check of `schema` (the operation's, kept by connexion for the app's life)."""
    entry = _COMPILED.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, _compile(schema))
        _COMPILED[id(schema)] = entry
    return entry[1]


_COMPILED: dict[int, tuple[dict[str, Any], Callable[[Any], bool]]] = {}


def _compile(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """fastjsonschema for what connexion's validator reads: Draft 4 with OpenAPI's
    `nullable`, and each format checked by the very function jsonschema uses.

    connexion hands the schema with its references resolved and the spec's `components`
    beside them (for jsonschema's resolver); a schema still holding a `$ref` (a
    recursive one) is left to jsonschema alone.
    """
    names: set[str] = set()
    body = {key: value for key, value in schema.items() if key != "components"}
    try:
        draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", **_nullable(body, names)}
    except _Reference:
        return lambda body: False
    checker = Draft4Validator.FORMAT_CHECKER
    formats = {name: partial(checker.conforms, format=name) for name in names}
    check = fastjsonschema.compile(
        draft4, formats=formats, use_default=False, detailed_exceptions=False
    )

    def valid(body: Any) -> bool:
        try:
            check(body)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return valid


class _Reference(Exception):
    """A `$ref` left in a schema: not compiled."""


def _nullable(node: Any, formats: set[str]) -> Any:
    """OpenAPI's `nullable: true` as JSON Schema says it (connexion lets null through
    `type` and `enum` there); every format name used is collected in `formats`."""
    if isinstance(node, list):
        return [_nullable(item, formats) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        raise _Reference(node["$ref"])
    out = {key: _nullable(value, formats) for key, value in node.items()}
    if isinstance(node.get("format"), str):
        formats.add(node["format"])
    if node.get("nullable") is True or node.get("x-nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _field_errors(error: ValidationError) -> list[FieldError]:
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [{"pointer": pointer([*path, name]), "detail": "field required"} for name in missing]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = [name for name in error.instance if name not in known]
        return [{"pointer": pointer([*path, name]), "detail": "unknown field"} for name in extra]
    return [{"pointer": pointer(path), "detail": error.message}]


class NDJSONResponseBodyValidator(AbstractResponseBodyValidator):
    """An NDJSON answer (`application/x-ndjson`: exports) is one JSON value per line;
    connexion's JSON validator would read it as one document and refuse it."""

    def _parse(self, stream: Any) -> Any:
        lines = b"".join(stream).decode(self._encoding).splitlines()
        try:
            return [json.loads(line) for line in lines]
        except ValueError as error:
            raise NonConformingResponseBody(f"a line is not JSON: {error}") from None

    def _validate(self, body: Any) -> dict | None:
        return None


def validator_map() -> dict[str, Any]:
    body = MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": PointerJSONBodyValidator})
    response = MediaTypeDict(
        {**VALIDATOR_MAP["response"], "application/x-ndjson": NDJSONResponseBodyValidator}
    )
    return {
        **VALIDATOR_MAP,
        "parameter": NamingParameterValidator,
        "body": body,
        "response": response,
    }
