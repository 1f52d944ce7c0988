"""Test-wide rules: no network but loopback, no developer environment, fakes by default."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_WORLD = REPO / "examples" / "demo_world"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class OutboundConnectionRefused(OSError):
    pass


def _check(sock: socket.socket, address: object) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    try:
        if ipaddress.ip_address(str(host).split("%")[0]).is_loopback:
            return
    except ValueError:
        if host == "localhost":
            return
    raise OutboundConnectionRefused(f"test tried to connect to {address!r}: only loopback is allowed")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check(self, address)
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    # The whole suite runs with outbound connections refused: anything that tries to
    # download a model or phone home fails loudly instead of passing by luck.
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    for name in list(os.environ):
        if name.startswith("NPC_"):
            del os.environ[name]
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ["LANGSMITH_TRACING"] = "false"


@pytest.fixture
def demo_world() -> Path:
    return DEMO_WORLD


@pytest.fixture
def world_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the demo world."""
    import shutil

    target = tmp_path / "world"
    shutil.copytree(DEMO_WORLD, target)
    yield target


@pytest.fixture(scope="session")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The demo world ingested once per session with the real embedder and embedded Chroma."""
    import asyncio

    from npc_engine.engine import Engine
    from npc_engine.settings import Settings

    engine = Engine.from_settings(Settings(data_dir=tmp_path_factory.mktemp("demo-data"), embed_threads=2))
    asyncio.run(engine.ingest(DEMO_WORLD))
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private schema in the real PostgreSQL that scripts/test.sh points at; dropped afterwards."""
    base = os.environ.get("NPCENGINE_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("NPCENGINE_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)")
    from sqlalchemy import create_engine, text

    schema = f"npc_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def api_world(tmp_path: Path) -> Iterator[object]:
    """:class:`tests.api_world.ApiWorld`: the demo world in two games, keys of every role."""
    from tests.api_world import ApiWorld

    world = ApiWorld.build(tmp_path)
    yield world
    world.close()
