"""``npc-engine serve`` starts the real server: health, readiness, the console's login, workers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from npc_engine.devservices import free_port, wait_ready


@contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[str]:
    """``npc-engine serve ARGS`` on a free loopback port (fast fakes), ready; yields its base URL."""
    port = free_port()
    env = {**os.environ, "NPC_DATA_DIR": str(tmp_path), "NPC_EMBEDDER": "hash", "NPC_VECTOR_STORE": "memory"}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "npc_engine.cli.main", "serve", "--port", str(port), *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, process=proc, timeout_s=90)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"{exc}\n{(tmp_path / 'serve.log').read_text()}") from None
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_serve_answers_healthz_and_redirects_the_console_to_login(tmp_path: Path) -> None:
    with serving(tmp_path, "--log-level", "warning") as base:
        health = httpx.get(f"{base}/healthz", timeout=5)
        console = httpx.get(f"{base}/console/", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert console.status_code == 303 and console.headers["location"].endswith("/console/login")


def test_serve_with_two_workers_answers_readiness(tmp_path: Path) -> None:
    with serving(tmp_path, "--workers", "2") as base:
        ready = httpx.get(f"{base}/readyz", timeout=5)
        unauthenticated = httpx.post(
            f"{base}/v1/npcs/brannoc/turns", json={"player": {"id": "p"}, "text": "hi"}, timeout=5
        )
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert unauthenticated.status_code == 401 and unauthenticated.json()["code"] == "unauthenticated"


def test_several_workers_on_embedded_chroma_are_refused_with_the_fix(tmp_path: Path) -> None:
    env = {**os.environ, "NPC_DATA_DIR": str(tmp_path), "NPC_EMBEDDER": "hash", "NPC_VECTOR_STORE": "chroma"}
    done = subprocess.run(
        [sys.executable, "-m", "npc_engine.cli.main", "serve", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "NPC_VECTOR_STORE=chroma+http" in done.stderr
