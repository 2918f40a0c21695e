"""Connexion's parameter validator, answering 400 with every bad parameter named.

Connexion's own validator stops at the first bad parameter and answers its jsonschema
error as a multi-line text. A client needs each bad parameter by name, like the body's
422s name each bad field by pointer: `errors: [{parameter, in, detail}]`. A malformed
parameter stays a 400 (the request line is wrong, not the content: README, Errors).
"""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.utils import is_null, is_nullable
from connexion.validators import ParameterValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError

from footfall.web.problems import BadParameters, ParameterError
from footfall.web.query import parse_time

#: The spec's formats, checked as the handlers read them (`date-time`: `parse_time`).
_FORMATS = FormatChecker()


@_FORMATS.checks("date-time", raises=(ValueError, OverflowError))
def _date_time(value: object) -> bool:
    if isinstance(value, str):
        parse_time(value)
    return True


_TYPES = {"integer": "an integer", "number": "a number", "boolean": "true or false"}


class NamingParameterValidator(ParameterValidator):
    def validate_request(self, request: ConnexionRequest) -> None:
        errors: list[ParameterError] = []
        if self.strict_validation:
            extra = self.validate_query_parameter_list(request, self.security_query_params)
            errors += [{"parameter": n, "in": "query", "detail": "unknown"} for n in sorted(extra)]
        sources = {
            "query": request.query_params,
            "path": request.path_params,
            "header": request.headers,
            "cookie": request.cookies,
        }
        for where, values in sources.items():
            # A path item's parameters may reach the operation's list more than once.
            unique = {param["name"]: param for param in self.parameters.get(where, [])}
            for param in unique.values():
                name = param["name"]
                key = name.replace("-", "_") if where == "path" else name
                errors += [
                    {"parameter": name, "in": where, "detail": detail}
                    for detail in _problems(param, values.get(key))
                ]
        if errors:
            raise BadParameters(errors)


def _problems(param: dict[str, Any], value: Any) -> list[str]:
    schema = param.get("schema", param)
    if value is None:
        return ["required"] if param.get("required") else []
    if is_nullable(param) and is_null(value):
        return []
    validator = Draft4Validator(schema, format_checker=_FORMATS)
    return [_detail(error) for error in validator.iter_errors(value)]


def _detail(error: ValidationError) -> str:
    """Short words for what a client gets wrong in a parameter; jsonschema's otherwise."""
    limit = error.validator_value
    match error.validator:
        case "type":
            words = f"must be {_TYPES.get(str(limit), limit)}"
        case "minimum" | "maximum":
            words = f"must be at {'least' if error.validator == 'minimum' else 'most'} {limit}"
        case "minLength" if limit == 1:
            words = "must not be empty"
        case "minLength" | "maxLength":
            side = "least" if error.validator == "minLength" else "most"
            words = f"must be at {side} {limit} characters long"
        case "minItems" | "maxItems":
            side = "least" if error.validator == "minItems" else "most"
            words = f"must list at {side} {limit} values"
        case "enum":
            words = "must be one of " + ", ".join(map(str, limit))
        case "format" if limit == "date-time":
            words = "must be an RFC 3339 time, e.g. 2026-11-20T09:00:00Z"
        case _:
            words = error.message
    path = list(error.absolute_path)
    return f"value {path[0] + 1}: {words}" if path else words
