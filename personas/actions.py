"""The small JSON Schema subset used for action arguments, and a validator for it.

An action's ``args`` is a JSON Schema object schema. ``jsonschema`` is not a
dependency; game actions need only this subset, and anything outside it is refused
when the persona loads (rather than silently not enforced):

* ``type``: ``string``, ``integer``, ``number``, ``boolean``, ``array``, ``object``,
  ``null`` (or a list of these)
* ``enum``, ``const``
* objects: ``properties``, ``required``, ``additionalProperties`` (``true``/``false``)
* numbers: ``minimum``, ``maximum``
* strings: ``minLength``, ``maxLength``, ``pattern`` (a Python regular expression,
  searched anywhere in the value as JSON Schema does)
* arrays: ``items``, ``minItems``, ``maxItems``
* annotations, ignored: ``description``, ``title``, ``default``, ``examples``

:func:`validate_action_args` returns a list of readable problems (empty when valid).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personas.schema import ActionSpec

__all__ = ["SUPPORTED_KEYWORDS", "SUPPORTED_TYPES", "check_args_schema", "validate_action_args"]

SUPPORTED_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
SUPPORTED_KEYWORDS = frozenset(
    {
        "type", "enum", "const", "properties", "required", "additionalProperties",
        "minimum", "maximum", "minLength", "maxLength", "pattern", "items", "minItems", "maxItems",
        "description", "title", "default", "examples",
    }
)  # fmt: skip
_INT_KEYWORDS = ("minLength", "maxLength", "minItems", "maxItems")


def check_args_schema(schema: Any) -> None:
    """Raise ``ValueError`` unless ``schema`` is an object schema in the supported subset."""
    if not isinstance(schema, Mapping):
        raise ValueError("args must be a JSON Schema mapping (type: object, properties: ...)")
    if schema.get("type") != "object":
        raise ValueError(f"args must have 'type: object', got type {schema.get('type')!r}")
    if not isinstance(schema.get("properties"), Mapping):
        raise ValueError("args must have 'properties' (a mapping of argument name to schema)")
    _check_subschema(schema, "args")


def _check_subschema(schema: Any, where: str) -> None:
    if not isinstance(schema, Mapping):
        raise ValueError(f"{where}: a schema must be a mapping, got {type(schema).__name__}")
    unknown = sorted(str(key) for key in schema if key not in SUPPORTED_KEYWORDS)
    if unknown:
        raise ValueError(
            f"{where}: unsupported JSON Schema keyword(s) {', '.join(unknown)}; "
            f"supported: {', '.join(sorted(SUPPORTED_KEYWORDS))}"
        )
    types = _types_of(schema)
    bad = [t for t in types if t not in SUPPORTED_TYPES]
    if "type" in schema and (not types or bad):
        raise ValueError(f"{where}: type must be one of {', '.join(SUPPORTED_TYPES)}, got {schema['type']!r}")
    if "enum" in schema and (not isinstance(schema["enum"], list) or not schema["enum"]):
        raise ValueError(f"{where}: enum must be a non-empty list")
    for key in ("minimum", "maximum"):
        if key in schema and not _is_number(schema[key]):
            raise ValueError(f"{where}: {key} must be a number")
    for key in _INT_KEYWORDS:
        if key in schema and not (_is_integer(schema[key]) and schema[key] >= 0):
            raise ValueError(f"{where}: {key} must be a non-negative integer")
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError) as exc:
            raise ValueError(f"{where}: pattern is not a valid regular expression: {exc}") from None
    if "additionalProperties" in schema and not isinstance(schema["additionalProperties"], bool):
        raise ValueError(f"{where}: additionalProperties must be true or false")
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        raise ValueError(f"{where}: properties must be a mapping")
    for name, sub in properties.items():
        _check_subschema(sub, f"{where}.properties.{name}")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ValueError(f"{where}: required must be a list of property names")
    missing = [r for r in required if r not in properties]
    if missing:
        raise ValueError(f"{where}: required names unknown properties: {', '.join(missing)}")
    if "items" in schema:
        _check_subschema(schema["items"], f"{where}.items")


def validate_action_args(spec: ActionSpec | Mapping[str, Any], args: Any) -> list[str]:
    """Check ``args`` against an action (or its ``args`` schema); return the problems.

    An empty list means the arguments are valid. Messages name the argument path,
    e.g. ``"item_id: must be one of 'iron_sword', 'horseshoe'; got 'axe'"``.
    """
    schema = spec if isinstance(spec, Mapping) else spec.args
    errors: list[str] = []
    _validate(schema, args, "", errors)
    return errors


def _validate(schema: Mapping[str, Any], value: Any, where: str, errors: list[str]) -> None:
    prefix = f"{where}: " if where else ""
    types = _types_of(schema)
    if types and not any(_is_type(value, t) for t in types):
        wanted = " or ".join(types)
        label = "arguments must be" if not where else "must be"
        errors.append(f"{prefix}{label} {_article(wanted)}{wanted}, got {_short(value)}")
        return
    if "const" in schema and value != schema["const"]:
        errors.append(f"{prefix}must be {_short(schema['const'])}, got {_short(value)}")
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        options = ", ".join(_short(option) for option in schema["enum"])
        errors.append(f"{prefix}must be one of {options}; got {_short(value)}")
    if _is_number(value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{prefix}must be >= {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{prefix}must be <= {schema['maximum']}, got {value}")
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{prefix}must be at most {schema['maxLength']} characters, got {len(value)}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{prefix}must be at least {schema['minLength']} characters, got {len(value)}")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            errors.append(f"{prefix}must match {schema['pattern']!r}, got {_short(value)}")
    if isinstance(value, list):
        _validate_array(schema, value, where, errors)
    if isinstance(value, Mapping):
        _validate_object(schema, value, where, errors)


def _validate_array(schema: Mapping[str, Any], value: list[Any], where: str, errors: list[str]) -> None:
    prefix = f"{where}: " if where else ""
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{prefix}must have at most {schema['maxItems']} items, got {len(value)}")
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(f"{prefix}must have at least {schema['minItems']} items, got {len(value)}")
    if "items" in schema:
        for index, item in enumerate(value):
            _validate(schema["items"], item, f"{where}[{index}]", errors)


def _validate_object(
    schema: Mapping[str, Any], value: Mapping[Any, Any], where: str, errors: list[str]
) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            errors.append(f"missing required argument {_join(where, name)!r}")
    for name, item in value.items():
        if name in properties:
            _validate(properties[name], item, _join(where, str(name)), errors)
        elif schema.get("additionalProperties", True) is False:
            allowed = ", ".join(properties) or "none"
            errors.append(f"unexpected argument {_join(where, str(name))!r} (allowed: {allowed})")


def _types_of(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        return list(declared)
    return []


def _is_type(value: Any, type_name: str) -> bool:
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        return _is_integer(value) or (isinstance(value, float) and value.is_integer())
    if type_name == "number":
        return _is_number(value)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "array":
        return isinstance(value, list)
    if type_name == "object":
        return isinstance(value, Mapping)
    return value is None  # "null"


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(value: Any, option: Any) -> bool:
    # JSON semantics: true is not 1, and 1 equals 1.0
    return value == option and isinstance(value, bool) == isinstance(option, bool)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _article(word: str) -> str:
    return "an " if word[:1] in "aeiou" else "a "


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
