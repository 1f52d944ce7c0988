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


def _wait_healthy(proc: subprocess.Popen[bytes], port: int) -> httpx.Response:
    deadline = time.monotonic() + 90
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server died") from None
            time.sleep(0.2)


def test_serve_with_two_workers_answers_readiness(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "NPC_DATA_DIR": str(tmp_path), "NPC_EMBEDDER": "hash", "NPC_VECTOR_STORE": "memory"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "npc_engine.cli.main", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        ready = _wait_healthy(proc, port)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        unauthenticated = httpx.post(
            f"http://127.0.0.1:{port}/v1/npcs/brannoc/turns",
            json={"player": {"id": "p"}, "text": "hi"},
            timeout=5,
        )
        assert unauthenticated.status_code == 401 and unauthenticated.json()["code"] == "unauthenticated"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()


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
