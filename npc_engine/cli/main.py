"""``npc-engine``: validate, ingest and search a world; chat with an NPC; print the persona schema; import cards;
manage tenants and API keys (:mod:`npc_engine.cli.admin`).

Every error exits non-zero with one line on stderr (``error: file:line: field: reason``);
with ``--json`` the error is a JSON object on stdout instead, so scripts can parse it.
Exit codes: 0 ok, 1 invalid input or files, 2 wrong usage, 3 a backend failed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer

from npc_engine.errors import BackendError, NpcEngineError

T = TypeVar("T")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="npc-engine: retrieval-augmented dialogue for game NPCs and support agents.",
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where state and vectors live (env NPC_DATA_DIR, default ./.npc-engine)."
    ),
]
Tenant = Annotated[
    str | None, typer.Option("--tenant", help="Tenant (one game); env NPC_TENANT, default 'default'.")
]
JsonOut = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _settings(data_dir: Path | None, tenant: str | None, **extra: Any) -> Any:
    from npc_engine.settings import Settings

    overrides: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if tenant is not None:
        overrides["tenant"] = tenant
    return Settings(**overrides)


def _emit(payload: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=None) + "\n")
    else:
        human()


def _guard(as_json: bool, fn: Callable[[], T]) -> T:
    """Run a command body; turn engine errors into one line (or JSON) and an exit code."""
    try:
        return fn()
    except NpcEngineError as exc:
        code = 3 if isinstance(exc, BackendError) else 1
        if as_json:
            sys.stdout.write(json.dumps({"ok": False, "error": exc.to_dict()}, ensure_ascii=False) + "\n")
        else:
            sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(code) from None


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A world folder, or one persona YAML file.")],
    as_json: JsonOut = False,
) -> None:
    """Check a world folder (or one persona file) without writing anything."""

    def body() -> None:
        from npc_engine.settings import Settings

        if path.is_file():
            from personas.loader import load_persona

            persona = load_persona(path)
            payload: dict[str, Any] = {
                "ok": True,
                "personas": [{"id": persona.id, "kind": persona.kind, "name": persona.name}],
                "documents": {},
            }
        else:
            from npc_engine.world import validate_world

            payload = validate_world(path, max_bytes=Settings().max_file_bytes).as_dict()

        def human() -> None:
            typer.echo(f"ok: {path}")
            for p in payload["personas"]:
                typer.echo(f"  persona {p['id']} ({p['kind']}): {p['name']}")
            if payload["documents"]:
                docs = payload["documents"]
                typer.echo(
                    f"  documents: {docs['lore']} lore ({docs['secrets']} secret), {docs['faq']} FAQ, "
                    f"{docs['ticket']} tickets"
                )
            for warning in payload.get("warnings", []):
                typer.echo(f"  warning: {warning}", err=True)

        _emit(payload, as_json, human)

    _guard(as_json, body)


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="The world folder to index.")],
    data_dir: DataDir = None,
    tenant: Tenant = None,
    force: Annotated[bool, typer.Option("--force", help="Re-parse and re-embed everything.")] = False,
    as_json: JsonOut = False,
) -> None:
    """Index a world's personas and knowledge; unchanged files are skipped."""

    def body() -> None:
        from npc_engine.engine import Engine

        settings = _settings(data_dir, tenant)
        engine = Engine.from_settings(settings)
        try:
            with _progress(enabled=not as_json and sys.stderr.isatty()) as progress:
                result = _run(engine.ingest(path, force=force, progress=progress))
        finally:
            engine.close()
        report = result.knowledge
        payload = {"ok": True, "tenant": settings.tenant, **result.as_dict()}
        _emit(
            payload,
            as_json,
            lambda: typer.echo(
                f"ingested {path} into tenant {settings.tenant!r}: {report.files} files "
                f"({report.files_changed} changed, {report.files_removed} removed), "
                f"{report.chunks_embedded} chunks embedded, {report.chunks_deleted} deleted, "
                f"{result.personas} personas, in {report.seconds:.3f}s"
            ),
        )

    _guard(as_json, body)


