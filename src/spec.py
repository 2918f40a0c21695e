"""The OpenAPI spec as the one place a field, its type and its limits are written.

Connexion validates requests with the spec; the event models' fields (`fields`) and the
MongoDB `$jsonSchema` validators (`mongo_validator`) are derived from the same schemas
when the package is imported, so the three cannot disagree and nothing generated can go
stale. What JSON Schema cannot say (a time at most minutes ahead, an end after its start,
free-form key rules) stays in code, in the model that needs it.

Two extensions of the spec's schemas are read here:
- `x-key-pattern` on an object whose `additionalProperties` is a schema: its keys must
  match the pattern (OpenAPI 3.0 has no `patternProperties`); becomes MongoDB's
  `patternProperties`.
- `x-bson-type` on a schema: the BSON type MongoDB stores it as, where JSON's type does
  not say (`objectId`, say). A `format: date-time` string is stored as a BSON date.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyAddress,
    PlainSerializer,
    create_model,
)
from pydantic.fields import FieldInfo

SPEC_FILE = Path(__file__).parent / "openapi" / "footfall.yaml"

Schema = dict[str, Any]

#: An IP address field: parsed (so a malformed one is refused), stored as text.
IpAddress = Annotated[IPvAnyAddress, PlainSerializer(str, return_type=str)]

_NUMBER_BSON = ["double", "int", "long", "decimal"]
_INTEGER_BSON = ["int", "long"]


class Spec:
    """One loaded spec document; `load()` gives the packaged one."""

    def __init__(self, document: Schema) -> None:
        self.document = document

    @classmethod
    def read(cls, path: Path) -> Spec:
        return cls(yaml.safe_load(path.read_text()))

    def schema(self, name: str) -> Schema:
        """A component schema with every `$ref` and `allOf` resolved into one object."""
        return self._resolve(self.document["components"]["schemas"][name])

    def _resolve(self, schema: Schema) -> Schema:
        if "$ref" in schema:
            target = schema["$ref"]
            if not target.startswith("#/"):
                raise ValueError(f"only local references are supported: {target}")
            node: Any = self.document
            for token in target[2:].split("/"):
                node = node[token.replace("~1", "/").replace("~0", "~")]
            resolved = self._resolve({**node, **{k: v for k, v in schema.items() if k != "$ref"}})
            if target.startswith("#/components/schemas/") and "properties" in resolved:
                resolved.setdefault("x-component", target.rsplit("/", 1)[1])
            return resolved
        resolved = {key: value for key, value in schema.items() if key != "allOf"}
        for part in schema.get("allOf", []):
            part = self._resolve(part)
            properties = {**part.get("properties", {}), **resolved.get("properties", {})}
            required = [*part.get("required", []), *resolved.get("required", [])]
            resolved = {**part, **resolved, "properties": properties}
            if required:
                resolved["required"] = list(dict.fromkeys(required))
        if "properties" in resolved:
            resolved["properties"] = {
                name: self._resolve(value) for name, value in resolved["properties"].items()
            }
        for key in ("items", "additionalProperties"):
            if isinstance(resolved.get(key), dict):
                resolved[key] = self._resolve(resolved[key])
        if "anyOf" in resolved:
            resolved["anyOf"] = [self._resolve(part) for part in resolved["anyOf"]]
        return resolved

    # Pydantic

    def fields(
        self, name: str, models: Mapping[str, type[BaseModel]] | None = None
    ) -> dict[str, tuple[Any, FieldInfo]]:
        """The pydantic fields of a component object schema: `(annotation, FieldInfo)`
        by name, for a model to declare (see `footfall.events.base.SpecModel`). A nested
        object that is a component with a model in `models` is typed by that model."""
        return _fields(self.schema(name), models or {})

    # MongoDB

    def mongo_validator(self, name: str) -> Schema:
        """The `$jsonSchema` validator of a stored document's component schema."""
        schema = mongo_schema(self.schema(name))
        schema["properties"] = {"_id": {}, **schema.get("properties", {})}
        return {"$jsonSchema": schema}


@cache
def load() -> Spec:
    """The spec the package ships (read once per process)."""
    return Spec.read(SPEC_FILE)


