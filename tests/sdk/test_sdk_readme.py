"""Every Python example in ``sdk/README.md`` runs as written, against the real app on loopback.

The app serves an engine over the fast fakes (tenant ``readme``, the demo world uploaded
through the SDK); the examples find it through ``NPC_BASE_URL`` and their keys through
``NPC_API_KEY`` (game), ``NPC_STAFF_API_KEY`` and ``NPC_ADMIN_API_KEY``. The in-process
example builds its own engine from ``NPC_*`` settings chosen for speed.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from npc_engine_sdk import NpcClient

from npc_engine.auth import create_key
from npc_engine.engine import Engine
from npc_engine.server.app import create_app
from tests.conftest import REPO
from tests.turn.conftest import DEMO_WORLD

README = REPO / "sdk" / "README.md"
TENANT = "readme"


def _blocks() -> list[tuple[str, str]]:
    """``(heading, code)`` of each Python block, named by the section it is in."""
    text = README.read_text(encoding="utf-8")
    found, heading = [], "top"
    for line_no, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            heading = line.lstrip("#").strip().lower().replace(" ", "-")
        elif line == "```python":
            found.append((f"{heading}@{line_no}", text.split("\n", line_no)[-1].split("```", 1)[0]))
    return found


BLOCKS = _blocks()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The app on a free loopback port; yields the examples' environment."""
    from knowledge.embedders.hashing import HashEmbedder
    from knowledge.stores.memory import MemoryVectorStore
    from npc_engine.llm.scripted import ScriptedChatModel
    from npc_engine.settings import Settings
    from npc_engine.state.store import SqlStateStore

    root = tmp_path_factory.mktemp("readme")
    engine = Engine(
        settings=Settings(_env_file=None, embedder="hash", vector_store="memory", data_dir=root),  # type: ignore[call-arg]
        state=SqlStateStore(f"sqlite:///{root / 'state.db'}"),
        embedder=HashEmbedder(),
        vectors=MemoryVectorStore(),
        chat_model=ScriptedChatModel(
            ['{"text": "Aye, the forge is hot today.", "emotion": "joy", "actions": []}']
        ),
    )

    async def keys() -> dict[str, str]:
        await engine.state.ensure_tenant(TENANT)
        out = {}
        for role in ("game", "staff", "admin"):
            out[role] = (await create_key(engine.state, tenant=TENANT, role=role, name=f"readme {role}"))[1]
        return out

    secrets = asyncio.run(keys())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(engine)
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, name="readme-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    base_url = f"http://127.0.0.1:{port}"
    with NpcClient(api_key=secrets["admin"], base_url=base_url) as admin:
        admin.world.ingest(DEMO_WORLD)
    yield {
        "NPC_API_KEY": secrets["game"],
        "NPC_STAFF_API_KEY": secrets["staff"],
        "NPC_ADMIN_API_KEY": secrets["admin"],
        "NPC_BASE_URL": base_url,
        # for the in-process example's own engine
        "NPC_DATA_DIR": str(root / "in-process"),
        "NPC_EMBEDDER": "hash",
        "NPC_VECTOR_STORE": "memory",
        "NPC_LLM": "scripted",
    }
    uv.should_exit = True
    thread.join(timeout=10)
    engine.close()


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_the_readme_example_runs(
    where: str,
    code: str,
    server: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in server.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(REPO)  # the examples name examples/demo_world relative to the checkout
    exec(compile(code, f"sdk/README.md:{where}", "exec"), {"__name__": "__main__"})
    assert re.sub(r"\s", "", capsys.readouterr().err) == ""
