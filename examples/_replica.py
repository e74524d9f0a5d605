"""Shared by the examples: use `HFSPACES_ENDPOINTS` when set, else start the embedded replica."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def endpoints() -> Iterator[None]:
    """Point the library at the replica for the duration of the block (unless configured)."""
    if os.environ.get("HFSPACES_ENDPOINTS"):
        yield
        return
    from hfspaces.replica import JANUS_SPACE, PHI4_SPACE, Replica, ReplicaConfig

    with Replica(ReplicaConfig(token_delay=0.02)).start() as replica:
        os.environ["HFSPACES_ENDPOINTS"] = ",".join(
            f"{space}={replica.url_for(space)}" for space in (JANUS_SPACE, PHI4_SPACE)
        )
        os.environ.setdefault("HF_ENDPOINT", replica.hub_url)
        print(f"(embedded replica at {replica.base_url})")
        try:
            yield
        finally:
            del os.environ["HFSPACES_ENDPOINTS"]
