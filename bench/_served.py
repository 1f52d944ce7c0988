"""What the served benchmarks (``http.py``, ``load.py``) share: the demo world ingested and a game key,
through the CLI, as an operator would set a deployment up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

__all__ = ["CLI", "WORLD", "ingest_with_key"]

CLI = [sys.executable, "-m", "npc_engine.cli.main"]
WORLD = Path(__file__).resolve().parents[1] / "examples" / "demo_world"


def ingest_with_key(env: dict[str, str], *, key_name: str) -> str:
    """Ingest the demo world (``npc-engine ingest``) under ``env``, make a ``game`` key of tenant
    ``default`` (``npc-engine keys create``) and return its secret."""
    subprocess.run([*CLI, "ingest", str(WORLD)], env=env, check=True, stdout=subprocess.DEVNULL)
    created = subprocess.run(
        [*CLI, "keys", "create", "--tenant", "default", "--role", "game", "--name", key_name, "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    secret: str = json.loads(created.stdout)["secret"]
    return secret
