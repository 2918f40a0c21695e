"""Connexion's JSON body validator, answering 422 with a pointer per bad field.

Connexion's own validator answers 400 with the first error as text; a client fixing its
payload needs every bad field, by pointer, and "JSON but wrong" (422) told apart from
"not JSON at all" (400).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import ValidationError
from starlette.types import Scope

from footfall.web.problems import BadParameters, FieldError, Invalid, pointer


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


class PointerParameterValidator(ParameterValidator):
    """Every bad or unknown query parameter, each by pointer (`/query/<name>`), in one 400;
    connexion's own stops at the first and says it in text only."""

    def validate_request(self, request: Any) -> None:
        errors: list[FieldError] = []
        if self.strict_validation:
            unknown = self.validate_query_parameter_list(
                request, security_params=self.security_query_params
            )
            errors += [
                {"pointer": pointer(["query", name]), "detail": "unknown parameter"}
                for name in sorted(unknown)
            ]
        for param in self.parameters.get("query", []):
            if error := self.validate_query_parameter(param, request):
                detail = error.split("\n", 1)[0]  # jsonschema's message, without the schema
                errors.append({"pointer": pointer(["query", param["name"]]), "detail": detail})
        if errors:
            raise BadParameters(errors)
        for kind in ("path", "header", "cookie"):
            check = getattr(self, f"validate_{kind}_parameter")
            for param in self.parameters.get(kind, []):
                if error := check(param, request):
                    raise BadRequestProblem(detail=error)


def validator_map() -> dict[str, Any]:
    body = MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": PointerJSONBodyValidator})
    return {**VALIDATOR_MAP, "body": body, "parameter": PointerParameterValidator}
