"""The reply format: schema, tolerant parsing, streaming text extraction, guarded release."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from npc_engine.turn.reply_format import TextStreamExtractor, parse_reply, reply_schema
from npc_engine.turn.stream import GuardedRelease
from personas.loader import load_persona
from personas.schema import ActionSpec, NpcPersona
from tests.conftest import DEMO_WORLD

NPC_FILES = sorted(
    path.name
    for path in (DEMO_WORLD / "personas").glob("*.yaml")
    if yaml.safe_load(path.read_text(encoding="utf-8")).get("kind") == "npc"
)


def _npc(file: str) -> NpcPersona:
    persona = load_persona(DEMO_WORLD / "personas" / file)
    assert isinstance(persona, NpcPersona)
    return persona


def _reply(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"text": "Aye.", "emotion": "neutral", "actions": list(actions)}


def _valid_args(action: ActionSpec) -> dict[str, Any]:
    """Arguments that satisfy the demo actions' schemas: the first enum value, the minimum, "x"."""
    args: dict[str, Any] = {}
    for name, sub in action.args["properties"].items():
        if "enum" in sub:
            args[name] = sub["enum"][0]
        elif sub.get("type") in ("integer", "number"):
            args[name] = sub.get("minimum", 1)
        elif sub.get("type") == "boolean":
            args[name] = True
        else:
            args[name] = "x"
    assert action.validate_args(args) == [], (action.name, args)
    return args


def test_the_schema_limits_actions_to_the_allow_list() -> None:
    schema = reply_schema(_npc("brannoc.yaml"))
    options = schema["properties"]["actions"]["items"]["anyOf"]
    assert [option["properties"]["name"] for option in options] == [
        {"const": "give_item"},
        {"const": "repair_gear"},
        {"const": "offer_quest"},
    ]
    assert list(schema["properties"]) == ["text", "emotion", "actions"]  # text first: streams early


def test_each_action_carries_its_own_argument_schema() -> None:
    persona = _npc("brannoc.yaml")
    options = reply_schema(persona)["properties"]["actions"]["items"]["anyOf"]
    for option, action in zip(options, persona.allowed_actions, strict=True):
        assert option["type"] == "object" and option["required"] == ["name", "args"]
        assert option["additionalProperties"] is False
        assert option["properties"]["args"]["properties"].keys() == action.args["properties"].keys()
        assert option["properties"]["args"].get("required") == action.args.get("required")


def test_an_npc_without_actions_may_send_none() -> None:
    persona = _npc("brannoc.yaml").model_copy(update={"allowed_actions": []})
    actions = reply_schema(persona)["properties"]["actions"]
    assert actions["type"] == "array" and actions["maxItems"] == 0


def test_annotations_and_patterns_a_grammar_cannot_take_are_left_out() -> None:
    action = ActionSpec(
        name="carve",
        args={
            "type": "object",
            "properties": {
                "rune": {"type": "string", "pattern": "^[a-z]+$", "description": "which rune"},
                "word": {"type": "string", "pattern": "[a-z]"},  # unanchored: checked after decoding
            },
        },
    )
    persona = _npc("brannoc.yaml").model_copy(update={"allowed_actions": [action]})
    args = reply_schema(persona)["properties"]["actions"]["items"]["anyOf"][0]["properties"]["args"]
    assert args["properties"] == {
        "rune": {"type": "string", "pattern": "^[a-z]+$"},
        "word": {"type": "string"},
    }


