"""Fixtures for the affect tests: the real demo personas and the demo world's stages."""

from __future__ import annotations

from pathlib import Path

import pytest

from personas.loader import load_persona, load_world_file
from personas.schema import NpcPersona

DEMO_WORLD = Path(__file__).resolve().parents[2] / "examples" / "demo_world"


def _npc(name: str) -> NpcPersona:
    persona = load_persona(DEMO_WORLD / "personas" / f"{name}.yaml")
    assert isinstance(persona, NpcPersona)
    return persona


@pytest.fixture(scope="session")
def brannoc() -> NpcPersona:
    return _npc("brannoc")


@pytest.fixture(scope="session")
def stages() -> tuple[str, ...]:
    return tuple(load_world_file(DEMO_WORLD).relationship_stages)
