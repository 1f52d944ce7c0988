"""Line-aware YAML loading and text-file reading for world files.

Every YAML file of a world (personas, ``world.yaml``, FAQ YAML, Markdown front
matter) is read through :func:`load_yaml`, which keeps the line of every node so
that a schema error can be reported as ``file:line: field: reason``::

    doc = load_yaml(text, path=path)
    try:
        model = Model.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise source_error_from_validation(exc, doc, path=path) from None

Only safe YAML is accepted (no Python tags). Duplicate mapping keys, which plain
PyYAML silently resolves to the last value, are an error. Aliases are allowed but
may not expand to more than :data:`MAX_EXPANDED_NODES` nodes ("billion laughs").

:func:`read_text_file` enforces the file rules of the world format: non-empty UTF-8
text, at most ``max_bytes`` (``NPC_MAX_FILE_BYTES``); a UTF-8 BOM is dropped.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import pydantic
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from npc_engine.errors import SourceFileError

__all__ = [
    "MAX_EXPANDED_NODES",
    "YamlDoc",
    "load_yaml",
    "read_text_file",
    "source_error_from_validation",
]

MAX_EXPANDED_NODES = 1_000_000
"""A document whose aliases expand to more nodes than this is rejected."""

_SHOW_INPUT_FOR = frozenset(
    {
        "literal_error", "enum", "string_pattern_mismatch", "union_tag_invalid",
        "less_than_equal", "greater_than_equal", "less_than", "greater_than",
    }
)  # fmt: skip
_Path = tuple[Hashable, ...]


class YamlDoc:
    """Parsed YAML ``data`` plus the 1-based line of each node, by path."""

    __slots__ = ("_lines", "data", "line_offset", "path")

    def __init__(self, data: Any, lines: dict[_Path, int], *, path: str, line_offset: int = 0) -> None:
        self.data = data
        self.path = path
        self.line_offset = line_offset
        self._lines = lines

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of the node at ``loc``, e.g. ``("allowed_actions", 0, "args")``.

        A mapping entry is located at its key. When ``loc`` does not exist (a missing
        field, a pydantic ``[key]`` marker) the nearest existing parent's line is
        returned; ``None`` only for an empty document.
        """
        path = tuple(loc)
        while True:
            line = self._lines.get(path)
            if line is not None:
                return line + self.line_offset
            if not path:
                return None
            path = path[:-1]

    def at(self, prefix: Sequence[str | int]) -> YamlDoc:
        """The sub-document at ``prefix``, its paths relative to it (lines unchanged)."""
        prefix = tuple(prefix)
        size = len(prefix)
        lines = {p[size:]: line for p, line in self._lines.items() if p[:size] == prefix}
        data = self.data
        for part in prefix:
            try:
                data = data[part]
            except (KeyError, IndexError, TypeError):
                data = None
                break
        return YamlDoc(data, lines, path=self.path, line_offset=self.line_offset)

    def __repr__(self) -> str:
        return f"YamlDoc(path={self.path!r}, data={self.data!r:.60})"


class _DuplicateKeyError(Exception):
    def __init__(self, key: object, line: int, first_line: int) -> None:
        super().__init__(key, line, first_line)
        self.key, self.line, self.first_line = key, line, first_line


class _TooLargeError(Exception):
    pass


class _SafeLineLoader(yaml.SafeLoader):
    """SafeLoader that records node lines; never constructs Python objects."""


def _index_nodes(loader: _SafeLineLoader, root: Node) -> dict[_Path, int]:
    """Map each path to its line, checking duplicate keys and the expanded size.

    A node reached a second time (through an alias) is not descended again, so the
    walk is linear in the document; lines under an alias fall back to the alias.
    """
    lines: dict[_Path, int] = {(): root.start_mark.line + 1}
    seen: set[int] = set()
    sizes: dict[int, int] = {}

    def expanded_size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # a recursive alias counts once instead of looping
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(expanded_size(item) for item in node.value)
        elif isinstance(node, MappingNode):
            total += sum(expanded_size(k) + expanded_size(v) for k, v in node.value)
        if total > MAX_EXPANDED_NODES:
            raise _TooLargeError
        sizes[key] = total
        return total

    def walk(node: Node, path: _Path) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                walk(item, (*path, index))
        elif isinstance(node, MappingNode):
            first_seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, Hashable):
                    continue
                if key in first_seen:
                    raise _DuplicateKeyError(key, line, first_seen[key])
                first_seen[key] = line
                lines[(*path, key)] = line
                walk(value_node, (*path, key))

    expanded_size(root)
    walk(root, ())
    return lines


