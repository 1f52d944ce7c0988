"""An embedder in its own process, so that the engine's Python work never waits on it for the GIL.

The bundled e5 engine is driven by many short calls from Python per query, and each needs
the GIL back. In a server the event loop and the SQL threads run Python at the same time,
so in-process a query embedding kept waiting for the GIL: an NPC turn's embedding took
2-4 ms longer than the same embedding alone, and 2.4 times as long beside a busy Python
thread. In a child process it has a GIL of its own; a request and its answer cross a pipe
(about 0.4 ms for one query).

The child is ``python -m knowledge.embedders._child THREADS BATCH`` (a plain subprocess:
nothing of the parent's ``__main__`` is imported, so scripts need no ``if __name__``
guard). It loads the model, answers ``ready``, then serves length-prefixed pickled
``(texts, kind)`` requests in order on stdin/stdout; closing its stdin stops it. The parent
talks to it from one dedicated thread. A child found dead is replaced on the next call;
a call in flight when it dies raises :class:`~npc_engine.errors.EmbedderError` (retrieval
then degrades to BM25). ``NPC_EMBED_PROCESS=false`` keeps the model in-process.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import pickle
import struct
import subprocess
import sys
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from knowledge.embedders.base import EmbedKind
from npc_engine.errors import EmbedderError

__all__ = ["ProcessEmbedder", "read_frame", "write_frame"]

_HEADER = struct.Struct("!I")


def write_frame(out: IO[bytes], value: object) -> None:
    """One length-prefixed pickle frame (parent and child are the same installation)."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(data)) + data)
    out.flush()


def read_frame(source: IO[bytes]) -> Any:
    header = source.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the other side closed the pipe")
    (size,) = _HEADER.unpack(header)
    data = source.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the pipe mid-frame")
    return pickle.loads(data)


@dataclass(slots=True)
class _Waiting:
    texts: list[str]
    kind: EmbedKind
    future: asyncio.Future[np.ndarray]


@dataclass(slots=True)
class _Queue:
    waiting: collections.deque[_Waiting] = field(default_factory=collections.deque)
    drainer: asyncio.Task[None] | None = None


def _take_batch(waiting: collections.deque[_Waiting], limit: int) -> list[_Waiting]:
    """The first waiting call, and the ones after it of the same kind while they fit in ``limit`` texts."""
    batch = [waiting.popleft()]
    size = len(batch[0].texts)
    while waiting and waiting[0].kind == batch[0].kind and size + len(waiting[0].texts) <= limit:
        size += len(waiting[0].texts)
        batch.append(waiting.popleft())
    return batch


class ProcessEmbedder:
    """The bundled e5 embedder in a child process; the same seam as any embedder."""

    def __init__(self, *, threads: int = 1, batch_size: int = 32) -> None:
        from knowledge.embedders.e5 import E5Embedder

        self.id, self.dim = E5Embedder.id, E5Embedder.dim
        self.threads, self.batch_size = threads, batch_size
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        # one queue per event loop (an engine may be driven from more than one, one at a time)
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()
        process = subprocess.Popen(
            [sys.executable, "-m", "knowledge.embedders._child", str(self.threads), str(self.batch_size)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        try:
            status, payload = read_frame(process.stdout)
        except EOFError:
            self._process = process
            self._stop()
            raise EmbedderError("the embedder process exited while starting") from None
        if status != "ready" or tuple(payload) != (self.id, self.dim):
            self._process = process
            self._stop()
            raise EmbedderError(f"the embedder process failed to start: {payload}")
        self._process = process
        return process

    def embed_sync(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            process = self._start()
            assert process.stdin is not None and process.stdout is not None
            try:
                write_frame(process.stdin, (list(texts), kind))
                status, payload = read_frame(process.stdout)
            except (EOFError, OSError, ValueError) as exc:  # ValueError: a pipe already closed
                self._stop()
                raise EmbedderError(f"the embedder process stopped: {exc}") from exc
        if status != "ok":
            raise EmbedderError(f"embedding failed: {payload}")
        return np.asarray(payload, dtype=np.float32)

    async def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray:
        """Embed ``texts``; calls that arrive while the child is busy are sent together.

        Coalescing: while one request is in the child, later calls wait in a queue; when the
        child is free, every waiting call of the same kind (up to ``batch_size`` texts) goes in
        one request, and each caller gets its own rows back. Under load a server's turns share
        the model's batched throughput instead of queueing one query at a time; a lone call
        waits for nothing. Nothing is delayed on purpose.
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="npc-embed-ipc")
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        queue.waiting.append(_Waiting(texts, kind, future))
        if queue.drainer is None or queue.drainer.done():
            # idle: this call goes to the child now, not one loop iteration later
            first = self._send(_take_batch(queue.waiting, self.batch_size), loop)
            queue.drainer = loop.create_task(self._drain(queue, loop, first))
        return await future

    def _send(
        self, batch: list[_Waiting], loop: asyncio.AbstractEventLoop
    ) -> tuple[list[_Waiting], asyncio.Future[np.ndarray]]:
        assert self._executor is not None
        texts = [t for w in batch for t in w.texts]
        call = functools.partial(self.embed_sync, texts, kind=batch[0].kind)
        return batch, loop.run_in_executor(self._executor, call)

    async def _drain(
        self,
        queue: _Queue,
        loop: asyncio.AbstractEventLoop,
        first: tuple[list[_Waiting], asyncio.Future[np.ndarray]],
    ) -> None:
        sent: tuple[list[_Waiting], asyncio.Future[np.ndarray]] | None = first
        while sent is not None:
            batch, running = sent
            try:
                vectors = await running
            except Exception as exc:
                for waiting in batch:
                    if not waiting.future.done():
                        waiting.future.set_exception(exc)
            else:
                start = 0
                for waiting in batch:
                    if not waiting.future.done():  # a caller that gave up is skipped
                        waiting.future.set_result(vectors[start : start + len(waiting.texts)])
                    start += len(waiting.texts)
            sent = self._send(_take_batch(queue.waiting, self.batch_size), loop) if queue.waiting else None

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def close(self) -> None:
        with self._lock:
            self._stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
