"""The README's Python example runs as written (with fast fakes chosen through the environment)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_the_readme_python_example_runs(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has a Python example"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPC_")}
    env.update(NPC_DATA_DIR=str(tmp_path), NPC_EMBEDDER="hash", NPC_VECTOR_STORE="memory")
    result = subprocess.run(
        [sys.executable, "-c", blocks[0]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "chunks embedded" in result.stdout
    assert "lore:" in result.stdout
    assert "stage=stranger" in result.stdout  # the NPC turn ran


def test_the_readme_sdk_example_runs_against_a_real_server(tmp_path: Path) -> None:
    """The README's SDK example, as written, against ``npc-engine serve`` on a loopback port."""
    import json

    from npc_engine.devservices import free_port, wait_ready

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "npc_engine_sdk" in b)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPC_")}
    env.update(NPC_DATA_DIR=str(tmp_path), NPC_EMBEDDER="hash", NPC_LLM="scripted:Aye, lad.")
    cli = [sys.executable, "-m", "npc_engine.cli.main"]
    subprocess.run(
        [*cli, "ingest", str(REPO / "examples" / "demo_world")], env=env, check=True, capture_output=True
    )
    created = subprocess.run(
        [*cli, "keys", "create", "--tenant", "default", "--role", "game", "--name", "readme", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process=server, timeout_s=90)
        env.update(NPC_API_KEY=json.loads(created.stdout)["secret"], NPC_BASE_URL=f"http://127.0.0.1:{port}")
        result = subprocess.run(
            [sys.executable, "-c", block], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Aye, lad.") and "stranger" in result.stdout
