"""Connexion's JSON body validator, answering 422 with a pointer per bad field.

Connexion's own validator answers 400 with the first error as text; a client fixing its
payload needs every bad field, by pointer, and "JSON but wrong" (422) told apart from
"not JSON at all" (400).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem, NonConformingResponseBody
from connexion.validators import (
    VALIDATOR_MAP,
    AbstractResponseBodyValidator,
    JSONRequestBodyValidator,
)
from jsonschema import ValidationError
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
        errors = sorted(self._validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            raise Invalid([item for error in errors for item in _field_errors(error)])
        return None


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
