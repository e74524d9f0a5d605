"""Embedded replica of the two Hugging Face ZeroGPU Spaces the client talks to.

    with Replica(ReplicaConfig(image_size=64)) as replica:
        replica.url_for(JANUS_SPACE)   # http://127.0.0.1:PORT/spaces/deepseek-ai/janus-pro-7b
        replica.hub_url                # http://localhost:PORT (the Hub stub, another host name)
        replica.configure(join_status=503, join_fail_count=2)
        replica.stats()["joins"]       # {space: {"fn_index": count}}

Modules: ``janus``/``phi4`` (the gradio apps), ``backends`` (deterministic Pillow models),
``zerogpu`` (JWT, identity, quota), ``hub`` (JWT route), ``faults`` (what to break),
``middleware`` (wire-level faults and counters), ``stats``, ``server`` (``Replica``),
``cli`` (``python -m hfspaces.replica``). ``Replica`` (gradio, uvicorn) is imported lazily
so that ``ReplicaConfig`` and the Space ids are cheap to import. Nothing here imports the
rest of ``hfspaces``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .config import JANUS_SPACE, PHI4_SPACE, SPACES, ReplicaConfig

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

if TYPE_CHECKING:
    from .server import Replica

__all__ = ["JANUS_SPACE", "PHI4_SPACE", "SPACES", "Replica", "ReplicaConfig", "main"]


def __getattr__(name: str) -> Any:
    if name == "Replica":
        from .server import Replica

        return Replica
    if name == "main":
        from .cli import main

        return main
    raise AttributeError(name)
