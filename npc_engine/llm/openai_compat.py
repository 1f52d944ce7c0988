"""Any OpenAI-compatible chat server (vLLM, llama.cpp server, Ollama, hosted APIs), over httpx.

Id: ``openai:<base_url>#<model>[,schema=json_object]``, e.g.
``openai:http://127.0.0.1:8000/v1#qwen2.5-7b``. The API key comes from
``OPENAI_API_KEY`` (or the ``api_key`` argument) and is never logged.

JSON-schema constrained replies: ``schema=json_schema`` (default) sends OpenAI's
``response_format={"type": "json_schema", ...}`` (OpenAI, vLLM); ``schema=json_object``
sends ``{"type": "json_object", "schema": ...}`` (llama-cpp-python's server, Anyscale).
``max_tokens`` is sent as such (llama.cpp's server ignores ``max_completion_tokens``).

Failures: a timeout raises ``ChatModelTimeout``; connection errors and 5xx are retried
once, then raise ``ChatModelError`` with the status; 4xx (429 included) and a malformed
answer (not JSON, no ``choices``, parts of the wrong type) raise ``ChatModelError`` at once.
``timeout_s`` bounds a whole :meth:`~OpenAIChatModel.generate` call, retries included (an
answer that keeps arriving, slowly, times out too); in :meth:`~OpenAIChatModel.stream` it
bounds each wait for the next bytes, and a stream is not retried (the caller bounds the whole
and retries: the NPC turn does both).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx

from npc_engine.errors import ChatModelError, ChatModelTimeout, ConfigError
from npc_engine.llm.base import ChatRequest, ChatResult

__all__ = ["OpenAIChatModel", "parse_openai_spec"]

SchemaMode = Literal["json_schema", "json_object"]


def parse_openai_spec(arg: str) -> tuple[str, str, SchemaMode]:
    """``<base_url>#<model>[,schema=MODE]`` -> (base_url, model, mode)."""
    base_url, _, fragment = arg.partition("#")
    model, *options = fragment.split(",")
    if not base_url.startswith(("http://", "https://")) or not model:
        raise ConfigError(
            f"openai backend: write openai:<base_url>#<model>, e.g. openai:http://127.0.0.1:8000/v1#qwen; got {arg!r}"
        )
    mode: str = "json_schema"
    for option in options:
        key, _, value = option.partition("=")
        if key != "schema" or value not in ("json_schema", "json_object"):
            raise ConfigError(
                f"openai backend: unknown option {option!r}; use schema=json_schema or schema=json_object"
            )
        mode = value
    return base_url.rstrip("/"), model, mode  # type: ignore[return-value]


class OpenAIChatModel:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        schema_mode: SchemaMode = "json_schema",
        timeout_s: float = 30.0,
        retries: int = 1,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.schema_mode = schema_mode
        self.timeout_s = timeout_s
        self.retries = retries
        self.id = f"openai:{model}"
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = http_client or httpx.AsyncClient(headers=headers)

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": stream,
        }
        if request.stop:
            body["stop"] = list(request.stop)
        if request.json_schema is not None:
            if self.schema_mode == "json_object":
                body["response_format"] = {"type": "json_object", "schema": request.json_schema}
            else:
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "reply", "schema": request.json_schema},
                }
        return body

    def _timeout(self, request: ChatRequest) -> float:
        return request.timeout_s if request.timeout_s is not None else self.timeout_s

    async def generate(self, request: ChatRequest) -> ChatResult:
        url = f"{self.base_url}/chat/completions"
        limit = self._timeout(request)
        last: Exception | None = None
        try:
            async with asyncio.timeout(limit):  # httpx's timeout is per read: a trickle never trips it
                for _attempt in range(self.retries + 1):
                    try:
                        response = await self._client.post(
                            url, json=self._body(request, stream=False), timeout=limit
                        )
                    except httpx.TimeoutException:
                        raise TimeoutError from None
                    except httpx.TransportError as exc:
                        last = exc
                        continue
                    if response.status_code >= 500:
                        last = ChatModelError(f"{self.id}: server error {response.status_code}")
                        continue
                    if response.status_code >= 400:
                        raise ChatModelError(f"{self.id}: HTTP {response.status_code}: {response.text[:200]}")
                    return self._result(response)
        except TimeoutError:
            raise ChatModelTimeout(f"{self.id} did not answer within {limit}s") from None
        raise ChatModelError(f"{self.id}: failed after {self.retries + 1} attempts: {last}")

    def _result(self, response: httpx.Response) -> ChatResult:
        try:
            result = ChatResult.from_openai(response.json(), model=self.id)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ChatModelError(f"{self.id}: malformed response: {exc!r}") from None
        if not isinstance(result.text, str):
            raise ChatModelError(f"{self.id}: malformed response: the message content is not text")
        return result

    def _delta(self, payload: str) -> str:
        """The text of one stream event (``""`` when it has none)."""
        try:
            delta = json.loads(payload)["choices"][0].get("delta", {})
            content = delta.get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ChatModelError(f"{self.id}: malformed stream event: {exc!r}") from None
        if content is not None and not isinstance(content, str):
            raise ChatModelError(f"{self.id}: malformed stream event: the delta content is not text")
        return content or ""

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        url = f"{self.base_url}/chat/completions"
        try:
            async with self._client.stream(
                "POST", url, json=self._body(request, stream=True), timeout=self._timeout(request)
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise ChatModelError(f"{self.id}: HTTP {response.status_code}: {response.text[:200]}")
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    delta = self._delta(payload)
                    if delta:
                        yield delta
        except httpx.TimeoutException:
            raise ChatModelTimeout(f"{self.id} stream stalled beyond {self._timeout(request)}s") from None
        except httpx.TransportError as exc:
            raise ChatModelError(f"{self.id}: connection failed: {exc}") from None

    async def heartbeat(self) -> None:
        """Raise ``ChatModelError`` unless the server answers ``GET /models`` and lists the model.

        For ``/readyz``. A server that lists no model, or that answers with something other than
        OpenAI's list, is taken at its word; ``name`` matches a listed ``name:tag`` (Ollama).
        """
        try:
            response = await self._client.get(f"{self.base_url}/models", timeout=self.timeout_s)
        except httpx.TransportError as exc:
            raise ChatModelError(f"{self.id}: connection failed: {type(exc).__name__} {exc}") from None
        if response.status_code >= 400:
            raise ChatModelError(f"{self.id}: GET /models answered HTTP {response.status_code}")
        try:
            ids = [str(m["id"]) for m in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            return
        if ids and self.model not in ids and self.model not in {i.split(":", 1)[0] for i in ids}:
            listed = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            raise ChatModelError(
                f"{self.id}: the server does not serve model {self.model!r} (it lists: {listed})"
            )

    async def aclose(self) -> None:
        await self._client.aclose()
