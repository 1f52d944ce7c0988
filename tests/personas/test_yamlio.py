"""npc_engine.yamlio: line-aware YAML loading and world-file reading."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from npc_engine.errors import PersonaError, SourceFileError
from npc_engine.yamlio import load_yaml, read_text_file, source_error_from_validation

NESTED = """\
name: forge
items:
  - id: a
    args:
      type: object
  - id: b
settings: {depth: 3}
"""


def test_loads_data_like_safe_load():
    doc = load_yaml(NESTED, path="x.yaml")

    assert doc.data == {
        "name": "forge",
        "items": [{"id": "a", "args": {"type": "object"}}, {"id": "b"}],
        "settings": {"depth": 3},
    }


def test_line_of_a_mapping_entry_is_the_line_of_its_key():
    doc = load_yaml(NESTED, path="x.yaml")

    assert doc.line_of(("name",)) == 1
    assert doc.line_of(("items", 0, "args")) == 4
    assert doc.line_of(("items", 0, "args", "type")) == 5
    assert doc.line_of(("settings", "depth")) == 7


def test_line_of_a_sequence_item_is_its_first_line():
    doc = load_yaml(NESTED, path="x.yaml")

    assert doc.line_of(("items", 1)) == 6


def test_line_of_a_missing_path_falls_back_to_the_nearest_parent():
    doc = load_yaml(NESTED, path="x.yaml")

    assert doc.line_of(("items", 1, "missing", "deeper")) == 6
    assert doc.line_of(("nope",)) == 1


def test_line_offset_is_added_to_every_line():
    doc = load_yaml(NESTED, path="lore.md", line_offset=1)

    assert doc.line_of(("settings", "depth")) == 8


def test_an_empty_document_has_no_data_and_no_lines():
    doc = load_yaml("# only a comment\n", path="x.yaml")

    assert doc.data is None
    assert doc.line_of(("a",)) is None


def test_syntax_error_reports_file_and_line():
    text = "name: ok\nlist: [1, 2\nother: 3\n"

    with pytest.raises(SourceFileError) as err:
        load_yaml(text, path="bad.yaml")

    assert err.value.path == "bad.yaml"
    assert err.value.line == 3
    assert str(err.value).startswith("bad.yaml:3: invalid YAML")


def test_syntax_error_line_includes_the_offset():
    with pytest.raises(SourceFileError) as err:
        load_yaml("a: 1\nb: c: d\n", path="lore.md", line_offset=1)

    assert err.value.line == 3


def test_duplicate_key_is_an_error_naming_the_key_and_both_lines():
    text = "id: brannoc\nname: A\nid: other\n"

    with pytest.raises(SourceFileError) as err:
        load_yaml(text, path="dup.yaml")

    assert err.value.line == 3
    assert "duplicate key 'id'" in err.value.reason
    assert "line 1" in err.value.reason


def test_duplicate_nested_key_is_an_error():
    with pytest.raises(SourceFileError, match="duplicate key 'joy'"):
        load_yaml("emotion:\n  joy: 0.1\n  joy: 0.2\n", path="dup.yaml")


def test_merge_keys_may_be_overridden_without_a_duplicate_error():
    doc = load_yaml("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n", path="m.yaml")

    assert doc.data["derived"] == {"x": 1, "y": 3}


def test_python_tags_are_refused():
    with pytest.raises(SourceFileError, match="could not determine a constructor") as err:
        load_yaml("a: 1\nb: !!python/object/apply:os.system ['echo hi']\n", path="evil.yaml")

    assert err.value.line == 2


def test_several_documents_are_refused():
    with pytest.raises(SourceFileError, match="single document"):
        load_yaml("a: 1\n---\nb: 2\n", path="two.yaml")


def test_control_characters_are_refused_with_their_line():
    with pytest.raises(SourceFileError) as err:
        load_yaml("a: 1\nb: \x07\n", path="ctl.yaml")

    assert err.value.line == 2


def test_alias_bomb_is_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]

    with pytest.raises(SourceFileError, match="aliases expand"):
        load_yaml("\n".join(lines) + "\n", path="bomb.yaml")


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    joy: float
    mood: str = "calm"


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: _Inner


def test_validation_error_becomes_file_line_field_reason():
    text = "name: x\ninner:\n  joy: lots\n"
    doc = load_yaml(text, path="p.yaml")

    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate(doc.data)
    err = source_error_from_validation(caught.value, doc, path="p.yaml")

    assert isinstance(err, SourceFileError)
    assert (err.path, err.line, err.field) == ("p.yaml", 3, "inner.joy")
    assert str(err).startswith("p.yaml:3: inner.joy: Input should be a valid number")


def test_validation_error_uses_the_first_error_and_counts_the_rest():
    doc = load_yaml("inner:\n  joy: lots\n", path="p.yaml")

    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate(doc.data)
    err = source_error_from_validation(caught.value, doc, path="p.yaml", error_cls=PersonaError)

    assert isinstance(err, PersonaError)
    assert (err.field, err.line) == ("name", 1)
    assert "(and 1 more error)" in err.reason


def test_validation_error_reports_a_misspelt_key_before_the_missing_field_it_causes():
    doc = load_yaml("nmae: x\ninner:\n  joy: 1\n", path="p.yaml")

    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate(doc.data)
    err = source_error_from_validation(caught.value, doc, path="p.yaml")

    assert (err.field, err.line) == ("nmae", 1)
    assert err.reason.startswith("Extra inputs are not permitted")


# ---- read_text_file ---------------------------------------------------------------


def test_read_text_file_returns_the_text(tmp_path: Path):
    path = tmp_path / "ok.yaml"
    path.write_text("name: Ré\n", encoding="utf-8")

    assert read_text_file(path, max_bytes=100) == "name: Ré\n"


def test_read_text_file_strips_a_utf8_bom(tmp_path: Path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")

    assert read_text_file(path, max_bytes=100) == "a: 1\n"


def test_read_text_file_missing_file(tmp_path: Path):
    with pytest.raises(SourceFileError, match="file not found"):
        read_text_file(tmp_path / "nope.yaml", max_bytes=100)


def test_read_text_file_empty_file(tmp_path: Path):
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")

    with pytest.raises(SourceFileError, match="file is empty"):
        read_text_file(path, max_bytes=100)


def test_read_text_file_whitespace_only_counts_as_empty(tmp_path: Path):
    path = tmp_path / "blank.yaml"
    path.write_text("  \n\n", encoding="utf-8")

    with pytest.raises(SourceFileError, match="file is empty"):
        read_text_file(path, max_bytes=100)


def test_read_text_file_too_big_names_size_limit_and_env_var(tmp_path: Path):
    path = tmp_path / "big.yaml"
    path.write_text("a" * 2048, encoding="utf-8")

    with pytest.raises(SourceFileError) as err:
        read_text_file(path, max_bytes=1000)

    assert "2,048 bytes" in err.value.reason
    assert "1,000 bytes" in err.value.reason
    assert "NPC_MAX_FILE_BYTES" in err.value.reason


def test_read_text_file_nul_bytes_mean_binary(tmp_path: Path):
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"a: 1\x00\x01\x02")

    with pytest.raises(SourceFileError, match=r"not UTF-8 text \(binary file\?\)"):
        read_text_file(path, max_bytes=100)


def test_read_text_file_invalid_utf8_means_binary(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: 1\nname: caf\xe9\n".encode("latin-1"))

    with pytest.raises(SourceFileError, match="not UTF-8 text") as err:
        read_text_file(path, max_bytes=100)

    assert err.value.line == 2


def test_read_text_file_refuses_a_directory(tmp_path: Path):
    with pytest.raises(SourceFileError, match="not a regular file"):
        read_text_file(tmp_path, max_bytes=100)
