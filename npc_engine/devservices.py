"""Real services on loopback for tests, benchmarks and developers: a ``chroma run`` server,
llama.cpp's OpenAI-compatible server with the bundled GGUF (:func:`llama_server`), waiting
for an ``npc-engine serve`` process to be ready (:func:`wait_ready`), and a TCP proxy whose
link can be cut (:class:`CuttableProxy`: a database outage on demand).

::

    with chroma_server(tmp / "chroma") as chroma:       # a free port on 127.0.0.1
        settings = Settings(vector_store=chroma.spec)   # "chroma+http://127.0.0.1:PORT"
        ...
        chroma.restart()                                # same port, same data (fault tests)

The server is chromadb's own ``chroma`` console script (the one installed next to this
Python), started with telemetry off and bound to 127.0.0.1, so nothing leaves the machine.
Its output goes to ``PATH/chroma.log``; a server that does not answer its heartbeat in time
is stopped and reported with the tail of that log. On Linux the server also gets SIGTERM
when the thread that started it ends (``PR_SET_PDEATHSIG``), so a killed test run leaves no
server behind: start it from a thread that outlives it (the main thread, say).
Nothing happens at import time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from npc_engine.errors import ConfigError, VectorStoreError

__all__ = [
    "ChromaServer",
    "CuttableProxy",
    "chroma_server",
    "free_port",
    "llama_server",
    "postgres_schema",
    "wait_ready",
]

_HOST = "127.0.0.1"
_HEARTBEAT = "/api/v2/heartbeat"  # chromadb 1.x serves only the v2 API
_LOG_TAIL = 2000


def wait_ready(
    base_url: str,
    *,
    process: subprocess.Popen[bytes] | None = None,
    timeout_s: float = 120.0,
    path: str = "/readyz",
) -> None:
    """Wait until ``GET base_url + path`` answers 200; raise if ``process`` exits or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base_url}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"the server at {base_url} exited (code {process.returncode}) before it was ready"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server at {base_url} was not ready within {timeout_s:g} s")
        time.sleep(0.2)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, what makes the child get SIGTERM when the thread that started it dies."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    except (OSError, AttributeError):
        return None

    def set_it() -> None:  # runs in the child between fork and exec
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return set_it


