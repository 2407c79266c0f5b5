"""A server run on a daemon thread on the loopback interface: the lifecycle the local gateway and the
embedded AWS endpoint share. Must never bind beyond 127.0.0.1 by default."""

from __future__ import annotations

import threading
from typing import Protocol


class _Server(Protocol):
    server_port: int

    def serve_forever(self) -> None: ...
    def shutdown(self) -> None: ...
    def server_close(self) -> None: ...


class BackgroundServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self, server: _Server, name: str) -> None:
        """Serve on a thread; port 0 asks the OS for a free port, read back here."""
        self._server = server
        self.port = server.server_port
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
