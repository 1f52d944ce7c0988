"""Test-wide rules: no network but loopback, no developer environment, fakes by default."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from npc_engine.devservices import postgres_schema

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
    _plain_tracebacks()


def _plain_tracebacks() -> None:
    """structlog's default console renderer draws a logged exception with rich, every frame's
    locals included: thousands of lines and about 4 s for each 500 a test provokes on purpose.
    The suite keeps the default configuration otherwise, with plain tracebacks."""
    import structlog

    processors = list(structlog.get_config()["processors"])
    if processors and isinstance(processors[-1], structlog.dev.ConsoleRenderer):
        processors[-1] = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
        structlog.configure(processors=processors)


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
def demo_embedder() -> Iterator[object]:
    """The real embedder, remembering its vectors (``tests.vector_backends.CachingEmbedder``):
    the demo world is embedded once per session, however many vector stores it is ingested into."""
    from npc_engine.backends import make_embedder
    from npc_engine.settings import Settings
    from tests.vector_backends import CachingEmbedder

    embedder = make_embedder(Settings(embed_threads=2))
    yield CachingEmbedder(embedder)
    close = getattr(embedder, "close", None)
    if callable(close):
        close()


@pytest.fixture(scope="session", params=["chroma", "chroma-server"])
def demo_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_embedder: object
) -> Iterator[object]:
    """The demo world ingested once per session with the real embedder, into embedded Chroma and
    into the session's Chroma server in turn."""
    import asyncio

    from npc_engine.backends import make_state_store
    from npc_engine.engine import Engine
    from npc_engine.settings import Settings
    from tests.vector_backends import new_vector_store

    root = tmp_path_factory.mktemp("demo-data")
    settings = Settings(data_dir=root, embed_threads=2)
    server = request.getfixturevalue("chroma_server") if request.param == "chroma-server" else None
    engine = Engine(
        settings=settings,
        state=make_state_store(settings),
        embedder=demo_embedder,  # type: ignore[arg-type]
        vectors=new_vector_store(request.param, root / "chroma", server),  # type: ignore[arg-type]
    )
    asyncio.run(engine.ingest(DEMO_WORLD))
    yield engine
    engine.close()  # the shared embedder has no close(): demo_embedder closes it


POSTGRES_ENV = "NPCENGINE_TEST_POSTGRES_URL"


def _postgres_missing(reason: str) -> NoReturn:
    """Skip the PostgreSQL tests here; under CI (``CI=true``) fail them: they must run there."""
    message = (
        f"the PostgreSQL state-store tests cannot run: {reason}. Start PostgreSQL on 127.0.0.1:5432 "
        f"(database `test`, trust auth), or run the tests through scripts/test.sh, which sets {POSTGRES_ENV}"
    )
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the real PostgreSQL that scripts/test.sh points at, checked to answer."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        _postgres_missing(f"{POSTGRES_ENV} is not set")
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    failure = None
    try:
        probe = create_engine(base, connect_args={"connect_timeout": 3}, poolclass=NullPool)
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (ImportError, SQLAlchemyError) as exc:  # no driver, a bad URL, no server
        failure = str(exc).splitlines()[0]
    if failure is not None:
        _postgres_missing(f"{POSTGRES_ENV} does not answer: {failure}")
    return base


@pytest.fixture
def store(state_url_any: str) -> Iterator[object]:
    """A :class:`~npc_engine.state.store.SqlStateStore` on each backend (``state_url_any``), closed after."""
    from npc_engine.state.store import SqlStateStore

    state = SqlStateStore(state_url_any)
    yield state
    state.close()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A private schema in the real PostgreSQL for this session (tests share it: use unique keys)."""
    with postgres_schema(postgres_server, prefix="npc_test") as url:
        yield url


@pytest.fixture
def fresh_postgres_url(postgres_server: str) -> Iterator[str]:
    """An empty schema of this test's own in the real PostgreSQL (about 0.1 s more than ``postgres_url``)."""
    with postgres_schema(postgres_server, prefix="npc_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url_any(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A state-store URL on each backend: this test's own SQLite file, or the session's PostgreSQL schema.

    The PostgreSQL schema is shared by the session's tests: use tenants, players and keys of the
    test's own (``uuid``), or ask for ``empty_state_url_any``.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_state_url_any(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A state-store URL on each backend whose database holds nothing yet (not even the schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
def api_world(tmp_path: Path) -> Iterator[object]:
    """:class:`tests.api_world.ApiWorld`: the demo world in two games, keys of every role."""
    from tests.api_world import ApiWorld

    world = ApiWorld.build(tmp_path)
    yield world
    world.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real ``chroma run`` server on a free loopback port (:class:`npc_engine.devservices.ChromaServer`),
    shared by the session's tests and stopped at its end. chromadb is always installed, so a server
    that does not start is an error, here as under CI. Tests that stop or restart a server start
    their own; stores on this one use collections of their own (``tests.vector_backends``)."""
    from npc_engine.devservices import chroma_server as running

    with running(tmp_path_factory.mktemp("chroma-server")) as server:
        yield server


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server with the bundled GGUF on a free loopback port, shared
    by the session's tests: its base URL (``http://127.0.0.1:PORT/v1``), model ``smollm2``."""
    pytest.importorskip("llama_cpp.server", reason="the llama-cpp-python[server] extra is not installed")
    from npc_engine.devservices import llama_server as running

    with running(tmp_path_factory.mktemp("llama-server")) as base:
        yield base


@pytest.fixture(params=["memory", "chroma", "chroma-server"])
def make_vector_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """``make_vector_store()``: a fresh, empty vector store on each backend in turn (in memory,
    embedded Chroma under ``tmp_path``, the session's Chroma server); closed after the test."""
    from tests.vector_backends import VectorStores

    server = request.getfixturevalue("chroma_server") if request.param == "chroma-server" else None
    stores = VectorStores(request.param, tmp_path, server)
    yield stores
    stores.close()
