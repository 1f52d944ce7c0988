"""The HTTP server: ``create_app(settings_or_engine)`` builds the FastAPI app (see :mod:`.app`)."""

from npc_engine.server.app import create_app

__all__ = ["create_app"]
