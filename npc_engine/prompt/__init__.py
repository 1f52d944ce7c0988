"""Prompt building under a token budget, prefix-cache friendly."""

from npc_engine.prompt.builder import (
    PromptContext,
    PromptPlan,
    build_prompt,
    shared_prefix_ratio,
    static_parts_for,
)

__all__ = ["PromptContext", "PromptPlan", "build_prompt", "shared_prefix_ratio", "static_parts_for"]
