"""``npc-engine tenants ...`` and ``npc-engine keys ...``: tenants and their API keys.

A key's secret is printed once, by ``keys create``; only its hash is stored, so no command
can show it again (``keys list`` shows ids, roles and names). Bad input (an unknown tenant or
role, an unknown key id) exits 1 with a line that says what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from npc_engine.errors import InvalidInputError

__all__ = ["keys_app", "tenants_app"]

T = TypeVar("T")

tenants_app = typer.Typer(no_args_is_help=True, help="Tenants: one per game.")
keys_app = typer.Typer(
    no_args_is_help=True, help="API keys: one tenant and one role (game, staff, admin) each."
)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where state lives (env NPC_DATA_DIR, default ./.npc-engine)."),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]

_TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_DISPLAY_NAME = 200  # = npc_engine.state.store.TENANT_NAME_MAX (not imported: the CLI starts light)
"""The longest tenant display name, in characters (the column's size on PostgreSQL)."""
SECRET_NOTE = "Store it now: this is the only time it is shown (only its hash is kept)."


def _with_state(data_dir: Path | None, fn: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    """Open the state store named by the settings, run ``fn(state)``, close it."""
    from npc_engine.cli.main import _run, _settings
    from npc_engine.state.store import SqlStateStore

    settings = _settings(data_dir, None)
    if not settings.state_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    state = SqlStateStore(settings.resolved_state_url())
    try:
        return _run(fn(state))
    finally:
        state.close()


def _display_name(value: str | None) -> str | None:
    """``--display-name`` as stored, checked first: PostgreSQL would refuse it mid-write, SQLite never."""
    if value is None:
        return None
    shown = value.strip()
    if len(shown) > MAX_DISPLAY_NAME:
        raise InvalidInputError(f"--display-name has {len(shown)} characters; keep it to {MAX_DISPLAY_NAME}")
    if not all(ch.isprintable() for ch in shown):
        raise InvalidInputError("--display-name must be one line of printable text (no control characters)")
    return shown or None


def _when(at: float | None) -> str:
    return "" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@tenants_app.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="The tenant id: lowercase letters, digits, '-' and '_'.")],
    display_name: Annotated[
        str | None,
        typer.Option("--display-name", help=f"A human name, at most {MAX_DISPLAY_NAME} characters."),
    ] = None,
    data_dir: DataDir = None,
    as_json: JsonOut = False,
) -> None:
    """Create tenant NAME (nothing happens if it exists)."""
    from npc_engine.cli.main import _emit, _guard

    def body() -> None:
        if not _TENANT.match(name):
            raise InvalidInputError(
                f"tenant {name!r} is not a valid id: use 1-63 lowercase letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        shown = _display_name(display_name)

        async def run(state: Any) -> bool:
            existed: bool = await state.tenant_exists(name)
            await state.ensure_tenant(name, shown)
            return existed

        existed = _with_state(data_dir, run)
        _emit(
            {"ok": True, "tenant": name, "created": not existed},
            as_json,
            lambda: typer.echo(f"tenant {name!r} {'already exists' if existed else 'created'}"),
        )

    _guard(as_json, body)


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant the key belongs to.")],
    role: Annotated[str, typer.Option("--role", help="game | staff | admin")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
    data_dir: DataDir = None,
    as_json: JsonOut = False,
) -> None:
    """Create an API key and print its secret (once)."""
    from npc_engine.auth import create_key
    from npc_engine.cli.main import _emit, _guard

    def body() -> None:
        principal, secret = _with_state(
            data_dir, lambda state: create_key(state, tenant=tenant, role=role, name=name)
        )
        payload = {
            "ok": True,
            "key_id": principal.key_id,
            "tenant": principal.tenant,
            "role": principal.role,
            "name": principal.name,
            "secret": secret,
            "note": SECRET_NOTE,
        }

        def human() -> None:
            typer.echo(f"created {principal.role} key {principal.key_id} ({principal.name!r}) for {tenant!r}")
            typer.echo(f"secret: {secret}")
            typer.echo(SECRET_NOTE)

        _emit(payload, as_json, human)

    _guard(as_json, body)


@keys_app.command("list")
def keys_list(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant whose keys to list.")],
    data_dir: DataDir = None,
    as_json: JsonOut = False,
) -> None:
    """List a tenant's keys (ids, roles, names; never secrets)."""
    from npc_engine.cli.main import _emit, _guard
    from npc_engine.errors import NotFoundError

    def body() -> None:
        async def run(state: Any) -> list[Any]:
            if not await state.tenant_exists(tenant):
                raise NotFoundError(
                    f"no tenant {tenant!r}; create it with: npc-engine tenants create {tenant}"
                )
            keys: list[Any] = await state.list_api_keys(tenant)
            return keys

        keys = _with_state(data_dir, run)
        rows = [
            {
                "key_id": k.key_id,
                "role": k.role,
                "name": k.name,
                "created_at": _when(k.created_at),
                "revoked_at": _when(k.revoked_at) or None,
            }
            for k in keys
        ]

        def human() -> None:
            if not rows:
                typer.echo(f"no keys in tenant {tenant!r}")
            for r in rows:
                state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
                typer.echo(f"{r['key_id']}  {r['role']:<5}  {r['name']}  created {r['created_at']}  {state}")

        _emit({"ok": True, "tenant": tenant, "keys": rows}, as_json, human)

    _guard(as_json, body)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")],
    data_dir: DataDir = None,
    as_json: JsonOut = False,
) -> None:
    """Revoke a key at once (its console sessions end too)."""
    import time

    from npc_engine.cli.main import _emit, _guard

    def body() -> None:
        key = _with_state(data_dir, lambda state: state.revoke_api_key(key_id, now=time.time()))
        _emit(
            {"ok": True, "key_id": key.key_id, "tenant": key.tenant, "revoked_at": _when(key.revoked_at)},
            as_json,
            lambda: typer.echo(f"revoked key {key.key_id} ({key.name!r}) of tenant {key.tenant!r}"),
        )

    _guard(as_json, body)
