"""Shared by the examples: use `HFSPACES_ENDPOINTS` when set, else start the embedded replica.

`settings()` yields keyword arguments for a model or tool (`endpoint=` a per-Space mapping,
`hub_url=`), which shows how to target any endpoint explicitly; `endpoints()` points the
whole library at the replica through the environment instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:
    import hfspaces  # noqa: F401
except ImportError:  # a plain checkout: use the sources next to this file
    ROOT = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]


@contextlib.contextmanager
def settings(token_delay: float = 0.02) -> Iterator[dict[str, Any]]:
    """Model/tool keyword arguments: none if `HFSPACES_ENDPOINTS` is set, else the
    embedded replica's endpoints (it runs for the duration of the block)."""
    if os.environ.get("HFSPACES_ENDPOINTS"):
        yield {}
        return
    from hfspaces.replica import SPACES, Replica, ReplicaConfig

    with Replica(ReplicaConfig(token_delay=token_delay)).start() as replica:
        print(f"(HFSPACES_ENDPOINTS is unset: started the embedded replica at {replica.base_url})")
        mapping = {space: replica.url_for(space) for space in SPACES}
        yield {"endpoint": mapping, "hub_url": replica.hub_url}


@contextlib.contextmanager
def endpoints(token_delay: float = 0.02) -> Iterator[None]:
    """Point the library at the replica through the environment for the block."""
    with settings(token_delay) as found:
        if not found:
            yield
            return
        os.environ["HFSPACES_ENDPOINTS"] = ",".join(
            f"{k}={v}" for k, v in found["endpoint"].items()
        )
        previous_hub = os.environ.get("HF_ENDPOINT")
        os.environ["HF_ENDPOINT"] = found["hub_url"]
        try:
            yield
        finally:
            del os.environ["HFSPACES_ENDPOINTS"]
            if previous_hub is None:
                del os.environ["HF_ENDPOINT"]
            else:
                os.environ["HF_ENDPOINT"] = previous_hub