class ChromaServer:
    """One ``chroma run --path PATH --host 127.0.0.1 --port PORT`` process.

    ``start`` returns once ``GET /api/v2/heartbeat`` answers (within ``startup_timeout_s``);
    ``stop`` terminates it (killed after 10 s) and may be called any number of times;
    ``restart`` brings it back on the same port over the same data.
    """

    def __init__(self, path: Path, port: int, *, startup_timeout_s: float = 60.0) -> None:
        self.path = path
        self.port = port
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{_HOST}:{self.port}"

    @property
    def spec(self) -> str:
        """What ``NPC_VECTOR_STORE`` takes to use this server."""
        return f"chroma+{self.url}"

    @property
    def log_path(self) -> Path:
        return self.path / "chroma.log"

    def start(self, *, wait: bool = True) -> None:
        """Start the server and wait for its heartbeat; a clear :class:`VectorStoreError` if it never answers.

        ``wait=False``: return once the process is started, and call :meth:`wait_until_up`
        later (from any thread: an event loop can start the server from its own long-lived
        thread, which the server's life is tied to, and wait for it in a worker thread).
        """
        if self.process is not None and self.process.poll() is None:
            return
        exe = Path(sys.executable).with_name("chroma")
        if not exe.exists():
            raise ConfigError(f"no chroma server script at {exe}: pip install 'chromadb==1.5.9'")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex((_HOST, self.port)) == 0:  # else its heartbeat would pass for ours
                raise VectorStoreError(f"cannot start a Chroma server on {self.url}: the port is taken")
        self.path.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        command = [str(exe), "run", "--path", str(self.path), "--host", _HOST, "--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_parent_death_signal(),
        )
        if wait:
            self.wait_until_up()

    def wait_until_up(self) -> None:
        """Return once the started server answers its heartbeat; else stop it and raise."""
        import httpx

        if self.process is None:
            raise VectorStoreError(f"the Chroma server on {self.url} is not started")
        deadline = time.monotonic() + self.startup_timeout_s
        why = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                why = f"it exited with status {self.process.returncode}"
                break
            try:
                if httpx.get(self.url + _HEARTBEAT, timeout=1.0).status_code == 200:
                    if self.process.poll() is None:
                        return
                    continue  # answered by someone else, and ours has exited: report that
            except httpx.HTTPError as exc:
                why = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
        else:
            why = f"no heartbeat within {self.startup_timeout_s:g} s ({why})"
        self.stop()
        raise VectorStoreError(
            f"the Chroma server on {self.url} did not start: {why}. "
            f"Last lines of {self.log_path}:\n{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_bytes()[-_LOG_TAIL:].decode("utf-8", "replace")
        except OSError as exc:
            return f"(cannot read the log: {exc})"

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s); a no-op when it is not running."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """Stop, then start again on the same port over the same data (for fault tests)."""
        self.stop()
        self.start()


@contextmanager
def chroma_server(
    path: Path, *, port: int | None = None, startup_timeout_s: float = 60.0
) -> Iterator[ChromaServer]:
    """A running :class:`ChromaServer` over ``path`` (on a free port unless given), stopped on exit."""
    server = ChromaServer(path, port or free_port(), startup_timeout_s=startup_timeout_s)
    try:
        server.start()
        yield server
    finally:
        server.stop()


class CuttableProxy:
    """A TCP proxy on a free loopback port to ``target`` (``host:port``) whose link can be cut.

    For fault tests and benchmarks: point a client at :attr:`address` instead of the service,
    then :meth:`cut` (every open connection is closed, new ones are accepted and closed at
    once, as when a database restarts or a network partition begins) and :meth:`heal`.
    Threads only; stopped on exit::

        with CuttableProxy("127.0.0.1:5432") as pg:
            url = f"postgresql+psycopg://postgres@{pg.address}/test"
            ...
            pg.cut()
            ...
            pg.heal()
    """

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host or _HOST, int(port))
        self._listener = socket.create_server((_HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut = False
        self._closed = False
        self.refused = 0  # connections accepted and closed while cut
        self._thread = threading.Thread(target=self._accept, name="cuttable-proxy", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{_HOST}:{self.port}"

    def cut(self) -> None:
        """Close every connection through the proxy, and refuse new ones until :meth:`heal`."""
        with self._lock:
            self._cut = True
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)

    def heal(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self._listener)
        self._thread.join(timeout=5)

    def __enter__(self) -> CuttableProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                if self._closed:
                    return
                time.sleep(0.01)  # a connection reset before it was accepted, or out of descriptors
                continue
            with self._lock:
                cut = self._cut
            if cut:
                self.refused += 1
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@contextmanager
def llama_server(
    log_dir: Path,
    *,
    model: Path | None = None,
    alias: str = "smollm2",
    threads: int = 1,
    context: int = 2048,
    startup_timeout_s: float = 90.0,
) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server (:mod:`npc_engine.llm.llama_server`) on a free loopback
    port, serving ``model`` (default: the bundled GGUF) as ``alias``; yields its base URL
    (``http://127.0.0.1:PORT/v1``, for ``NPC_LLM=openai:URL#ALIAS``) once ``/v1/models``
    answers, and stops it on exit. Its output goes to ``log_dir/llama-server.log``."""
    if model is None:
        from npc_engine.llm.llamacpp import bundled_gguf

        model = bundled_gguf()
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "llama-server.log"
    with log_path.open("ab") as log:  # not a pipe: the model's load log would fill it and block the server
        process = subprocess.Popen(
            [sys.executable, "-m", "npc_engine.llm.llama_server", "--model", str(model),
             "--host", _HOST, "--port", str(port), "--n_threads", str(threads), "--n_ctx", str(context),
             "--model_alias", alias],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_parent_death_signal(),
        )  # fmt: skip
    base = f"http://{_HOST}:{port}/v1"
    try:
        try:
            wait_ready(base, process=process, timeout_s=startup_timeout_s, path="/models")
        except (RuntimeError, TimeoutError) as exc:
            tail = log_path.read_bytes()[-_LOG_TAIL:].decode("utf-8", "replace")
            raise RuntimeError(
                f"llama.cpp's server did not start: {exc}. Last lines of {log_path}:\n{tail}"
            ) from None
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def postgres_schema(base_url: str, *, prefix: str = "npc") -> Iterator[str]:
    """A new, empty schema ``{prefix}_XXXXXXXX`` in the PostgreSQL at ``base_url``; yields a URL whose
    connections use it (``search_path``), and drops it with everything in it on exit. For tests and
    benchmarks that must not touch the database's other schemas."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
