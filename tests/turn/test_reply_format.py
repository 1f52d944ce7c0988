"""The reply format: schema, tolerant parsing, streaming text extraction, guarded release."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npc_engine.turn.reply_format import TextStreamExtractor, parse_reply, reply_schema
from npc_engine.turn.stream import GuardedRelease
from personas.loader import load_persona
from tests.conftest import DEMO_WORLD


def test_the_schema_limits_actions_to_the_allow_list() -> None:
    persona = load_persona(DEMO_WORLD / "personas" / "brannoc.yaml")
    schema = reply_schema(persona)
    names = schema["properties"]["actions"]["items"]["properties"]["name"]["enum"]
    assert names == ["give_item", "repair_gear", "offer_quest"]
    assert list(schema["properties"]) == ["text", "emotion", "actions"]  # text first: streams early


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