def _fields(
    schema: Schema, models: Mapping[str, type[BaseModel]]
) -> dict[str, tuple[Any, FieldInfo]]:
    required = set(schema.get("required", []))
    fields = {}
    for field, sub in schema.get("properties", {}).items():
        annotation = python_type(sub, models)
        if field in required:
            info = Field(default=...) if "default" not in sub else Field(sub["default"])
        else:
            annotation = annotation | None
            info = Field(default=sub.get("default"))
        fields[field] = (annotation, info)
    return fields


def python_type(schema: Schema, models: Mapping[str, type[BaseModel]] | None = None) -> Any:
    """The pydantic annotation that accepts what `schema` accepts (and nulls, if nullable)."""
    annotation = _python_type(schema, models or {})
    return annotation | None if schema.get("nullable") else annotation


def _python_type(schema: Schema, models: Mapping[str, type[BaseModel]]) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return Literal[tuple(value for value in schema["enum"] if value is not None)]
    if kind == "string":
        formats = {part.get("format") for part in schema.get("anyOf", [])} | {schema.get("format")}
        if formats & {"ipv4", "ipv6"}:
            return IpAddress
        if schema.get("format") == "date-time":
            return AwareDatetime
        return Annotated[
            str,
            Field(
                min_length=schema.get("minLength"),
                max_length=schema.get("maxLength"),
                pattern=schema.get("pattern"),
            ),
        ]
    if kind in ("number", "integer"):
        exclusive = schema.get("exclusiveMinimum") is True
        number: type = float if kind == "number" else int
        return Annotated[
            number,
            Field(
                gt=schema.get("minimum") if exclusive else None,
                ge=None if exclusive else schema.get("minimum"),
                le=schema.get("maximum"),
            ),
        ]
    if kind == "boolean":
        return bool
    if kind == "array":
        items = schema.get("items") or {}
        item = python_type(items, models) if items else Any
        return Annotated[
            list[item],  # type: ignore[valid-type]
            Field(min_length=schema.get("minItems"), max_length=schema.get("maxItems")),
        ]
    if kind == "object" and not schema.get("properties"):
        values = schema.get("additionalProperties")
        return dict[str, python_type(values, models) if isinstance(values, dict) else Any]  # type: ignore[misc]
    if kind == "object":
        component = schema.get("x-component")
        if component in models:
            return models[component]
        return create_model(  # type: ignore[call-overload]
            component or "Object",
            __config__=ConfigDict(extra="forbid"),
            **_fields(schema, models),
        )
    raise ValueError(f"no Python type for schema {schema!r}")


def mongo_schema(schema: Schema) -> Schema:
    """An OpenAPI 3.0 schema as MongoDB's `$jsonSchema` dialect: BSON types, dates as dates,
    objects closed unless they say `additionalProperties: true`."""
    kind = schema.get("type")
    out: Schema = {}
    if "enum" in schema:
        values = list(schema["enum"])
        if schema.get("nullable") and None not in values:
            values.append(None)
        return {"enum": values}
    if "x-bson-type" in schema:
        bson: str | list[str] = schema["x-bson-type"]
    elif kind == "string":
        bson = "date" if schema.get("format") == "date-time" else "string"
    elif kind == "number":
        bson = list(_NUMBER_BSON)
    elif kind == "integer":
        bson = list(_INTEGER_BSON)
    elif kind == "boolean":
        bson = "bool"
    elif kind in ("array", "object"):
        bson = kind
    else:
        return {}  # any value
    if schema.get("nullable"):
        bson = [*([bson] if isinstance(bson, str) else bson), "null"]
    out["bsonType"] = bson
    if bson == "string" or (isinstance(bson, list) and "string" in bson):
        for key in ("minLength", "maxLength", "pattern"):
            if key in schema:
                out[key] = schema[key]
    for key in ("minimum", "maximum", "exclusiveMinimum", "minItems", "maxItems", "uniqueItems"):
        if key in schema:
            out[key] = schema[key]
    if kind == "array" and schema.get("items"):
        out["items"] = mongo_schema(schema["items"])
    if kind == "object":
        if "properties" in schema:
            out["properties"] = {
                name: mongo_schema(sub) for name, sub in schema["properties"].items()
            }
        if schema.get("required"):
            out["required"] = list(schema["required"])
        values = schema.get("additionalProperties", False)
        if isinstance(values, dict):
            if "x-key-pattern" in schema:
                out["patternProperties"] = {schema["x-key-pattern"]: mongo_schema(values)}
                out["additionalProperties"] = False
            else:
                out["additionalProperties"] = mongo_schema(values) or True
        elif values is not True:
            out["additionalProperties"] = False
    return out
