"""Write a persona back out as a persona file."""

from __future__ import annotations

import yaml

from personas.schema import DEFAULT_THRESHOLDS, NpcPersona, SupportPersona

__all__ = ["persona_to_yaml"]


def persona_to_yaml(persona: NpcPersona | SupportPersona, *, header: str | None = None) -> str:
    """A persona file for ``persona``: defaults left out, multi-line text as ``|`` blocks.

    ``load_persona`` of the result gives back an equal persona. ``header`` becomes
    ``#`` comment lines at the top.
    """
    data = persona.model_dump(mode="json", exclude_defaults=True)
    if isinstance(persona, NpcPersona):
        data.pop("relationship_thresholds", None)
        changed = {s: m for s, m in persona.relationship_thresholds.items() if DEFAULT_THRESHOLDS.get(s) != m}
        if changed:
            data["relationship_thresholds"] = changed
    text = yaml.dump(
        data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    if header:
        text = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) + text
    return text


class _BlockDumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)
