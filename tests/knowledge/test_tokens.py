"""tiktoken works offline from the bundled, sha256-checked encoding file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from knowledge import tokens


def test_cl100k_loads_offline_into_a_fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    path = tokens.ensure_offline_encoding("cl100k_base")
    assert path.parent == tmp_path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == tokens._EXPECTED["cl100k_base"]
    import tiktoken

    assert tiktoken.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]


def test_a_corrupted_cache_file_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    path = tokens.ensure_offline_encoding("cl100k_base")
    path.write_bytes(b"tampered")
    again = tokens.ensure_offline_encoding("cl100k_base")
    assert hashlib.sha256(again.read_bytes()).hexdigest() == tokens._EXPECTED["cl100k_base"]


def test_an_unknown_encoding_is_a_config_error() -> None:
    from npc_engine.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown encoding"):
        tokens.ensure_offline_encoding("p50k_base")


def test_counting_tokens() -> None:
    assert tokens.count_tokens("hello world") == 2
