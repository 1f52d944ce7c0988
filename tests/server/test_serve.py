"""``npc-engine serve`` starts the real server; /healthz answers and the console asks for a login."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_healthz_and_redirects_the_console_to_login(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "NPC_DATA_DIR": str(tmp_path), "NPC_EMBEDDER": "hash", "NPC_VECTOR_STORE": "memory"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "npc_engine.cli.main", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        proc.stderr.read().decode() if proc.stderr else "server died"
                    ) from None
                time.sleep(0.2)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        console = httpx.get(f"http://127.0.0.1:{port}/console/", timeout=5)
        assert console.status_code == 303 and console.headers["location"].endswith("/console/login")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