class _progress:
    """A rich progress bar on a terminal; nothing otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._bar = Progress(
            "embedding", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        )
        self._bar.__enter__()

        def update(done: int, total: int) -> None:
            if self._task is None:
                self._task = self._bar.add_task("embed", total=total)
            self._bar.update(self._task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What the player said.")],
    persona: Annotated[str, typer.Option("--persona", help="The persona asked (its gating applies).")],
    flags: Annotated[str, typer.Option("--flags", help="The player's progress flags, comma-separated.")] = "",
    stage: Annotated[str | None, typer.Option("--stage", help="Relationship stage with this NPC.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many results.")] = 5,
    data_dir: DataDir = None,
    tenant: Tenant = None,
    as_json: JsonOut = False,
) -> None:
    """Retrieve what a persona may know about QUERY for a player."""

    def body() -> None:
        from npc_engine.engine import Engine

        settings = _settings(data_dir, tenant, embed_threads=1)
        engine = Engine.from_settings(settings)
        try:
            hits = _run(
                engine.search(
                    query, persona_id=persona, flags=[f for f in flags.split(",") if f], stage=stage, k=k
                )
            )
        finally:
            engine.close()
        results = [
            {
                "source_id": h.source_id,
                "chunk_id": h.chunk_id,
                "kind": h.kind,
                "title": h.title,
                "score": round(h.score, 6),
                "similarity": None if h.dense_score is None else round(h.dense_score, 4),
                "text": h.text,
            }
            for h in hits
        ]

        def human() -> None:
            if not results:
                typer.echo("no results")
            for i, h in enumerate(hits, 1):
                snippet = " ".join(h.text.split())[:160]
                typer.echo(f"{i}. {h.source_id}  ({h.title})  score={h.score:.4f}\n   {snippet}")

        _emit({"ok": True, "query": query, "persona": persona, "results": results}, as_json, human)

    _guard(as_json, body)


@app.command()
def schema() -> None:
    """Print the JSON Schema of persona files (for editors' YAML validation)."""
    from personas.loader import persona_json_schema

    typer.echo(json.dumps(persona_json_schema(), indent=2, ensure_ascii=False))


@app.command("import-card")
def import_card(
    file: Annotated[Path, typer.Argument(help="A SillyTavern Character Card (V2 or V1) JSON file.")],
    world: Annotated[Path, typer.Option("--world", help="World folder to write the persona and lore into.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing files.")] = False,
    as_json: JsonOut = False,
) -> None:
    """Import a character card as an NPC persona plus its lorebook as lore files."""

    def body() -> None:
        from personas.card import load_card

        imported = load_card(file)
        written = imported.write_to(world, overwrite=overwrite)
        payload = {
            "ok": True,
            "persona": imported.persona.id,
            "lore": len(imported.lore),
            "files": [str(p) for p in written],
        }
        _emit(
            payload,
            as_json,
            lambda: typer.echo(
                f"imported {file} as persona {imported.persona.id!r} with {len(imported.lore)} lore entries:\n  "
                + "\n  ".join(str(p) for p in written)
            ),
        )

    _guard(as_json, body)


def _register_chat() -> None:
    from npc_engine.cli.chat import chat

    app.command("chat")(chat)


_register_chat()


def _register_admin() -> None:
    from npc_engine.cli.admin import keys_app, tenants_app

    app.add_typer(tenants_app, name="tenants")
    app.add_typer(keys_app, name="keys")


_register_admin()


def _register_serve() -> None:
    from npc_engine.cli.serve import serve

    app.command("serve")(serve)


_register_serve()


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    from npc_engine.logging import configure_logging

    configure_logging("WARNING")
    try:
        code = app(args=argv, standalone_mode=False)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