@pytest.mark.parametrize("file", NPC_FILES)
def test_a_valid_reply_for_each_action_matches_the_schema(file: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    persona = _npc(file)
    schema = reply_schema(persona)
    for action in persona.allowed_actions:
        jsonschema.validate(_reply({"name": action.name, "args": _valid_args(action)}), schema)
    jsonschema.validate(_reply(), schema)


@pytest.mark.parametrize("file", NPC_FILES)
def test_an_action_with_another_actions_arguments_does_not_match(file: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    persona = _npc(file)
    schema = reply_schema(persona)
    first, second = persona.allowed_actions[:2]
    wrong = [
        {"name": first.name, "args": _valid_args(second)},  # another action's arguments
        {"name": first.name, "args": {}},  # required arguments missing
        {"name": "open_vault", "args": {}},  # not on the allow-list
        {"name": first.name},  # no args at all
    ]
    for action in wrong:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(_reply(action), schema)


@pytest.mark.parametrize("file", NPC_FILES)
def test_llama_cpp_compiles_the_schema_to_a_grammar(file: str) -> None:
    pytest.importorskip("llama_cpp")
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    schema = reply_schema(_npc(file))
    LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    # llama-cpp-python falls back to free JSON when a schema does not convert; this one converts
    assert "actions-item-0" in json_schema_to_gbnf(json.dumps(schema))


@pytest.mark.slow
def test_llama_cpps_own_grammar_parser_accepts_every_npcs_reply_grammar() -> None:
    """``LlamaGrammar`` only keeps the text; the C parser runs when a sampler is made from it."""
    llama_cpp = pytest.importorskip("llama_cpp")
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from npc_engine.errors import ConfigError
    from npc_engine.llm.llamacpp import bundled_gguf

    try:
        gguf = bundled_gguf()
    except ConfigError as exc:
        pytest.skip(str(exc))
    llm = llama_cpp.Llama(model_path=str(gguf), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    for file in NPC_FILES:
        grammar = json_schema_to_gbnf(json.dumps(reply_schema(_npc(file))))
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
        assert sampler, file
        llama_cpp.llama_sampler_free(sampler)
    llm.close()


def test_llama_cpp_allows_only_an_empty_list_when_there_are_no_actions() -> None:
    pytest.importorskip("llama_cpp")
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    schema = reply_schema(_npc("brannoc.yaml").model_copy(update={"allowed_actions": []}))
    LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    rule = next(
        line for line in json_schema_to_gbnf(json.dumps(schema)).splitlines() if line.startswith("actions ")
    )
    assert rule.split("::=")[1].split() == ['"["', "space", '"]"', "space"]


def test_a_json_reply_is_read_with_its_emotion_and_actions() -> None:
    parsed = parse_reply('```json\n{"text": "Aye.", "emotion": "Joy", "actions": [{"name": "x"}]}\n```')
    assert (parsed.text, parsed.emotion, parsed.actions, parsed.problem) == (
        "Aye.",
        "joy",
        [{"name": "x"}],
        None,
    )


def test_prose_from_a_backend_without_json_is_taken_as_the_text() -> None:
    assert parse_reply("Aye, lad.").text == "Aye, lad."


@pytest.mark.parametrize("raw", ['{"text": "unterminated', "{{{ not json", '{"emotion": "joy"}', "   "])
def test_broken_or_empty_output_is_a_problem(raw: str) -> None:
    assert parse_reply(raw).problem in ("garbage_json", "empty")


def test_json_cut_off_by_max_tokens_keeps_the_complete_sentences() -> None:
    assert parse_reply('{"text": "Aye. The forge is hot. And the ir').text == "Aye. The forge is hot."
    assert parse_reply('{"text": "Aye, lad.", "emo').text == "Aye, lad."


def test_streamed_json_yields_only_the_decoded_text() -> None:
    raw = json.dumps(
        {"text": 'He said "hi"\nthen \u00e9\u4f60 \U0001f525 left', "emotion": "joy"}, ensure_ascii=True
    )
    extractor = TextStreamExtractor()
    out = "".join(extractor.feed(raw[i : i + 3]) for i in range(0, len(raw), 3))
    assert out == 'He said "hi"\nthen é你 🔥 left'


@given(st.text(max_size=80), st.integers(min_value=1, max_value=7), st.booleans())
def test_any_text_survives_any_chunking(text: str, size: int, ascii_only: bool) -> None:
    raw = json.dumps({"text": text, "emotion": "joy", "actions": []}, ensure_ascii=ascii_only)
    extractor = TextStreamExtractor()
    assert "".join(extractor.feed(raw[i : i + size]) for i in range(0, len(raw), size)) == text


def test_a_prose_stream_passes_through() -> None:
    extractor = TextStreamExtractor()
    assert extractor.feed("Aye, ") + extractor.feed("lad.") == "Aye, lad."


def test_guarded_release_holds_text_until_a_sentence_ends() -> None:
    release = GuardedRelease(lambda text: True)
    assert release.push("The forge is ") == ""
    assert release.push("hot. And") == "The forge is hot."
    assert release.finish() == " And"


def test_guarded_release_stops_at_the_first_failing_sentence() -> None:
    release = GuardedRelease(lambda text: "SECRET" not in text)
    assert release.push("Welcome. ") == "Welcome."
    assert release.push("The word is SECRET. More.") == ""
    assert release.failed and release.finish() == "" and release.released == "Welcome."
