"""Support tests share the NPC-turn fixtures: the demo world ingested once with the fast fakes."""

from tests.turn.conftest import clock, make_engine, player, postgres_url, turn_backends  # noqa: F401
