"""``client.world``: upload and index a world folder (needs an ``admin`` key).

A folder is packed in memory as a ``.tar.gz`` (paths relative to the folder, so ``world.yaml``
is at the archive's root; names starting with ``.`` are left out). A ``.tar.gz`` file, or its
bytes, is sent as it is.
"""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from pathlib import Path

from .._request import Call
from ..types import IngestResult
from ._common import AsyncResource, SyncResource

__all__ = ["AsyncWorld", "World", "pack_world"]

WorldSource = str | os.PathLike[str] | bytes


def pack_world(folder: str | os.PathLike[str]) -> bytes:
    """The folder's files as a gzipped tarball, paths relative to the folder, in a stable order."""
    root = Path(folder)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                continue
            info = tar.gettarinfo(str(path), arcname=rel.as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    return buffer.getvalue()


def _ingest_call(source: WorldSource, force: bool) -> Call:
    folder: Path | None = None
    if isinstance(source, bytes):
        archive = source
    else:
        path = Path(source)
        if path.is_dir():
            folder, archive = path, pack_world(path)
        elif path.is_file():
            archive = path.read_bytes()
        else:
            raise FileNotFoundError(f"no world folder or archive at {path}")
    return Call(
        op="world.ingest",
        method="POST",
        path="/v1/world",
        args={"folder": folder, "archive": archive, "force": force},
        params={"force": force},
        content=archive,
        content_type="application/gzip",
        replay_safe=True,  # ingesting the same files twice changes nothing
    )


class World(SyncResource):
    def ingest(self, path_or_bytes: WorldSource, *, force: bool = False) -> IngestResult:
        """Validate and index a world (a folder, a ``.tar.gz`` file, or its bytes); unchanged files cost nothing."""
        return IngestResult.model_validate(self._backend.request(_ingest_call(path_or_bytes, force)))


class AsyncWorld(AsyncResource):
    async def ingest(self, path_or_bytes: WorldSource, *, force: bool = False) -> IngestResult:
        """Validate and index a world (a folder, a ``.tar.gz`` file, or its bytes); unchanged files cost nothing."""
        call = await asyncio.to_thread(_ingest_call, path_or_bytes, force)  # packing reads files
        return IngestResult.model_validate(await self._backend.request(call))
