"""``npc-engine chat`` as a real subprocess over an ingested demo world (default backends)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_WORLD


def chat(data_dir: Path, *args: str, stdin: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPC_")}
    env["NPC_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "npc_engine.cli.main", "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("chat-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPC_")}
    env["NPC_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [sys.executable, "-m", "npc_engine.cli.main", "ingest", str(DEMO_WORLD)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return data_dir


@pytest.mark.slow
def test_echo_hello_gets_a_json_reply_from_the_bundled_local_model(ingested: Path) -> None:
    """The README promise: ``echo "Hello" | npc-engine chat brannoc --player p1 --json``."""
    out = chat(ingested, "brannoc", "--player", "p1", "--json", stdin="Hello\n")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    reply = json.loads(lines[0])
    assert reply["ok"] is True and reply["text"].strip()
    assert reply["model"].startswith("llamacpp") or reply["fallback"]
    assert reply["emotion"]["label"] and len(reply["emotion"]["vector"]) == 8
    assert reply["relationship"]["stage"] == "stranger"


def test_json_mode_answers_each_line_and_takes_game_events(ingested: Path) -> None:
    stdin = "Hello smith\n/event gift_received\nWhat is starsteel?\n"
    out = chat(ingested, "brannoc", "--player", "p2", "--llm", "composer", "--json", stdin=stdin)
    assert out.returncode == 0, out.stderr
    replies = [json.loads(line) for line in out.stdout.strip().splitlines()]
    assert [r["ok"] for r in replies] == [True, True, True]
    assert replies[1]["event"] == "gift_received" and replies[1]["applied"] is True
    assert replies[2]["turn"] == 2 and replies[2]["relationship"]["axes"]["trust"] > 0


def test_a_bad_line_is_reported_and_the_session_goes_on(ingested: Path) -> None:
    stdin = "x" * 5000 + "\nHello\n"
    out = chat(ingested, "brannoc", "--player", "p3", "--llm", "composer", "--json", stdin=stdin)
    first, second = (json.loads(line) for line in out.stdout.strip().splitlines())
    assert first["ok"] is False and first["error"]["code"] == "input_too_long"
    assert second["ok"] is True


def test_an_unknown_npc_is_a_clear_error(ingested: Path) -> None:
    out = chat(ingested, "nobody", "--player", "p1", "--llm", "composer", stdin="Hello\n")
    assert out.returncode == 1 and "no persona 'nobody'" in out.stderr and "brannoc" in out.stderr
