"""llama.cpp's OpenAI-compatible server, with the same safe model loading as the in-process backend.

``python -m npc_engine.llm.llama_server --model PATH.gguf [--host H --port P ...]`` takes
the arguments of ``python -m llama_cpp.server`` (extra ``[server]`` of llama-cpp-python).
It differs only in loading the model with weight repacking into extra buffer types off
(see :func:`npc_engine.llm.llamacpp.load_llama`): the plain server crashes on CPUs with
AMX. Use it to serve the bundled GGUF to several engine workers (``NPC_LLM=openai:...``).
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    import llama_cpp.llama as llama_module
    import llama_cpp.server.__main__ as server_main

    from npc_engine.llm.llamacpp import without_extra_buffers

    bindings = llama_module.llama_cpp
    # this process only serves the model: the swap can stay for its lifetime
    bindings.llama_model_default_params = without_extra_buffers(bindings.llama_model_default_params)
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    server_main.main()


if __name__ == "__main__":
    main()
