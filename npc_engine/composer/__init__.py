"""The grounded composer: deterministic, model-free NPC replies from gated lore and memories.

:func:`compose` turns a :class:`Grounding` into a :class:`ComposedReply`;
:class:`ComposerChatModel` offers the same as the ``composer`` chat backend. See
:mod:`npc_engine.composer.compose` for the design.
"""

from npc_engine.composer.compose import MAX_FACT_CHARS, MAX_REPLY_CHARS, ComposedReply, compose
from npc_engine.composer.grounding import Grounding, LoreNote
from npc_engine.composer.model import ComposerChatModel
from npc_engine.composer.templates import LANGUAGES, REGISTERS, Voice, voice

__all__ = [
    "LANGUAGES",
    "MAX_FACT_CHARS",
    "MAX_REPLY_CHARS",
    "REGISTERS",
    "ComposedReply",
    "ComposerChatModel",
    "Grounding",
    "LoreNote",
    "Voice",
    "compose",
    "voice",
]
