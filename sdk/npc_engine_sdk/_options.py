"""A client's settings: each is the argument, else the environment, else the default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from ._exceptions import NpcEngineError
from ._version import __version__

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ClientOptions",
    "resolve_api_key",
    "resolve_base_url",
]

API_KEY_ENV = "NPC_API_KEY"
BASE_URL_ENV = "NPC_BASE_URL"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
USER_AGENT = f"npc-engine-sdk/{__version__}"


def resolve_api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if not key:
        raise NpcEngineError(
            f"no API key: pass api_key=... or set {API_KEY_ENV} "
            "(create one with: npc-engine keys create --tenant T --role game)"
        )
    return key


def resolve_base_url(base_url: str | httpx.URL | None) -> str:
    url = str(base_url) if base_url is not None else os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class ClientOptions:
    api_key: str | None
    base_url: str
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    default_headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {self.max_retries}")

    def headers(self) -> dict[str, str]:
        out = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.api_key:
            out["Authorization"] = f"Bearer {self.api_key}"
        out.update(self.default_headers)
        return out
