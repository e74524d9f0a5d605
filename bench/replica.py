"""Serve the replica (`python -m hfspaces.replica` arguments) for the benchmark.

The replica binds its own listening socket with `socket.socket(AF_INET)`, whose protocol
number is 0; asyncio only sets TCP_NODELAY on sockets whose `proto` is IPPROTO_TCP, so its
accepted connections keep Nagle's algorithm on. Then a response written as two segments
(headers, body) on a reused connection waits for the client's delayed ACK: ~40 ms per
request on loopback, which punishes clients that keep connections alive (uvicorn's own
`create_server` bind, as on a real Space, does set TCP_NODELAY). Here TCP_NODELAY is set on
every accepted TCP socket; `BENCH_REPLICA_AS_IS=1` serves it unchanged.
"""

from __future__ import annotations

import asyncio.base_events
import os
import socket
import sys


def _set_nodelay(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


if __name__ == "__main__":
    if os.environ.get("BENCH_REPLICA_AS_IS") != "1":
        asyncio.base_events._set_nodelay = _set_nodelay  # type: ignore[attr-defined]
    from hfspaces.replica.cli import main

    sys.exit(main(sys.argv[1:]))