def load_yaml(text: str, *, path: str | Path, line_offset: int = 0) -> YamlDoc:
    """Parse one YAML document safely, keeping node lines.

    ``line_offset`` is added to every line (front matter inside Markdown starts
    below the opening ``---``). Raises :class:`SourceFileError` for syntax errors,
    unsafe tags, several documents, duplicate keys and alias bombs.
    """
    where = str(path)
    loader: _SafeLineLoader | None = None
    try:
        loader = _SafeLineLoader(text)
        root = loader.get_single_node()
        if root is None:
            return YamlDoc(None, {}, path=where, line_offset=line_offset)
        lines = _index_nodes(loader, root)
        data = loader.construct_document(root)
    except _DuplicateKeyError as exc:
        raise SourceFileError(
            f"duplicate key {exc.key!r} (first defined on line {exc.first_line + line_offset})",
            path=where,
            line=exc.line + line_offset,
        ) from None
    except _TooLargeError:
        raise SourceFileError(
            f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes", path=where
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark is not None else None
        raise SourceFileError(f"invalid YAML: {_describe(exc)}", path=where, line=line) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1 + line_offset
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise SourceFileError(f"invalid YAML: {exc.reason} (U+{char:04X})", path=where, line=line) from None
    except yaml.YAMLError as exc:
        raise SourceFileError(f"invalid YAML: {exc}", path=where) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDoc(data, lines, path=where, line_offset=line_offset)


def _describe(exc: yaml.MarkedYAMLError) -> str:
    parts = [part for part in (exc.context, exc.problem) if part]
    text = "; ".join(parts) or "syntax error"
    if exc.note:
        text += f" ({exc.note})"
    return text


def source_error_from_validation(
    exc: pydantic.ValidationError,
    doc: YamlDoc,
    *,
    path: str | Path,
    error_cls: type[SourceFileError] = SourceFileError,
    prefix: Sequence[str | int] = (),
) -> SourceFileError:
    """Turn the first error of ``exc`` into ``error_cls`` with file, line and field.

    ``prefix`` is where the validated value sits in ``doc`` (an entry of a list, say).
    A misspelt key (``extra_forbidden``) is reported before the "missing" error it causes.
    """
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    if not errors:  # pragma: no cover - pydantic always reports at least one
        return error_cls(str(exc), path=path)
    first = errors[0]
    loc = (*prefix, *first["loc"])
    reason = first["msg"]
    if reason.startswith("Value error, "):
        reason = reason[len("Value error, ") :]
    if first["type"] in _SHOW_INPUT_FOR:
        reason += f", got {_short(first.get('input'))}"
    if len(errors) > 1:
        more = len(errors) - 1
        reason += f" (and {more} more error{'s' if more > 1 else ''})"
    field = ".".join(str(part) for part in loc) or None
    return error_cls(reason, path=path, line=doc.line_of(loc), field=field)


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_text_file(path: Path, *, max_bytes: int) -> str:
    """Read a world file as UTF-8 text, or raise a :class:`SourceFileError` saying why not.

    Rejects a missing path, a directory, an empty (or whitespace-only) file, a file
    over ``max_bytes`` and a binary file (NUL bytes or invalid UTF-8). A UTF-8 BOM is
    stripped.
    """
    path = Path(path)
    try:
        if not path.exists():
            raise SourceFileError("file not found", path=path)
        if not path.is_file():
            raise SourceFileError("not a regular file", path=path)
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_big(path, size, max_bytes)
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SourceFileError(f"cannot read file: {exc.strerror or exc}", path=path) from None
    if len(raw) > max_bytes:
        raise _too_big(path, len(raw), max_bytes)
    if b"\x00" in raw:
        raise SourceFileError("not UTF-8 text (binary file?)", path=path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SourceFileError("not UTF-8 text (binary file?)", path=path, line=line) from None
    if not text.strip():
        raise SourceFileError("file is empty", path=path)
    return text


def _too_big(path: Path, size: int, max_bytes: int) -> SourceFileError:
    return SourceFileError(
        f"file is too big: {size:,} bytes, the limit is {max_bytes:,} bytes "
        "(raise it with NPC_MAX_FILE_BYTES)",
        path=path,
    )
