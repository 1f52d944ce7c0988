"""The ``npc-engine`` command line."""
