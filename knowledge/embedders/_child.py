"""The embedder process behind :class:`knowledge.embedders.process.ProcessEmbedder` (``python -m``)."""

from __future__ import annotations

import sys

from knowledge.embedders.e5 import E5Embedder
from knowledge.embedders.process import read_frame, write_frame


def main() -> None:  # pragma: no cover - runs in the child process
    threads, batch = (int(a) for a in sys.argv[1:3])
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames may reach the parent's pipe
    try:
        embedder = E5Embedder(threads=threads, batch_size=batch)
        embedder.embed_sync(["warm up"], kind="query")
    except Exception as exc:
        write_frame(sink, ("error", f"{type(exc).__name__}: {exc}"))
        return
    write_frame(sink, ("ready", (embedder.id, embedder.dim)))
    while True:
        try:
            texts, kind = read_frame(source)
        except EOFError:
            return
        try:
            answer: tuple[str, object] = ("ok", embedder.embed_sync(texts, kind=kind))
        except Exception as exc:
            answer = ("error", f"{type(exc).__name__}: {exc}")
        try:
            write_frame(sink, answer)
        except OSError:  # the parent is gone or closed its end: stop quietly
            return


if __name__ == "__main__":
    main()
