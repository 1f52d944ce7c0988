"""Action arguments are checked against the action's JSON Schema subset."""

from __future__ import annotations

import pytest

from personas import ActionSpec, check_args_schema, validate_action_args

GIVE_ITEM = ActionSpec(
    name="give_item",
    description="Hand over an item.",
    args={
        "type": "object",
        "properties": {
            "item_id": {"type": "string", "enum": ["lantern", "rope"]},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 3},
            "note": {"type": "string", "maxLength": 10},
        },
        "required": ["item_id"],
        "additionalProperties": False,
    },
)


def test_good_args_have_no_problems():
    assert validate_action_args(GIVE_ITEM, {"item_id": "rope", "quantity": 2, "note": "for you"}) == []


def test_optional_args_may_be_left_out():
    assert GIVE_ITEM.validate_args({"item_id": "lantern"}) == []


def test_a_missing_required_arg_is_reported():
    assert validate_action_args(GIVE_ITEM, {"quantity": 1}) == ["missing required argument 'item_id'"]


def test_a_value_outside_the_enum_is_reported_with_the_options():
    problems = validate_action_args(GIVE_ITEM, {"item_id": "sword"})

    assert problems == ["item_id: must be one of 'lantern', 'rope'; got 'sword'"]


def test_an_extra_arg_is_reported_when_additional_properties_is_false():
    problems = validate_action_args(GIVE_ITEM, {"item_id": "rope", "price": 5})

    assert problems == ["unexpected argument 'price' (allowed: item_id, quantity, note)"]


def test_extra_args_are_allowed_when_additional_properties_is_not_false():
    spec = {"type": "object", "properties": {"a": {"type": "string"}}}

    assert validate_action_args(spec, {"a": "x", "b": 1}) == []


def test_a_wrong_type_is_reported():
    assert validate_action_args(GIVE_ITEM, {"item_id": "rope", "quantity": "two"}) == [
        "quantity: must be an integer, got 'two'"
    ]


def test_a_boolean_is_not_an_integer():
    assert validate_action_args(GIVE_ITEM, {"item_id": "rope", "quantity": True}) != []


def test_a_whole_float_counts_as_an_integer():
    assert validate_action_args(GIVE_ITEM, {"item_id": "rope", "quantity": 2.0}) == []


def test_minimum_and_maximum_are_enforced():
    assert validate_action_args(GIVE_ITEM, {"item_id": "rope", "quantity": 0}) == [
        "quantity: must be >= 1, got 0"
    ]
    assert validate_action_args(GIVE_ITEM, {"item_id": "rope", "quantity": 9}) == [
        "quantity: must be <= 3, got 9"
    ]


def test_max_length_is_enforced():
    problems = validate_action_args(GIVE_ITEM, {"item_id": "rope", "note": "a very long note"})

    assert problems == ["note: must be at most 10 characters, got 16"]


def test_args_that_are_not_an_object_are_reported():
    assert validate_action_args(GIVE_ITEM, ["rope"]) == ["arguments must be an object, got ['rope']"]


def test_nested_arrays_and_objects_are_checked_with_their_paths():
    spec = {
        "type": "object",
        "properties": {
            "route": {
                "type": "array",
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {"x": {"type": "number"}, "ok": {"type": "boolean"}},
                    "required": ["x"],
                },
            }
        },
    }

    problems = validate_action_args(spec, {"route": [{"x": 1.5, "ok": True}, {"x": "far"}, {}]})

    assert problems == ["route[1].x: must be a number, got 'far'", "missing required argument 'route[2].x'"]


def test_pattern_is_searched_in_strings():
    spec = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}}

    assert validate_action_args(spec, {"code": "ABC"}) == []
    assert validate_action_args(spec, {"code": "abc"}) == ["code: must match '^[A-Z]{3}$', got 'abc'"]


def test_every_problem_is_listed():
    problems = validate_action_args(GIVE_ITEM, {"quantity": 7, "colour": "red"})

    assert len(problems) == 3


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array"}, "type: object"),
        ({"type": "object"}, "properties"),
        ({"type": "object", "properties": {"a": {"type": "str"}}}, "type must be one of"),
        ({"type": "object", "properties": {"a": {"type": "string", "format": "email"}}}, "unsupported"),
        ({"type": "object", "properties": {}, "required": ["a"]}, "unknown properties: a"),
        ({"type": "object", "properties": {"a": {"enum": []}}}, "non-empty list"),
        ({"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}}, "regular expression"),
    ],
)
def test_unsupported_or_broken_schemas_are_refused(schema, message):
    with pytest.raises(ValueError, match=message):
        check_args_schema(schema)
