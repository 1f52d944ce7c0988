"""Admin routes (role ``admin``): the tenant's personas, and ingesting its world.

``POST /v1/world`` takes the world folder (``world.yaml``, ``personas/``, ``lore/``, ``faq/``,
``tickets/``) packed as a ``.tar.gz``, e.g. ``tar -czf world.tgz -C my_world .``. It is
unpacked with :mod:`tarfile`'s ``data`` filter (no absolute paths, no ``..``, no links out of
the folder, no device files) into ``<data_dir>/worlds/<tenant>/`` and ingested from there.
The path is the same on every worker, so a later upload updates the same sources (unchanged
files cost nothing) instead of adding a second copy. Everything is validated before anything
is written: a bad persona file is a 400 naming the file and line, and the stored world and
index stay as they were.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tarfile
import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from npc_engine.errors import InvalidInputError, NotFoundError, RequestTooLargeError
from npc_engine.server.deps import AdminDep, EngineDep
from npc_engine.server.errors import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter(tags=["admin"], responses=ERROR_RESPONSES)
_MAX_MEMBERS = 20_000


class PersonaSummary(BaseModel):
    id: str
    kind: str
    name: str


class PersonaList(BaseModel):
    personas: list[PersonaSummary]


class IngestOut(BaseModel):
    """What an ingest did (counts of files and chunks added, changed, removed; timings)."""

    model_config = {"extra": "allow"}

    personas: int
    world_changed: bool


@router.get("/personas", operation_id="list_personas", response_model=PersonaList, summary="The personas")
async def list_personas(engine: EngineDep, principal: AdminDep) -> PersonaList:
    """Every NPC and support agent of the tenant's world."""
    docs = await engine.state.list_personas(principal.tenant)
    return PersonaList(
        personas=[
            PersonaSummary(id=d["id"], kind=d.get("kind", "npc"), name=d.get("name") or d["id"]) for d in docs
        ]
    )


@router.get("/personas/{persona_id}", operation_id="get_persona", summary="One persona document")
async def get_persona(
    persona_id: Annotated[str, Path(min_length=1, max_length=120)], engine: EngineDep, principal: AdminDep
) -> dict[str, Any]:
    """The validated persona, as stored (the persona file's fields with defaults filled in)."""
    data = await engine.state.get_persona(principal.tenant, persona_id)
    if data is None:
        raise NotFoundError(f"no persona {persona_id!r} in this tenant; GET /v1/personas lists them")
    return data


@router.post(
    "/world",
    operation_id="ingest_world",
    response_model=IngestOut,
    summary="Upload and ingest the world folder (.tar.gz)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def ingest_world(
    request: Request,
    engine: EngineDep,
    principal: AdminDep,
    force: Annotated[bool, Query(description="Re-embed everything, even unchanged files.")] = False,
) -> IngestOut:
    """Validate, then index the world: personas, lore, FAQ and tickets (unchanged files cost nothing)."""
    limit = engine.settings.max_upload_bytes
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > limit:
            raise RequestTooLargeError(f"the upload is over {limit} bytes (NPC_MAX_UPLOAD_BYTES)")
    if not data:
        raise InvalidInputError("send the world folder as a .tar.gz body (tar -czf world.tgz -C my_world .)")
    target = engine.settings.data_dir / "worlds" / principal.tenant
    root = await asyncio.to_thread(_unpack, bytes(data), target)
    result = await engine.ingest(root, tenant=principal.tenant, force=force)
    return IngestOut.model_validate(result.as_dict())


def _unpack(data: bytes, target: FsPath) -> FsPath:
    """Unpack into a fresh folder, then swap it in for ``target``; returns the world's root."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = FsPath(tempfile.mkdtemp(prefix=".upload-", dir=target.parent))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
                members = archive.getmembers()
                if len(members) > _MAX_MEMBERS:
                    raise InvalidInputError(
                        f"the archive has {len(members)} entries; the limit is {_MAX_MEMBERS}"
                    )
                archive.extractall(staging, filter="data")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise InvalidInputError(
                f"the body is not a readable .tar.gz ({exc}); pack the world with tar -czf world.tgz -C my_world ."
            ) from None
        root = _world_root(staging)
        old = target.with_name(target.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        return target / root.relative_to(staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _world_root(folder: FsPath) -> FsPath:
    """The folder holding ``world.yaml``: the archive's top, or its single top-level folder."""
    if (folder / "world.yaml").is_file():
        return folder
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / "world.yaml").is_file():
        return entries[0]
    raise InvalidInputError(
        "the archive has no world.yaml at its top (or in its single top-level folder); "
        "pack the world folder itself: tar -czf world.tgz -C my_world ."
    )
