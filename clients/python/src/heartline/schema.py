"""Frame validation from the JSON Schema generated from @heartline/protocol.

``protocol.schema.json`` is generated from the zod schemas with zod v4's
``z.toJSONSchema`` (tests/support/python-schema.ts) and committed; a test in
the repository fails when it drifts from them. This module implements the
small subset of JSON Schema (2020-12) that file uses, and refuses to load a
schema with any other keyword, so a new kind of rule cannot pass unchecked.
"""

from __future__ import annotations

import json
import math
import re
from importlib import resources
from typing import Any, Mapping

SUPPORTED = frozenset(
    {
        "$schema",
        "$comment",
        "type",
        "const",
        "enum",
        "properties",
        "required",
        "additionalProperties",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "pattern",
        "anyOf",
        "oneOf",
    }
)


def _check_keywords(schema: Any, where: str) -> None:
    if not isinstance(schema, dict):
        return
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise ValueError(f"unsupported JSON Schema keywords at {where}: {sorted(unknown)}")
    for name, sub in schema.get("properties", {}).items():
        _check_keywords(sub, f"{where}.{name}")
    for key in ("anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key, [])):
            _check_keywords(sub, f"{where}.{key}[{i}]")


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if name == "integer":
        return isinstance(value, int) or value.is_integer()
    return name == "number"


def validate(schema: Mapping[str, Any], value: Any, where: str = "$") -> list[str]:
    """The ways ``value`` breaks ``schema`` (empty when it conforms)."""
    errors: list[str] = []
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is_type(value, k) for k in kinds):
            return [f"{where}: expected {kind}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: expected {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: not one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: above {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{where}: not above {schema['exclusiveMinimum']}")
    if isinstance(value, str) and "pattern" in schema:
        if re.search(schema["pattern"], value) is None:
            errors.append(f"{where}: does not match {schema['pattern']}")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{where}.{name}: required")
        properties = schema.get("properties", {})
        for name, sub in properties.items():
            if name in value:
                errors.extend(validate(sub, value[name], f"{where}.{name}"))
        if schema.get("additionalProperties") is False:
            errors.extend(f"{where}.{n}: not allowed" for n in value if n not in properties)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            matches = [not validate(sub, value, where) for sub in schema[key]]
            if (key == "anyOf" and not any(matches)) or (key == "oneOf" and sum(matches) != 1):
                errors.append(f"{where}: matches {sum(matches)} of {key}")
    return errors


def load_schema() -> dict[str, Any]:
    """The committed schema document (``server`` and ``client`` by message type)."""
    text = resources.files(__package__).joinpath("protocol.schema.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    for direction in ("server", "client"):
        for name, sub in document[direction].items():
            _check_keywords(sub, f"{direction}.{name}")
    return document


SCHEMA = load_schema()


def server_frame_errors(frame: Any) -> list[str] | None:
    """Errors of a server frame by its ``type``; None when the type is unknown (ignored)."""
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return ["$: not an object with a string type"]
    schema = SCHEMA["server"].get(frame["type"])
    if schema is None:
        return None
    errors = validate(schema, frame)
    if frame["type"] == "welcome" and not errors:
        # The refinement z.toJSONSchema cannot express.
        if ("resumed" in frame or "resumeFailed" in frame) and "resume" not in frame:
            errors.append("$: resumed and resumeFailed need resume")
        if "resumed" in frame and "resumeFailed" in frame:
            errors.append("$: resumed and resumeFailed exclude each other")
    return errors


def client_frame_errors(frame: Any) -> list[str]:
    """Errors of a frame this client is about to send."""
    schema = SCHEMA["client"].get(frame.get("type")) if isinstance(frame, dict) else None
    if schema is None:
        return ["$: not a client message type"]
    return validate(schema, frame)
